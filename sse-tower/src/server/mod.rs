//! A tuned HTTP server for SSE endpoints: [`serve`].
//!
//! Idle streams live for hours, so what a connection costs and how the server treats clients
//! that misbehave matter more than for ordinary requests. [`serve`] runs any tower service on
//! hyper with safe defaults, each overridable:
//!
//! - HTTP/1.1 (HTTP/2 over cleartext, negotiated by its preface, with the `http2` feature and
//!   [`Serve::http2`]);
//! - a request head of at most 16 KiB: beyond it, `431` with a JSON body, and the connection is
//!   closed;
//! - a request head must arrive within 10 s, or the connection is closed (a client trickling
//!   bytes holds nothing for long);
//! - `TCP_NODELAY`, and TCP keepalive (idle 30 s, then every 10 s, 3 probes), so that a peer
//!   that vanished without a word is found and its stream ended;
//! - writes that make no progress for 30 s end the connection ([`WriteTimeout`]);
//! - at most 100,000 connections: beyond it, `503` with a JSON body, and the connection is
//!   closed;
//! - a graceful shutdown tied to the hub: streams end with their jittered `retry:`, and the
//!   server returns within 5 s even if a client never reads.
//!
//! The client's address reaches the service as [`ClientAddr`] in the request extensions, so
//! rate limits and per-IP caps apply.
//!
//! # Examples
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use sse_hub::{Channel, Hub};
//! use sse_tower::{SseService, StreamConfig, server};
//!
//! let hub = Hub::new();
//! let service = SseService::new(hub.clone(), StreamConfig::new([Channel::NOTIFICATIONS]));
//! let listener = server::bind("127.0.0.1:3000").await?;
//! server::serve(listener, service)
//!     .with_graceful_shutdown(hub, async {
//!         let _ = tokio::signal::ctrl_c().await;
//!     })
//!     .await
//! # }
//! ```
//!
//! [`WriteTimeout`]: crate::WriteTimeout
//! [`ClientAddr`]: crate::ClientAddr

mod connection;
mod socket;

use std::{
    convert::Infallible,
    fmt,
    future::{Future, IntoFuture},
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering::Relaxed},
    },
    time::Duration,
};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use sse_hub::Hub;
use tokio::{
    net::{TcpListener, ToSocketAddrs},
    task::JoinSet,
};
use tower_service::Service;

pub use socket::Keepalive;

/// A listener on `addr` (as [`TcpListener::bind`]: the first of its addresses that can be
/// bound) with a listen backlog of 1,024, so that a burst of reconnecting clients is not
/// refused, and `SO_REUSEADDR`, so that a restarted server binds at once.
///
/// # Errors
///
/// When `addr` resolves to no address, or none can be bound (the last error).
pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
    let mut last = None;
    for addr in tokio::net::lookup_host(addr).await? {
        match socket::bind(addr, 1024) {
            Ok(listener) => return Ok(listener),
            Err(err) => last = Some(err),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to bind")))
}

/// Serves `service` on `listener`: see the [module documentation](self) for what it does.
///
/// `service` gets every request with the client's address in its extensions; a clone serves
/// each connection. Await the returned [`Serve`] to run the server.
pub fn serve<S, B>(listener: TcpListener, service: S) -> Serve<S>
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    Serve {
        listener,
        service,
        options: Options::default(),
        shutdown: None,
    }
}

/// What ends a server: the future given to [`Serve::with_graceful_shutdown`].
type Signal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A server being configured; await it to run it. See [`serve`].
#[must_use = "a server does nothing until awaited"]
pub struct Serve<S> {
    listener: TcpListener,
    service: S,
    options: Options,
    shutdown: Option<(Option<Hub>, Signal)>,
}

/// What every connection of a server is held to.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) http2: bool,
    pub(crate) max_header_size: usize,
    pub(crate) header_read_timeout: Duration,
    pub(crate) write_timeout: Duration,
    pub(crate) nodelay: bool,
    pub(crate) keepalive: Option<Keepalive>,
    pub(crate) max_connections: usize,
    pub(crate) shutdown_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            http2: false,
            max_header_size: 16 * 1024,
            header_read_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(30),
            nodelay: true,
            keepalive: Some(Keepalive::default()),
            max_connections: 100_000,
            shutdown_timeout: Duration::from_secs(5),
        }
    }
}

impl<S> Serve<S> {
    /// Also serves HTTP/2 over cleartext (`h2c`, with prior knowledge: a client that opens with
    /// the HTTP/2 preface), besides HTTP/1.1 (default: HTTP/1.1 only).
    #[cfg(feature = "http2")]
    pub fn http2(mut self, enabled: bool) -> Self {
        self.options.http2 = enabled;
        self
    }

