//! Socket options: binding with a backlog, and `TCP_NODELAY` and keepalive on accepted sockets.

use std::{io, net::SocketAddr, time::Duration};

use socket2::{SockRef, TcpKeepalive};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use super::Options;

/// TCP keepalive: after `idle` without traffic the kernel probes the peer every `interval`,
/// and gives up after `retries` unanswered probes, ending the connection, so that a peer that
/// vanished (a laptop closed, a NAT that forgot the flow) does not keep its stream for hours.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_tower::server::Keepalive;
///
/// let keepalive = Keepalive::default().idle(Duration::from_secs(60));
/// assert_eq!(keepalive.interval, Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Keepalive {
    /// Time without traffic before the first probe (default 30 s).
    pub idle: Duration,
    /// Time between probes (default 10 s).
    pub interval: Duration,
    /// Unanswered probes before the connection is dropped (default 3).
    pub retries: u32,
}

impl Default for Keepalive {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(30),
            interval: Duration::from_secs(10),
            retries: 3,
        }
    }
}

impl Keepalive {
    /// Sets the time without traffic before the first probe.
    #[must_use]
    pub fn idle(mut self, idle: Duration) -> Self {
        self.idle = idle;
        self
    }

    /// Sets the time between probes.
    #[must_use]
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Sets the number of unanswered probes before the connection is dropped.
    #[must_use]
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }
}

pub(super) fn bind(addr: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// Applies the options to an accepted socket. A failure leaves the socket as it is: it still
/// works, with the kernel's defaults.
pub(super) fn configure(stream: &TcpStream, options: &Options) {
    let socket = SockRef::from(stream);
    if let Err(err) = stream.set_nodelay(options.nodelay) {
        tracing::debug!(target: "sse_tower", error = %err, "cannot set TCP_NODELAY");
    }
    if let Some(keepalive) = options.keepalive {
        let params = TcpKeepalive::new()
            .with_time(keepalive.idle)
            .with_interval(keepalive.interval)
            .with_retries(keepalive.retries);
        if let Err(err) = socket.set_tcp_keepalive(&params) {
            tracing::debug!(target: "sse_tower", error = %err, "cannot set TCP keepalive");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn accepted_sockets_get_nodelay_and_keepalive() {
        let listener = bind("127.0.0.1:0".parse().unwrap(), 1024).unwrap();
        let addr = listener.local_addr().unwrap();
        let _client = TcpStream::connect(addr).await.unwrap();
        let (accepted, _) = listener.accept().await.unwrap();
        configure(&accepted, &Options::default());
        let socket = SockRef::from(&accepted);
        assert!(accepted.nodelay().unwrap());
        assert!(socket.keepalive().unwrap());
        assert_eq!(
            socket.tcp_keepalive_time().unwrap(),
            Duration::from_secs(30)
        );
        assert_eq!(
            socket.tcp_keepalive_interval().unwrap(),
            Duration::from_secs(10)
        );
        assert_eq!(socket.tcp_keepalive_retries().unwrap(), 3);

        let _second = TcpStream::connect(addr).await.unwrap();
        let (plain, _) = listener.accept().await.unwrap();
        let options = Options {
            nodelay: false,
            keepalive: None,
            ..Options::default()
        };
        configure(&plain, &options);
        assert!(!plain.nodelay().unwrap());
        assert!(!SockRef::from(&plain).keepalive().unwrap());
    }
}
