//! A server under test: started on a free port of `127.0.0.1`, shut down gracefully on request.

use std::{
    fmt,
    future::Future,
    net::SocketAddr,
    pin::Pin,
    task::{Context, Poll},
};

use tokio::{net::TcpListener, sync::oneshot};

use crate::STREAM_PATH;

type Stop = Box<dyn FnOnce() + Send>;
type Done = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A running server.
///
/// Most harnesses start one with [`serve`](Server::serve), which owns the listener, the
/// shutdown signal and the server task; [`new`](Server::new) is for a server that manages
/// those itself.
pub struct Server {
    addr: SocketAddr,
    stop: Option<Stop>,
    done: Done,
}

impl Server {
    /// Binds `127.0.0.1:0` and runs `serve(listener, shutdown)` on a task of its own: `serve`
    /// serves the listener until `shutdown` resolves, then finishes its graceful shutdown.
    ///
    /// `shutdown` resolves on [`Server::shutdown`], or when the `Server` is dropped.
    ///
    /// # Panics
    ///
    /// When no port is free; [`shutdown`](Server::shutdown) panics when the server task did.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() {
    /// use sse_conformance::Server;
    ///
    /// // A server that accepts connections and closes them, until it is told to stop.
    /// let server = Server::serve(|listener, mut shutdown| async move {
    ///     loop {
    ///         tokio::select! {
    ///             accepted = listener.accept() => drop(accepted),
    ///             () = &mut shutdown => break,
    ///         }
    ///     }
    /// })
    /// .await;
    /// assert!(server.stream_url("channels=chat").ends_with("/api/sse/stream?channels=chat"));
    /// server.shutdown().await;
    /// # }
    /// ```
    pub async fn serve<F, S>(serve: F) -> Self
    where
        F: FnOnce(TcpListener, Shutdown) -> S,
        S: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port on 127.0.0.1");
        let addr = listener.local_addr().expect("the bound address");
        let (stop, stopped) = oneshot::channel();
        let done = tokio::spawn(serve(listener, Shutdown(stopped)));
        Self::new(
            addr,
            move || {
                let _ = stop.send(());
            },
            async move { done.await.expect("the server task does not panic") },
        )
    }

    /// A server listening on `addr`; `stop` starts its graceful shutdown and `done` resolves
    /// once it has exited.
    pub fn new(
        addr: SocketAddr,
        stop: impl FnOnce() + Send + 'static,
        done: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        Self {
            addr,
            stop: Some(Box::new(stop)),
            done: Box::pin(done),
        }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of `path` (which starts with `/`) on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The URL of the stream endpoint with a query string (`""` for none).
    pub fn stream_url(&self, query: &str) -> String {
        let separator = if query.is_empty() { "" } else { "?" };
        self.url(&format!("{STREAM_PATH}{separator}{query}"))
    }

    /// Starts the graceful shutdown and waits until the server has exited.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            stop();
        }
        self.done.await;
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish()
    }
}

/// The signal to shut down gracefully that [`Server::serve`] hands to the server: a future that
/// resolves on [`Server::shutdown`], or when the [`Server`] is dropped.
#[derive(Debug)]
pub struct Shutdown(oneshot::Receiver<()>);

impl Future for Shutdown {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // A dropped sender (the `Server` went away) is a request to stop as well.
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}
