//! The leaf service: a request in, an SSE response out.

use std::{
    convert::Infallible,
    fmt,
    sync::Arc,
    task::{Context, Poll},
};

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderValue, Request, Response, header, request::Parts};
use sse_hub::{ConnectOptions, Connected, Hub, error::ConnectError, system};
use tower_service::Service;

use crate::{
    SseBody, StreamConfig, client_addr,
    error::Rejection,
    future::ResponseFuture,
    heartbeat::Heartbeat,
    limit::{Limits, Permits},
    observe,
    policy::{self, Authorized},
    request::{self, StreamRequest},
};

/// A tower [`Service`] that answers every request with an SSE stream from a [`Hub`], or with a
/// JSON refusal.
///
/// For each request it checks, in order: the method (GET), `Accept`, the query (channels and
/// `lastEventId`) and the `Last-Event-ID` header, the hub's state, the connection rate and the
/// stream caps, the identity (from the configured [`Authenticator`](sse_hub::Authenticator)),
/// the endpoint's roles and permissions, and each channel's rule. Then it opens the connection
/// on the hub and answers `200 OK` with `text/event-stream`. A refusal is a real HTTP status
/// with `{"error","message"}`, never a `200` followed by an error event.
///
/// The service is cheap to clone; clones share their limits and heartbeat timer.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use http::{Request, StatusCode};
/// use http_body_util::BodyExt;
/// use sse_hub::{Channel, Hub};
/// use sse_tower::{SseService, StreamConfig};
/// use tower::ServiceExt;
///
/// let hub = Hub::new();
/// let service = SseService::new(hub.clone(), StreamConfig::new([Channel::SYSTEM]));
///
/// let response = service
///     .clone()
///     .oneshot(Request::get("/?channels=system").body(()).unwrap())
///     .await
///     .unwrap();
/// assert_eq!(response.status(), StatusCode::OK);
/// assert_eq!(response.headers()["content-type"], "text/event-stream");
/// let first = response.into_body().frame().await.unwrap().unwrap().into_data().unwrap();
/// assert!(first.starts_with(b"retry: 3000\n\nevent: connected\n"));
///
/// let response = service
///     .oneshot(Request::get("/?channels=billing").body(()).unwrap())
///     .await
///     .unwrap();
/// assert_eq!(response.status(), StatusCode::NOT_FOUND);
/// # }
/// ```
#[derive(Clone)]
pub struct SseService {
    hub: Hub,
    shared: Arc<Shared>,
}

struct Shared {
    config: StreamConfig,
    limits: Limits,
    heartbeat: Arc<Heartbeat>,
    /// Whether the missing client address was reported (once per endpoint).
    warned_no_address: std::sync::atomic::AtomicBool,
    /// Whether this endpoint started the hub's presence driver (the hub runs one at most).
    presence_started: std::sync::atomic::AtomicBool,
}

impl SseService {
    /// A service streaming from `hub` as `config` says.
    pub fn new(hub: Hub, config: StreamConfig) -> Self {
        let heartbeat = Arc::new(Heartbeat::new(
            config.heartbeat_interval,
            hub.clock().clone(),
        ));
        Self {
            shared: Arc::new(Shared {
                limits: Limits::new(&config),
                heartbeat,
                warned_no_address: std::sync::atomic::AtomicBool::new(false),
                presence_started: std::sync::atomic::AtomicBool::new(false),
                config,
            }),
            hub,
        }
    }

    /// The hub.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// The configuration.
    pub fn config(&self) -> &StreamConfig {
        &self.shared.config
    }

    /// Answers one request: the response for a request's parts (the request body is not read).
    ///
    /// This is what [`call`](Service::call) does; adapters whose framework hands them the
    /// request parts call it directly.
    pub async fn respond(&self, parts: Parts) -> Response<SseBody> {
        match self.open(&parts).await {
            Ok(response) => response,
            Err(rejection) => {
                observe::rejected(&self.shared.config, &rejection);
                rejection.into_response()
            }
        }
    }

