//! The routing service: SSE at one path, the wrapped service everywhere else.

use std::{
    borrow::Cow,
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tower_service::Service;

use crate::{SseBody, SseService, future::ResponseFuture};

/// The service made by [`SseLayer`](crate::SseLayer): SSE at one path, the inner service elsewhere.
#[derive(Clone)]
pub struct SseRoute<S> {
    inner: S,
    path: Cow<'static, str>,
    sse: SseService,
}

impl<S> SseRoute<S> {
    /// Serves `sse` at `path` (an exact match) and `inner` everywhere else.
    pub fn new(inner: S, path: impl Into<Cow<'static, str>>, sse: SseService) -> Self {
        Self {
            inner,
            path: path.into(),
            sse,
        }
    }
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

pin_project! {
    /// The response future of [`SseRoute`](crate::SseRoute): the SSE endpoint's, or the inner
    /// service's.
    pub struct RouteFuture<F> {
        #[pin]
        kind: RouteKind<F>,
    }
}

pin_project! {
    #[project = RouteKindProj]
    enum RouteKind<F> {
        Sse { #[pin] future: ResponseFuture },
        Inner { #[pin] future: F },
    }
}

impl<F> RouteFuture<F> {
    pub(crate) fn sse(future: ResponseFuture) -> Self {
        Self {
            kind: RouteKind::Sse { future },
        }
    }

    pub(crate) fn inner(future: F) -> Self {
        Self {
            kind: RouteKind::Inner { future },
        }
    }
}

impl<F, B, E> Future for RouteFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<RouteBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            RouteKindProj::Sse { future } => future.poll(cx).map(|result| match result {
                Ok(response) => Ok(response.map(RouteBody::sse)),
                Err(never) => match never {},
            }),
            RouteKindProj::Inner { future } => future
                .poll(cx)
                .map(|result| result.map(|response| response.map(RouteBody::inner))),
        }
    }
}

impl<F> fmt::Debug for RouteFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteFuture").finish_non_exhaustive()
    }
}
