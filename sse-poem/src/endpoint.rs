//! The endpoint: a poem request in, the sse-tower response out.

use std::{convert::Infallible, io};

use http::request::Parts;
use http_body_util::BodyExt;
use poem::{Endpoint, Request, Response};
use sse_hub::Hub;
use sse_tower::{ClientAddr, SseService, StreamConfig};

/// A poem [`Endpoint`] that answers with an SSE stream from a [`Hub`], or with a JSON refusal.
///
/// The endpoint only translates. It hands the request's method, URI, version, headers and
/// request data to [`SseService::respond`], adding the client address from
/// [`remote_addr`](Request::remote_addr), and returns the service's response as it is: status,
/// headers, and a body that poem writes frame by frame as the stream produces them. Which
/// requests get a stream, and what it carries, is decided by sse-tower exactly as for every
/// other framework (see [`SseService`] for the checks, in order).
///
/// [`call`](Endpoint::call) never returns `Err`: a refusal is already a complete response
/// (`401`, `403`, `404`, `429`, ... with `{"error","message"}`), so poem's error handlers never
/// see it.
///
/// The endpoint is cheap to clone; clones share their limits and heartbeat timer.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use poem::{Endpoint, Request, Route, http::StatusCode};
/// use sse_poem::{Channel, Hub, SseEndpoint, StreamConfig};
///
/// let hub = Hub::new();
/// let app = Route::new().at(
///     "/api/sse/stream",
///     SseEndpoint::new(hub.clone(), StreamConfig::new([Channel::SYSTEM])),
/// );
///
/// let response = app
///     .get_response(Request::builder().uri_str("/api/sse/stream?channels=system").finish())
///     .await;
/// assert_eq!(response.status(), StatusCode::OK);
/// assert_eq!(response.content_type(), Some("text/event-stream"));
/// assert_eq!(hub.connection_count(), 1);
/// drop(response);
/// assert_eq!(hub.connection_count(), 0);
///
/// let response = app
///     .get_response(Request::builder().uri_str("/api/sse/stream?channels=billing").finish())
///     .await;
/// assert_eq!(response.status(), StatusCode::NOT_FOUND);
/// assert_eq!(
///     response.into_body().into_string().await.unwrap(),
///     r#"{"error":"not_found","message":"unknown channel \"billing\""}"#
/// );
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SseEndpoint {
    inner: SseService,
}

impl SseEndpoint {
    /// An endpoint streaming from `hub` as `config` says.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_poem::{Channel, Hub, RateLimit, SseEndpoint, StreamConfig};
    ///
    /// let endpoint = SseEndpoint::new(
    ///     Hub::new(),
    ///     StreamConfig::new([Channel::NOTIFICATIONS, Channel::TOASTS])
    ///         .require_auth(true)
    ///         .rate_limit(RateLimit::new(50, Duration::from_secs(60))),
    /// );
    /// assert_eq!(endpoint.get_ref().config().channels().len(), 2);
    /// ```
    pub fn new(hub: Hub, config: StreamConfig) -> Self {
        Self::from(SseService::new(hub, config))
    }

    /// The service that answers the requests.
    pub fn get_ref(&self) -> &SseService {
        &self.inner
    }

    /// The service that answers the requests, mutably.
    pub fn get_mut(&mut self) -> &mut SseService {
        &mut self.inner
    }

    /// The service that answers the requests.
    pub fn into_inner(self) -> SseService {
        self.inner
    }
}

/// An endpoint answering with an existing service, for example one that an axum or hyper part
/// of the same application also serves, so that both count against the same limits.
impl From<SseService> for SseEndpoint {
    fn from(inner: SseService) -> Self {
        Self { inner }
    }
}

impl Endpoint for SseEndpoint {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let response = self.inner.respond(parts(req)).await;
        Ok(Response::from(response.map(|body| {
            body.map_err(|never: Infallible| -> io::Error { match never {} })
        })))
    }
}

