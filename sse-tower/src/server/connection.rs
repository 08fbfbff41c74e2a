//! One connection: its first request head read with a size and time limit, then hyper.

use std::{
    convert::Infallible,
    future::Future,
    io,
    net::SocketAddr,
    pin::Pin,
    sync::atomic::{AtomicBool, Ordering::SeqCst},
    task::{Context, Poll, Waker},
};

use bytes::{Buf, Bytes, BytesMut};
use http::{Request, Response, StatusCode};
use http_body::Body;
use hyper::{body::Incoming, service::service_fn};
#[cfg(feature = "http2")]
use hyper_util::rt::TokioExecutor;
use hyper_util::rt::{TokioIo, TokioTimer};
use pin_project_lite::pin_project;
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf},
    net::TcpStream,
    sync::Notify,
};
use tower_service::Service;

use super::Options;
use crate::{ClientAddr, WriteTimeout, error::Rejection};

/// Serves one connection until it ends, or until the server stops and its requests end.
pub(super) async fn serve<S, B>(
    mut stream: TcpStream,
    peer: SocketAddr,
    service: S,
    options: &Options,
    stopping: &Stopping,
) where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    // The first request head is read here, so that a head too large gets a JSON answer and a
    // client trickling bytes is cut at the deadline; hyper reads the rest (and enforces the
    // same limits on later requests of the connection, answering 431 without a body).
    let head = match tokio::time::timeout(
        options.header_read_timeout,
        read_head(&mut stream, options.max_header_size),
    )
    .await
    {
        Ok(Ok(Head::Complete(head))) => head,
        Ok(Ok(Head::TooLarge)) => {
            let rejection = Rejection::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "request_header_fields_too_large",
                format!("the request head is over {} bytes", options.max_header_size),
            );
            let _ = write_and_close(&mut stream, &rejection).await;
            return;
        }
        // The client left, or did not finish its head in time.
        Ok(Ok(Head::Closed) | Err(_)) | Err(_) => return,
    };
    let io = TokioIo::new(WriteTimeout::new(
        Rewind::new(head, stream),
        options.write_timeout,
    ));
    let service = service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ClientAddr(peer));
        let mut service = service.clone();
        service.call(request)
    });
    if options.http2 {
        #[cfg(feature = "http2")]
        {
            // Boxed, so that the HTTP/1.1 connections of this server do not pay for the size
            // of an HTTP/2 one in their task.
            let mut connection = Box::pin(
                auto_builder(options)
                    .serve_connection(io, service)
                    .into_owned(),
            );
            if stopping.until(connection.as_mut()).await {
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            }
        }
        return;
    }
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .max_header_size(options.max_header_size)
        .serve_connection(io, service);
    tokio::pin!(connection);
    if stopping.until(connection.as_mut()).await {
        connection.as_mut().graceful_shutdown();
        let _ = connection.await;
    }
}

/// Tells every connection of a server that it stops.
#[derive(Debug, Default)]
pub(super) struct Stopping {
    stopped: AtomicBool,
    notify: Notify,
}

impl Stopping {
    /// Stops every connection: they finish their requests and close.
    pub(super) fn stop(&self) {
        self.stopped.store(true, SeqCst);
        self.notify.notify_waiters();
    }