    /// The largest request head (request line and headers) accepted, in bytes (default 16 KiB,
    /// at least 1 KiB); a larger one is answered `431` with a JSON body and the connection
    /// closed.
    pub fn max_header_size(mut self, bytes: usize) -> Self {
        self.options.max_header_size = bytes.max(1024);
        self
    }

    /// How long a client may take to send a request head (default 10 s); a slower one's
    /// connection is closed.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.options.header_read_timeout = timeout;
        self
    }

    /// How long a write may make no progress (a client that stopped reading) before the
    /// connection is closed (default 30 s). See [`WriteTimeout`](crate::WriteTimeout).
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.options.write_timeout = timeout;
        self
    }

    /// Whether accepted sockets set `TCP_NODELAY` (default true): events go out at once
    /// instead of waiting to fill a packet.
    pub fn tcp_nodelay(mut self, enabled: bool) -> Self {
        self.options.nodelay = enabled;
        self
    }

    /// TCP keepalive on accepted sockets, or `None` for none (default: [`Keepalive::default`]).
    pub fn tcp_keepalive(mut self, keepalive: Option<Keepalive>) -> Self {
        self.options.keepalive = keepalive;
        self
    }

    /// The most connections open at once (default 100,000); beyond it a new connection is
    /// answered `503` with a JSON body and closed.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.options.max_connections = max;
        self
    }

    /// The longest a graceful shutdown waits for open connections once their streams were
    /// ended (default 5 s); connections still open then are closed.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.options.shutdown_timeout = timeout;
        self
    }

    /// Shuts down gracefully when `signal` completes: stops accepting, shuts `hub` down (every
    /// stream ends after a final `retry:` with a jittered delay, so that clients do not all
    /// come back at once), lets the other requests finish, and returns within the
    /// [`shutdown_timeout`](Self::shutdown_timeout).
    pub fn with_graceful_shutdown(
        mut self,
        hub: impl Into<Option<Hub>>,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        self.shutdown = Some((hub.into(), Box::pin(signal)));
        self
    }

    /// The address the server listens on.
    ///
    /// # Errors
    ///
    /// As [`TcpListener::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

impl<S, B> IntoFuture for Serve<S>
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

impl<S, B> Serve<S>
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    async fn run(self) -> io::Result<()> {
        let Self {
            listener,
            service,
            options,
            shutdown,
        } = self;
        let options = Arc::new(options);
        let (hub, mut signal): (Option<Hub>, Signal) = match shutdown {
            Some((hub, signal)) => (hub, signal),
            None => (None, Box::pin(std::future::pending())),
        };
        let stopping = Arc::new(connection::Stopping::default());
        let open = Arc::new(AtomicUsize::new(0));
        let refusing = Arc::new(AtomicUsize::new(0));
        let mut connections = JoinSet::new();
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        accept_failed(err).await;
                        continue;
                    }
                },
                () = &mut signal => break,
                // Reap finished connections, so the set holds only open ones.
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            };
            socket::configure(&stream, &options);
            if open.load(Relaxed) >= options.max_connections {
                // Refusals are answered too, but only so many at once: beyond that the
                // connection is closed without a word rather than held.
                if refusing.load(Relaxed) < MAX_REFUSING {
                    let guard = Open::new(&refusing);
                    let options = Arc::clone(&options);
                    connections.spawn(async move {
                        let _guard = guard;
                        connection::refuse_busy(stream, &options).await;
                    });
                }
                continue;
            }
            let guard = Open::new(&open);
            let service = service.clone();
            let options = Arc::clone(&options);
            let stopping = Arc::clone(&stopping);
            connections.spawn(async move {
                let _guard = guard;
                connection::serve(stream, peer, service, &options, &stopping).await;
            });
        }
        drop(listener);
        if let Some(hub) = hub {
            hub.shutdown();
        }
        stopping.stop();
        let drained = tokio::time::timeout(options.shutdown_timeout, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            // Clients that never read (or never finish) do not hold the server.
            connections.shutdown().await;
        }
        Ok(())
    }
}

/// The most connections being answered `503` at once.
const MAX_REFUSING: usize = 1024;

/// Errors of `accept`: a connection that failed before it was accepted is skipped; running out
/// of file descriptors is waited out rather than spun on.
async fn accept_failed(err: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if !matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        tracing::warn!(target: "sse_tower", error = %err, "accept failed; retrying in 1 s");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Counts an open connection until dropped.
struct Open(Arc<AtomicUsize>);

impl Open {
    fn new(open: &Arc<AtomicUsize>) -> Self {
        open.fetch_add(1, Relaxed);
        Self(Arc::clone(open))
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

impl<S> fmt::Debug for Serve<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .field("options", &self.options)
            .field("graceful", &self.shutdown.is_some())
            .finish_non_exhaustive()
    }
}
