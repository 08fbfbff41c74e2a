//! Response futures.

use std::{
    convert::Infallible,
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use http::Response;
use pin_project_lite::pin_project;

use crate::{SseBody, layer::RouteBody};

type BoxFuture = Pin<Box<dyn Future<Output = Result<Response<SseBody>, Infallible>> + Send>>;

/// The response future of [`SseService`](crate::SseService).
pub struct ResponseFuture {
    inner: BoxFuture,
}

impl ResponseFuture {
    pub(crate) fn new(
        future: impl Future<Output = Result<Response<SseBody>, Infallible>> + Send + 'static,
    ) -> Self {
        Self {
            inner: Box::pin(future),
        }
    }
}

impl Future for ResponseFuture {
    type Output = Result<Response<SseBody>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
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