    /// Runs `connection` until it ends (false) or the server stops (true).
    ///
    /// A connection's task is woken for every write of its stream; the stop signal is polled
    /// (which takes the `Notify`'s lock, shared by every connection) only until it has this
    /// task's waker, and a flag is read after that.
    async fn until<F: Future>(&self, mut connection: Pin<&mut F>) -> bool {
        let signal = self.notify.notified();
        tokio::pin!(signal);
        let mut registered: Option<Waker> = None;
        std::future::poll_fn(|cx| {
            if connection.as_mut().poll(cx).is_ready() {
                return Poll::Ready(false);
            }
            if self.stopped.load(SeqCst) {
                return Poll::Ready(true);
            }
            if !registered
                .as_ref()
                .is_some_and(|waker| waker.will_wake(cx.waker()))
            {
                if signal.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(true);
                }
                registered = Some(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
}

/// HTTP/1.1 and HTTP/2 (by its preface) with the server's limits.
#[cfg(feature = "http2")]
fn auto_builder(options: &Options) -> hyper_util::server::conn::auto::Builder<TokioExecutor> {
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    // The first request head was bounded by `read_head`; later ones by the read buffer.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .max_buf_size(options.max_header_size.max(8192));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(options.max_header_size).unwrap_or(u32::MAX));
    builder
}

/// Answers `503` with a JSON body and closes: the server holds its maximum of connections.
///
/// The answer waits for the request head (within the same limits as any other), since an HTTP
/// client takes a response that comes before its request for a broken connection.
pub(super) async fn refuse_busy(mut stream: TcpStream, options: &Options) {
    let head = tokio::time::timeout(
        options.header_read_timeout,
        read_head(&mut stream, options.max_header_size),
    )
    .await;
    if !matches!(head, Ok(Ok(Head::Complete(_) | Head::TooLarge))) {
        return;
    }
    let rejection = Rejection::service_unavailable(
        "the server is at its connection limit; retry later",
        std::time::Duration::from_secs(1),
    );
    let _ = write_and_close(&mut stream, &rejection).await;
}

/// Writes a refusal as a complete HTTP/1.1 response and closes the connection.
async fn write_and_close(stream: &mut TcpStream, rejection: &Rejection) -> io::Result<()> {
    let response: Response<Bytes> = rejection.clone().into_response();
    let body = response.body();
    let mut head = format!(
        "HTTP/1.1 {}\r\ncontent-length: {}\r\nconnection: close\r\n",
        response.status(),
        body.len()
    );
    for (name, value) in response.headers() {
        head.push_str(name.as_str());
        head.push_str(": ");
        head.push_str(value.to_str().unwrap_or_default());
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.shutdown().await?;
    linger(stream).await;
    Ok(())
}

/// Reads and discards what the client still sends, for a little while, before the socket is
/// closed: closing a socket with unread bytes makes the kernel reset the connection, and a
/// reset can destroy the response before the client read it.
async fn linger(stream: &mut TcpStream) {
    const LINGER: std::time::Duration = std::time::Duration::from_secs(2);
    const MAX: usize = 64 * 1024;
    let mut discarded = 0;
    // On the heap: a buffer in the future would make every connection's task larger.
    let mut buf = vec![0; 4096];
    let _ = tokio::time::timeout(LINGER, async {
        while discarded < MAX {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => discarded += n,
            }
        }
    })
    .await;
}

/// How reading the first request head ended.
enum Head {
    /// Everything read so far, the whole head included.
    Complete(Bytes),
    /// More than the limit without the end of a head.
    TooLarge,
    /// The client closed the connection first.
    Closed,
}

/// Reads until the end of a request head (an empty line), at most `limit` bytes of head.
async fn read_head(stream: &mut TcpStream, limit: usize) -> io::Result<Head> {
    let mut buf = BytesMut::with_capacity(1024);
    let mut searched = 0_usize;
    loop {
        if buf.len() > limit {
            return Ok(Head::TooLarge);
        }
        if stream.read_buf(&mut buf).await? == 0 {
            return Ok(Head::Closed);
        }
        // Searched from a little before the new bytes, in case the empty line straddles reads:
        // a client sending one byte at a time costs one comparison per byte, not per head.
        let from = searched.saturating_sub(3);
        if let Some(end) = memchr::memmem::find(&buf[from..], b"\r\n\r\n") {
            if from + end + 4 > limit {
                return Ok(Head::TooLarge);
            }
            return Ok(Head::Complete(buf.freeze()));
        }
        searched = buf.len();
    }
}

pin_project! {
    /// The bytes already read, then the rest of the stream.
    struct Rewind<IO> {
        prefix: Bytes,
        #[pin]
        io: IO,
    }
}

impl<IO> Rewind<IO> {
    fn new(prefix: Bytes, io: IO) -> Self {
        Self { prefix, io }
    }
}

impl<IO: AsyncRead> AsyncRead for Rewind<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        if this.prefix.has_remaining() {
            let n = this.prefix.len().min(buf.remaining());
            buf.put_slice(&this.prefix[..n]);
            this.prefix.advance(n);
            if !this.prefix.has_remaining() {
                // Give the buffer back as soon as hyper has it.
                *this.prefix = Bytes::new();
            }
            return Poll::Ready(Ok(()));
        }
        this.io.poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite> AsyncWrite for Rewind<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().io.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().io.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http_body_util::Empty;
    use tokio::net::TcpListener;

    use super::*;

    /// Every idle stream holds one connection task for hours: its size is memory per stream.
    /// (A 4 KiB buffer on the refusal path once made it 5.6 KiB.)
    #[tokio::test]
    async fn a_connection_task_stays_under_two_kib() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (stream, peer) = listener.accept().await.unwrap();
        let service = tower::service_fn(|_: Request<Incoming>| async {
            Ok::<_, Infallible>(Response::new(Empty::<Bytes>::new()))
        });
        let stopping = Stopping::default();
        let options = Options {
            write_timeout: Duration::from_secs(1),
            ..Options::default()
        };
        let task = serve(stream, peer, service, &options, &stopping);
        let size = std::mem::size_of_val(&task);
        assert!(size < 2048, "{size} bytes");
    }
}
