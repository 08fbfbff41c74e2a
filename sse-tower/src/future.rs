//! Response futures.

use std::{
    convert::Infallible,
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use http::Response;

use crate::SseBody;

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
