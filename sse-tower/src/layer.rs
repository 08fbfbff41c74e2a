//! The layer: serve SSE at one path, pass everything else to the wrapped service.

use std::{borrow::Cow, fmt};

use sse_hub::Hub;
use tower_layer::Layer;

use crate::{SseRoute, SseService, StreamConfig};

/// A tower [`Layer`] that serves an SSE endpoint at a path and passes every other request to
/// the service it wraps, unchanged.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use http::{Request, Response, StatusCode};
/// use http_body_util::Full;
/// use bytes::Bytes;
/// use sse_hub::{Channel, Hub};
/// use sse_tower::{SseLayer, StreamConfig};
/// use tower::{ServiceBuilder, ServiceExt, service_fn};
///
/// let app = ServiceBuilder::new()
///     .layer(SseLayer::new("/api/sse/stream", Hub::new(), StreamConfig::new([Channel::ALERTS])))
///     .service(service_fn(|_req: Request<()>| async {
///         Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from("hello"))))
///     }));
///
/// let sse = app.clone().oneshot(Request::get("/api/sse/stream").body(()).unwrap()).await.unwrap();
/// assert_eq!(sse.headers()["content-type"], "text/event-stream");
/// let other = app.oneshot(Request::get("/").body(()).unwrap()).await.unwrap();
/// assert_eq!(other.status(), StatusCode::OK);
/// # }
/// ```
#[derive(Clone)]
pub struct SseLayer {
    path: Cow<'static, str>,
    service: SseService,
}

impl SseLayer {
    /// Serves `config`'s endpoint from `hub` at `path` (an exact match).
    pub fn new(path: impl Into<Cow<'static, str>>, hub: Hub, config: StreamConfig) -> Self {
        Self {
            path: path.into(),
            service: SseService::new(hub, config),
        }
    }
}

impl fmt::Debug for SseLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseLayer")
            .field("path", &self.path)
            .field("service", &self.service)
            .finish()
    }
}

impl<S> Layer<S> for SseLayer {
    type Service = SseRoute<S>;

    fn layer(&self, inner: S) -> SseRoute<S> {
        SseRoute::new(inner, self.path.clone(), self.service.clone())
    }
}
