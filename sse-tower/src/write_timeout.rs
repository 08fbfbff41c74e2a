//! Ending connections whose writes make no progress.

use std::{
    fmt,
    future::Future as _,
    io,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use pin_project_lite::pin_project;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    time::{Instant, Sleep},
};

pin_project! {
    /// An IO (such as an accepted `TcpStream`) whose writes fail with
    /// [`io::ErrorKind::TimedOut`] once one has been pending, making no progress, for longer
    /// than a limit; the server then drops the connection, and with it the stream's body.
    ///
    /// An SSE stream writes for hours, and a client that stops reading (a frozen tab, a peer
    /// that vanished behind a NAT) fills its socket's buffers: the server's write waits, the
    /// response body is no longer polled, and nothing in the body can end it. The hub has long
    /// closed such a connection as too slow and freed its places; this frees the socket and
    /// the connection task. Like nginx's `send_timeout`, the limit is on one write's lack of
    /// progress, not on the stream's life: a client that reads slowly but steadily is not cut.
    ///
    /// Reads pass through untouched; the timer exists only while a write is pending.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn serve(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    /// use std::time::Duration;
    /// use sse_tower::WriteTimeout;
    ///
    /// let (stream, _peer) = listener.accept().await?;
    /// let io = WriteTimeout::new(stream, Duration::from_secs(30));
    /// // hand `hyper_util::rt::TokioIo::new(io)` to hyper's connection builder
    /// # let _ = io; Ok(()) }
    /// ```
    pub struct WriteTimeout<IO> {
        #[pin]
        io: IO,
        limit: Duration,
        // Boxed, and only while a write is pending: an idle stream pays a pointer.
        stalled: Option<Pin<Box<Sleep>>>,
    }
}

impl<IO> WriteTimeout<IO> {
    /// Fails a write that makes no progress for `limit`.
    pub fn new(io: IO, limit: Duration) -> Self {
        Self {
            io,
            limit,
            stalled: None,
        }
    }

    /// The wrapped IO.
    pub fn get_ref(&self) -> &IO {
        &self.io
    }

    /// The wrapped IO, mutably.
    pub fn get_mut(&mut self) -> &mut IO {
        &mut self.io
    }

    /// Unwraps the IO.
    pub fn into_inner(self) -> IO {
        self.io
    }
}

/// Resolves a pending write: progress resets the timer, a timer that ran out is an error.
fn watch<T>(
    result: Poll<io::Result<T>>,
    stalled: &mut Option<Pin<Box<Sleep>>>,
    limit: Duration,
    cx: &mut Context<'_>,
) -> Poll<io::Result<T>> {
    if result.is_ready() {
        *stalled = None;
        return result;
    }
    let timer = stalled.get_or_insert_with(|| {
        Box::pin(tokio::time::sleep_until(
            Instant::now().checked_add(limit).unwrap_or_else(far_future),
        ))
    });
    match timer.as_mut().poll(cx) {
        Poll::Ready(()) => {
            *stalled = None;
            Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no write progress for {limit:?}: the client stopped reading"),
            )))
        }
        Poll::Pending => Poll::Pending,
    }
}

/// About thirty years from now: a limit too large to add is no limit.
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

impl<IO: AsyncWrite> AsyncWrite for WriteTimeout<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let result = this.io.poll_write(cx, buf);
        watch(result, this.stalled, *this.limit, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let result = this.io.poll_write_vectored(cx, bufs);
        watch(result, this.stalled, *this.limit, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let result = this.io.poll_flush(cx);
        watch(result, this.stalled, *this.limit, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }
}

impl<IO: AsyncRead> AsyncRead for WriteTimeout<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.project().io.poll_read(cx, buf)
    }
}

impl<IO: fmt::Debug> fmt::Debug for WriteTimeout<IO> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteTimeout")
            .field("io", &self.io)
            .field("limit", &self.limit)
            .field("stalled", &self.stalled.is_some())
            .finish()
    }
}
