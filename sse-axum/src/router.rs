//! Mounting the endpoint in a `Router`.

use std::{
    convert::Infallible,
    net::SocketAddr,
    task::{Context, Poll},
};

use axum::{Router, extract::ConnectInfo, routing::MethodRouter};
use http::{Request, Response};
use sse_hub::Hub;
use sse_tower::{ClientAddr, ResponseFuture, SseBody, SseService, StreamConfig};
use tower_service::Service;

/// The endpoint as a route: `Router::route("/api/sse/stream", sse_axum::stream(hub, config))`.
///
/// Every method is routed to the endpoint, so that a wrong method gets the endpoint's own
/// `405` with a JSON body. The client address comes from [`serve`](crate::serve), or from
/// axum's [`ConnectInfo`] when the app is served by `axum::serve` with
/// `into_make_service_with_connect_info::<SocketAddr>()`; the identity is the
/// [`Identity`](sse_hub::Identity) the app's middleware inserted into the request extensions
/// (or what the config's authenticator says).
///
/// # Examples
///
/// ```
/// use axum::Router;
/// use sse_hub::{Channel, Hub};
/// use sse_tower::StreamConfig;
///
/// let hub = Hub::new();
/// let app: Router = Router::new().route(
///     "/api/sse/stream",
///     sse_axum::stream(hub.clone(), StreamConfig::new([Channel::NOTIFICATIONS])),
/// );
/// ```
pub fn stream<S>(hub: Hub, config: StreamConfig) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    axum::routing::any_service(AxumSse::new(SseService::new(hub, config)))
}

/// Adds an SSE endpoint to a [`Router`] in one call.
///
/// # Examples
///
/// ```
/// use axum::Router;
/// use sse_axum::SseRouterExt;
/// use sse_hub::{Channel, Hub};
/// use sse_tower::StreamConfig;
///
/// let app: Router = Router::new()
///     .sse_stream("/api/sse/stream", Hub::new(), StreamConfig::new([Channel::ALERTS]));
/// ```
pub trait SseRouterExt<S> {
    /// Serves `config`'s endpoint from `hub` at `path`.
    #[must_use]
    fn sse_stream(self, path: &str, hub: Hub, config: StreamConfig) -> Self;
}

impl<S> SseRouterExt<S> for Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    fn sse_stream(self, path: &str, hub: Hub, config: StreamConfig) -> Self {
        self.route(path, stream(hub, config))
    }
}

/// [`SseService`] with the client address taken from axum's [`ConnectInfo`].
///
/// Use it with `Router::route_service` to mount a service built by hand.
///
/// # Examples
///
/// ```
/// use axum::Router;
/// use sse_axum::AxumSse;
/// use sse_hub::{Channel, Hub};
/// use sse_tower::{SseService, StreamConfig};
///
/// let service = SseService::new(Hub::new(), StreamConfig::new([Channel::CHAT]));
/// let app: Router = Router::new().route_service("/chat/stream", AxumSse::new(service));
/// ```
#[derive(Debug, Clone)]
pub struct AxumSse {
    inner: SseService,
}

impl AxumSse {
    /// Wraps an endpoint.
    pub fn new(inner: SseService) -> Self {
        Self { inner }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &SseService {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut SseService {
        &mut self.inner
    }

    /// Unwraps the service.
    pub fn into_inner(self) -> SseService {
        self.inner
    }
}

impl<B> Service<Request<B>> for AxumSse {
    type Response = Response<SseBody>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Service::<Request<B>>::poll_ready(&mut self.inner, cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        if request.extensions().get::<ClientAddr>().is_none() {
            if let Some(ConnectInfo(addr)) = request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .copied()
            {
                request.extensions_mut().insert(ClientAddr(addr));
            }
        }
        self.inner.call(request)
    }
}
