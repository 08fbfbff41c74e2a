//! [`serve`]: the tuned server of `sse_tower::server` for an axum app.

use std::{
    convert::Infallible,
    task::{Context, Poll},
};

use axum::{body::Bytes, extract::ConnectInfo};
use http::{Request, Response};
use sse_tower::{
    ClientAddr,
    server::{self, Serve},
};
use tokio::net::TcpListener;
use tower_service::Service;

/// Serves an axum app (a `Router`, or any service like it) on `listener` with
/// [`sse_tower::server::serve`]: safe limits for long-lived streams (request head size and
/// time, TCP keepalive, write timeout, a connection cap) and a graceful shutdown tied to the
/// hub.
///
/// The client's address reaches the app both as [`ClientAddr`] and as axum's
/// [`ConnectInfo<SocketAddr>`](ConnectInfo), so handlers that extract `ConnectInfo` work unchanged.
///
/// # Examples
///
/// ```no_run
/// use axum::Router;
/// use sse_axum::SseRouterExt;
/// use sse_hub::{Channel, Hub};
/// use sse_tower::{StreamConfig, server};
///
/// #[tokio::main]
/// async fn main() -> std::io::Result<()> {
///     let hub = Hub::new();
///     let app = Router::new().sse_stream(
///         "/api/sse/stream",
///         hub.clone(),
///         StreamConfig::new([Channel::NOTIFICATIONS]),
///     );
///     let listener = server::bind("127.0.0.1:3000").await?;
///     sse_axum::serve(listener, app)
///         .with_graceful_shutdown(hub, async {
///             let _ = tokio::signal::ctrl_c().await;
///         })
///         .await
/// }
/// ```
pub fn serve<S, B>(listener: TcpListener, app: S) -> Serve<WithConnectInfo<S>>
where
    S: Service<Request<hyper::body::Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    server::serve(listener, WithConnectInfo { inner: app })
}

/// An app that also gets the client address as axum's [`ConnectInfo<SocketAddr>`](ConnectInfo); made by
/// [`serve`].
#[derive(Debug, Clone)]
pub struct WithConnectInfo<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for WithConnectInfo<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        if let Some(&ClientAddr(addr)) = request.extensions().get::<ClientAddr>() {
            request.extensions_mut().insert(ConnectInfo(addr));
        }
        self.inner.call(request)
    }
}
