//! Connections that end as soon as the client hangs up, for poem's `Server`.

use std::{
    fmt, io,
    pin::Pin,
    task::{Context, Poll, ready},
};

use poem::{
    http::uri::Scheme,
    listener::{Acceptor, Listener},
    web::{LocalAddr, RemoteAddr},
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A poem listener, acceptor or connection that reports the client's hang-up as an error, so
/// that poem's `Server` ends the connection, and drops its SSE stream, at once.
///
/// # Why
///
/// When a client closes a connection in the middle of a response (an `EventSource` closed, a
/// tab gone), hyper sees the end of the input and fails the connection, and poem's `Server`
/// (3.1, up to at least 3.1.12) then asks the failed connection for a graceful shutdown and
/// waits for it again. hyper does not finish a connection whose response body is still open
/// until that body writes again: an idle SSE stream stays registered, and keeps its places under
/// the per-user and per-IP stream caps, until the next heartbeat write fails, one to two
/// heartbeat intervals later. A read error, unlike the end of the input, closes both directions
/// in hyper, so the connection and its stream end at once.
///
/// Plain HTTP/1 loses nothing by it: hyper already fails a connection whose input ends in the
/// middle of a request (unless half-closed connections are enabled, which poem does not do), and
/// one whose input ends between requests closes either way.
///
/// # Examples
///
/// ```no_run
/// # async fn run(app: poem::Route) -> std::io::Result<()> {
/// use poem::{Server, listener::TcpListener};
/// use sse_poem::Hangup;
///
/// Server::new(Hangup::new(TcpListener::bind("127.0.0.1:3000")))
///     .run(app)
///     .await
/// # }
/// ```
///
/// With a listener that is already bound (to learn its port first):
///
/// ```no_run
/// # async fn run(app: poem::Route) -> std::io::Result<()> {
/// use poem::{Server, listener::TcpAcceptor};
/// use sse_poem::Hangup;
///
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// Server::new_with_acceptor(Hangup::new(TcpAcceptor::from_tokio(listener)?))
///     .run(app)
///     .await
/// # }
/// ```
#[derive(Clone)]
pub struct Hangup<T> {
    inner: T,
}

impl<T> Hangup<T> {
    /// Wraps a listener, an acceptor or a connection.
    pub fn new(inner: T) -> Self {
        Self { inner }
    }

    /// The wrapped value.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped value, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// The wrapped value.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T> fmt::Debug for Hangup<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // poem's listeners and acceptors are not `Debug`.
        f.debug_struct("Hangup").finish_non_exhaustive()
    }
}

impl<L: Listener> Listener for Hangup<L> {
    type Acceptor = Hangup<L::Acceptor>;

    async fn into_acceptor(self) -> io::Result<Self::Acceptor> {
        self.inner.into_acceptor().await.map(Hangup::new)
    }
}

impl<A: Acceptor> Acceptor for Hangup<A> {
    type Io = Hangup<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (io, local, remote, scheme) = self.inner.accept().await?;
        Ok((Hangup::new(io), local, remote, scheme))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Hangup<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let room = buf.remaining();
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        if room > 0 && buf.filled().len() == before {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the client closed the connection",
            )));
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Hangup<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn data_passes_and_the_end_of_input_is_an_error() {
        let (client, server) = tokio::io::duplex(64);
        let mut server = Hangup::new(server);
        let mut client = client;
        client.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        let mut buf = [0; 64];
        let n = server.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"GET / HTTP/1.1\r\n");
        server.write_all(b"HTTP/1.1 200 OK\r\n").await.unwrap();
        let n = client.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"HTTP/1.1 200 OK\r\n");

        drop(client);
        let err = server.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[tokio::test]
    async fn a_read_into_a_full_buffer_is_not_a_hangup() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut server = Hangup::new(server);
        client.write_all(b"GET").await.unwrap();
        assert_eq!(server.read(&mut []).await.unwrap(), 0);
        let mut buf = [0; 8];
        assert_eq!(server.read(&mut buf).await.unwrap(), 3);
    }
}
