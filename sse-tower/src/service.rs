//! The leaf service: a request in, an SSE response out.

use std::{
    convert::Infallible,
    fmt,
    sync::Arc,
    task::{Context, Poll},
};

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderValue, Request, Response, header, request::Parts};
use serde::Serialize;
use sse_core::{
    Channel, ConnectOptions, Connected, FrameBuilder, Hub, Identity, Permission,
    error::ConnectError,
};
use tower_service::Service;

use crate::{
    SseBody, StreamConfig,
    body::Tracker,
    error::Rejection,
    future::ResponseFuture,
    heartbeat::Heartbeat,
    limit::{Limits, Permits},
    request::{self, StreamRequest},
};

/// A tower [`Service`] that answers every request with an SSE stream from a [`Hub`], or with a
/// JSON refusal.
///
/// For each request it checks, in order: the method (GET), `Accept`, the query (channels and
/// `lastEventId`) and the `Last-Event-ID` header, the hub's state, the connection rate and the
/// stream caps, the identity (from the configured [`Authenticator`](sse_core::Authenticator)),
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
/// use sse_core::{Channel, Hub};
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
                tracing::info!(
                    target: "sse_tower",
                    status = rejection.status().as_u16(),
                    error = rejection.code(),
                    outcome = "rejected",
                    "sse stream refused: {}",
                    rejection.message()
                );
                #[cfg(feature = "metrics")]
                metrics::counter!(
                    "sse_connections_rejected_total",
                    "status" => rejection.status().as_str().to_owned()
                )
                .increment(1);
                rejection.into_response()
            }
        }
    }

    async fn open(&self, parts: &Parts) -> Result<Response<SseBody>, Rejection> {
        let shared = &*self.shared;
        let config = &shared.config;
        // Every attempt counts against the connection rate, malformed ones included.
        let (_, client_ip) = request::client(parts, config);
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
        let (identity, permissions, channels) = self.authorize(identity, &request).await?;
        shared
            .limits
            .acquire_user(&mut permits, identity.user_id())?;
        self.connect(request, channels, identity, permissions, permits)
            .await
    }

    /// Checks the endpoint's and the channels' rules; returns the identity, its effective
    /// permissions and the channels to subscribe to.
    ///
    /// A channel the client asked for by name must be allowed (401 or 403 otherwise); from the
    /// endpoint's default channels, those the client may not read are left out.
    async fn authorize(
        &self,
        identity: Option<Identity>,
        request: &StreamRequest,
    ) -> Result<(Identity, Vec<Permission>, Vec<Channel>), Rejection> {
        let config = &self.shared.config;
        let restricts = |rule: &crate::ChannelRule| {
            rule.require_auth || !rule.roles.is_empty() || !rule.permissions.is_empty()
        };
        let needs_identity = config.needs_identity()
            || (request.explicit
                && request
                    .channels
                    .iter()
                    .filter_map(|c| config.channel_rules.get(c))
                    .any(restricts));
        let identity = match identity {
            Some(identity) if identity.is_authenticated() => identity,
            _ if needs_identity => {
                return Err(Rejection::unauthorized("authentication required"));
            }
            other => other.unwrap_or_default(),
        };
        let permissions = match &config.permission_resolver {
            Some(resolver) => resolver.resolve(&identity).await?,
            None => self.hub.permission_resolver().resolve(&identity).await?,
        };
        let holds_role = |roles: &[sse_core::Role]| roles.iter().any(|r| identity.has_role(r));
        let holds_permission =
            |wanted: &[Permission]| wanted.iter().any(|p| permissions.contains(p));
        if !config.allowed_roles.is_empty() && !holds_role(&config.allowed_roles) {
            return Err(Rejection::forbidden(format!(
                "one of the roles {} is required",
                list(&config.allowed_roles)
            )));
        }
        if !config.allowed_permissions.is_empty() && !holds_permission(&config.allowed_permissions)
        {
            return Err(Rejection::forbidden(format!(
                "one of the permissions {} is required",
                list(&config.allowed_permissions)
            )));
        }
        let mut channels = Vec::with_capacity(request.channels.len());
        for channel in &request.channels {
            let refusal = config.channel_rules.get(channel).and_then(|rule| {
                if rule.require_auth && !identity.is_authenticated() {
                    Some(Rejection::unauthorized("authentication required"))
                } else if !rule.roles.is_empty() && !holds_role(&rule.roles) {
                    Some(Rejection::forbidden(format!(
                        "channel \"{channel}\" requires one of the roles {}",
                        list(&rule.roles)
                    )))
                } else if !rule.permissions.is_empty() && !holds_permission(&rule.permissions) {
                    Some(Rejection::forbidden(format!(
                        "channel \"{channel}\" requires one of the permissions {}",
                        list(&rule.permissions)
                    )))
                } else {
                    None
                }
            });
            match refusal {
                Some(refusal) if request.explicit => return Err(refusal),
                Some(_) => {}
                None => channels.push(channel.clone()),
            }
        }
        if channels.is_empty() {
            if !identity.is_authenticated() {
                return Err(Rejection::unauthorized("authentication required"));
            }
            return Err(Rejection::forbidden(
                "none of this endpoint's channels may be read with these credentials",
            ));
        }
        Ok((identity, permissions, channels))
    }

    async fn connect(
        &self,
        request: StreamRequest,
        channels: Vec<Channel>,
        identity: Identity,
        permissions: Vec<Permission>,
        permits: Permits,
    ) -> Result<Response<SseBody>, Rejection> {
        let shared = &*self.shared;
        let config = &shared.config;
        let user = identity.user_id().cloned();
        let mut options = ConnectOptions::new(identity)
            .channels(channels)
            .permissions(permissions);
        if let Some(capacity) = config.queue_capacity {
            options = options.queue_capacity(capacity);
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
        let subscription = self.hub.connect(options).await.map_err(|err| match err {
            ConnectError::ShuttingDown => {
                Rejection::service_unavailable("the server is shutting down", config.retry)
            }
            ConnectError::NoChannels => Rejection::bad_request("no channel to subscribe to"),
            ConnectError::Auth(err) => err.into(),
        })?;
        let connected = subscription.connected();
        tracing::info!(
            target: "sse_tower",
            connection_id = %connected.connection_id,
            user = user.as_ref().map(|u| u.as_str()),
            channels = ?connected.channels.iter().map(Channel::as_str).collect::<Vec<_>>(),
            resumed = connected.resumed,
            history_gap = connected.history_gap,
            outcome = "opened",
            "sse stream opened"
        );
        #[cfg(feature = "metrics")]
        {
            metrics::counter!("sse_connections_opened_total").increment(1);
            metrics::gauge!("sse_connections_active").increment(1.0);
        }
        shared.heartbeat.ensure_started();
        let preamble = preamble(&connected, config, self.hub.clock().now_ms());
        let tracker = Tracker {
            connection_id: connected.connection_id,
        };
        let body = SseBody::stream(
            preamble,
            subscription,
            Arc::clone(&shared.heartbeat),
            config.connection_timeout,
            config.retry,
            permits,
            tracker,
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

/// The `retry:` hint and the `connected` event.
fn preamble(connected: &Connected, config: &StreamConfig, now_ms: u64) -> Bytes {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Data<'a> {
        #[serde(flatten)]
        connected: &'a Connected,
        heartbeat_interval: u64,
    }
    #[derive(Serialize)]
    struct Payload<'a> {
        id: String,
        channel: &'static str,
        event: &'static str,
        data: Data<'a>,
        timestamp: u64,
    }
    let event = FrameBuilder::with_capacity(256)
        .event("connected")
        .expect("static event name")
        .json_data(&Payload {
            id: connected.connection_id.to_string(),
            channel: "system",
            event: "connected",
            data: Data {
                connected,
                heartbeat_interval: u64::try_from(config.heartbeat_interval.as_millis())
                    .unwrap_or(u64::MAX),
            },
            timestamp: now_ms,
        })
        .expect("the connected event always serialises")
        .finish();
    let retry = sse_core::frame::retry(config.retry);
    let mut buf = BytesMut::with_capacity(retry.len() + event.len());
    buf.put_slice(&retry);
    buf.put_slice(&event);
    buf.freeze()
}

fn list<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| format!("\"{i}\""))
        .collect::<Vec<_>>()
        .join(", ")
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