    async fn open(&self, parts: &Parts) -> Result<Response<SseBody>, Rejection> {
        let shared = &*self.shared;
        let config = &shared.config;
        // Every attempt counts against the connection rate, malformed ones included.
        let (peer, client_ip) = client_addr::client(parts, config);
        if peer.is_none()
            && shared.limits.per_address()
            && !shared
                .warned_no_address
                .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            observe::no_client_address();
        }
        shared.limits.check_rate(client_ip)?;
        let request = request::parse(parts, config)?;
        if self.hub.is_shutting_down() {
            return Err(Rejection::service_unavailable(
                "the server is shutting down",
                config.retry,
            ));
        }
        let mut permits = shared.limits.acquire(request.client_ip)?;
        let identity = config.authenticator.authenticate(parts).await?;
        let authorized = policy::authorize(config, &self.hub, identity, &request).await?;
        shared
            .limits
            .acquire_user(&mut permits, authorized.identity.user_id())?;
        self.connect(request, authorized, permits).await
    }

    async fn connect(
        &self,
        request: StreamRequest,
        authorized: Authorized,
        permits: Permits,
    ) -> Result<Response<SseBody>, Rejection> {
        let shared = &*self.shared;
        let config = &shared.config;
        let user = authorized.identity.user_id().cloned();
        let mut options = ConnectOptions::new(authorized.identity)
            .channels(authorized.channels)
            .permissions(authorized.permissions);
        if let Some(capacity) = config.queue_capacity {
            options = options.queue_capacity(capacity);
        }
        if request.presence {
            options = options.presence(true);
        }
        if let Some(peer) = request.peer {
            let addr = request
                .client_ip
                .map_or(peer, |ip| std::net::SocketAddr::new(ip, peer.port()));
            options = options.client_addr(addr);
        }
        if let Some(cursor) = request.last_event_id {
            options = options.last_event_id(cursor);
        }
        if !permits.is_empty() {
            // Freed as soon as the hub ends the stream, not only when the body is dropped.
            options = options.guard(permits);
        }
        let subscription = self.hub.connect(options).await.map_err(|err| match err {
            ConnectError::ShuttingDown => {
                Rejection::service_unavailable("the server is shutting down", config.retry)
            }
            ConnectError::NoChannels => Rejection::bad_request("no channel to subscribe to"),
            ConnectError::Auth(err) => err.into(),
            ConnectError::Banned { until } => Rejection::banned(until),
            ConnectError::CredentialsExpired => Rejection::new(
                http::StatusCode::UNAUTHORIZED,
                "credentials_expired",
                "the credentials expired",
            ),
            other => Rejection::new(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                other.to_string(),
            ),
        })?;
        let connected = subscription.connected();
        let tracker = observe::opened(config, &connected, user.as_ref());
        shared.heartbeat.ensure_started();
        if self.hub.announces_presence()
            && !shared
                .presence_started
                .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            // Returns at once if another endpoint's driver runs.
            let hub = self.hub.clone();
            tokio::spawn(async move { hub.run_presence(tokio::time::sleep).await });
        }
        let preamble = preamble(&connected, config, self.hub.clock().now_ms());
        let body = SseBody::stream(
            preamble,
            subscription,
            Arc::clone(&shared.heartbeat),
            config.connection_timeout,
            config.retry,
            tracker,
            self.hub.clock().clone(),
        );
        let mut response = Response::new(body);
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, no-transform"),
        );
        headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
        Ok(response)
    }
}

/// The `retry:` hint and the `connected` event, written as the stream's first chunk.
fn preamble(connected: &Connected, config: &StreamConfig, now_ms: u64) -> Bytes {
    let retry = system::retry(config.retry);
    let event = system::connected(connected, config.heartbeat_interval, now_ms);
    let mut buf = BytesMut::with_capacity(retry.len() + event.len());
    buf.put_slice(&retry);
    buf.put_slice(&event);
    buf.freeze()
}

impl<B> Service<Request<B>> for SseService {
    type Response = Response<SseBody>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // Only the parts are kept: the request body (and hyper's buffers behind it) is dropped
        // before the stream starts.
        let (parts, _) = request.into_parts();
        let this = self.clone();
        ResponseFuture::new(async move { Ok(this.respond(parts).await) })
    }
}

impl fmt::Debug for SseService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseService")
            .field("hub", &self.hub)
            .field("config", &self.shared.config)
            .field("limits", &self.shared.limits)
            .field("heartbeat", &self.shared.heartbeat)
            .finish()
    }
}