/// The request head as sse-tower reads it. The request data moves along whole, so the
/// [`Identity`](sse_hub::Identity) the application's middleware stored with
/// [`set_data`](Request::set_data), and anything a custom
/// [`Authenticator`](sse_hub::Authenticator) looks for, is there; a [`ClientAddr`] the
/// application stored itself takes precedence over poem's remote address.
fn parts(req: Request) -> Parts {
    let peer = req.remote_addr().as_socket_addr().copied();
    let (head, _body) = req.into_parts();
    let (mut parts, ()) = http::Request::new(()).into_parts();
    parts.method = head.method;
    parts.uri = head.uri;
    parts.version = head.version;
    parts.headers = head.headers;
    parts.extensions = head.extensions;
    if let Some(peer) = peer {
        if parts.extensions.get::<ClientAddr>().is_none() {
            parts.extensions.insert(ClientAddr(peer));
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http_body_util::combinators::BoxBody;
    use poem::{EndpointExt, Route, http::StatusCode};
    use sse_hub::{Channel, Identity, Role, UserId, testing::Events};
    use sse_tower::StreamConfig;

    use super::*;

    const PATH: &str = "/api/sse/stream";

    fn app(hub: &Hub, config: StreamConfig) -> Route {
        Route::new().at(PATH, SseEndpoint::new(hub.clone(), config))
    }

    fn get(query: &str) -> Request {
        Request::builder()
            .uri_str(format!("{PATH}?{query}"))
            .finish()
    }

    #[test]
    fn endpoint_is_send_sync() {
        sse_hub::testing::assert_send_sync::<SseEndpoint>();
    }

    #[tokio::test]
    async fn identity_from_request_data_reaches_the_hub() {
        let hub = Hub::new();
        let app = app(&hub, StreamConfig::new([Channel::CHAT]).require_auth(true)).around(
            |next, mut req: Request| async move {
                req.set_data(
                    Identity::user(UserId::new("ada").unwrap())
                        .with_role(Role::from_static("admin")),
                );
                next.call(req).await
            },
        );
        let response = app.call(get("channels=chat")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let info = hub.connections();
        assert_eq!(info.len(), 1);
        assert_eq!(info[0].user_id, Some(UserId::new("ada").unwrap()));
        assert_eq!(info[0].roles, [Role::from_static("admin")]);
        // Without a socket there is no remote address, and the endpoint invents none.
        assert_eq!(info[0].client_addr, None);
    }

    #[tokio::test]
    async fn identity_and_client_addr_from_extensions_reach_the_hub() {
        let hub = Hub::new();
        let app = app(&hub, StreamConfig::new([Channel::CHAT]).require_auth(true));
        let addr = "192.0.2.7:4711".parse().unwrap();
        let request = Request::builder()
            .uri_str(format!("{PATH}?channels=chat"))
            .extension(Identity::user(UserId::from(7)))
            .extension(ClientAddr(addr))
            .finish();
        let response = app.call(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let info = hub.connections();
        assert_eq!(info[0].user_id, Some(UserId::from(7)));
        assert_eq!(info[0].client_addr, Some(addr));
    }

    #[tokio::test]
    async fn the_stream_starts_with_retry_and_connected_and_ends_on_shutdown() {
        let hub = Hub::new();
        let response = app(&hub, StreamConfig::new([Channel::SYSTEM]))
            .call(get(""))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(headers["content-type"], "text/event-stream");
        assert_eq!(headers["cache-control"], "no-cache, no-transform");
        assert_eq!(headers["x-accel-buffering"], "no");
        let mut events = Events::from_body(BoxBody::from(response.into_body()));
        events.expect_event("connected").await;
        // The `retry:` hint came first.
        assert_eq!(events.retry(), Some(Duration::from_millis(3000)));
        assert_eq!(hub.shutdown(), 1);
        // The final reconnection hint, jittered so that clients do not come back all at once.
        assert!(events.expect_end().await.is_some());
        assert_eq!(hub.connection_count(), 0);
    }

    #[tokio::test]
    async fn refusals_come_from_sse_tower_unchanged() {
        let hub = Hub::new();
        let app = app(&hub, StreamConfig::new([Channel::CHAT]).require_auth(true));

        let response = app.call(get("")).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.content_type(), Some("application/json"));
        assert_eq!(
            response.into_body().into_string().await.unwrap(),
            r#"{"error":"unauthorized","message":"authentication required"}"#
        );

        let post = Request::builder()
            .method(http::Method::POST)
            .uri_str(PATH)
            .finish();
        let response = app.call(post).await.unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()["allow"], "GET");
        assert_eq!(
            response.into_body().into_string().await.unwrap(),
            r#"{"error":"method_not_allowed","message":"POST is not allowed; use GET"}"#
        );
        assert_eq!(hub.connection_count(), 0);
    }
}
