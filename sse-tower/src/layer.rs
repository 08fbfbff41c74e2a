//! The layer: serve SSE at one path, pass everything else to the wrapped service.

use std::{
    borrow::Cow,
    fmt,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use sse_core::Hub;
use tower_layer::Layer;
use tower_service::Service;

use crate::{SseBody, SseService, StreamConfig, future::RouteFuture};

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
/// use sse_core::{Channel, Hub};
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
        SseRoute {
            inner,
            path: self.path.clone(),
            sse: self.service.clone(),
        }
    }
}

/// The service made by [`SseLayer`]: SSE at one path, the inner service elsewhere.
#[derive(Clone)]
pub struct SseRoute<S> {
    inner: S,
    path: Cow<'static, str>,
    sse: SseService,
}

impl<S> SseRoute<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: fmt::Debug> fmt::Debug for SseRoute<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseRoute")
            .field("inner", &self.inner)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SseRoute<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<RouteBody<ResBody>>;
    type Error = S::Error;
    type Future = RouteFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        if request.uri().path() == self.path {
            RouteFuture::sse(self.sse.call(request))
        } else {
            RouteFuture::inner(self.inner.call(request))
        }
    }
}

pin_project! {
    /// The response body of [`SseRoute`]: an SSE body or the inner service's.
    pub struct RouteBody<B> {
        #[pin]
        kind: BodyKind<B>,
    }
}

pin_project! {
    #[project = BodyKindProj]
    enum BodyKind<B> {
        Sse { #[pin] body: SseBody },
        Inner { #[pin] body: B },
    }
}

impl<B> RouteBody<B> {
    pub(crate) fn sse(body: SseBody) -> Self {
        Self {
            kind: BodyKind::Sse { body },
        }
    }

    pub(crate) fn inner(body: B) -> Self {
        Self {
            kind: BodyKind::Inner { body },
        }
    }
}

impl<B> Body for RouteBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().kind.project() {
            BodyKindProj::Sse { body } => body.poll_frame(cx).map(|frame| {
                frame.map(|result| match result {
                    Ok(frame) => Ok(frame),
                    Err(never) => match never {},
                })
            }),
            BodyKindProj::Inner { body } => body.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            BodyKind::Sse { body } => body.is_end_stream(),
            BodyKind::Inner { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            BodyKind::Sse { body } => body.size_hint(),
            BodyKind::Inner { body } => body.size_hint(),
        }
    }
}

impl<B> fmt::Debug for RouteBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BodyKind::Sse { body } => f.debug_tuple("RouteBody::Sse").field(body).finish(),
            BodyKind::Inner { .. } => f.write_str("RouteBody::Inner"),
        }
    }
}
