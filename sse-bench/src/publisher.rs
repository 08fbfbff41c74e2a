//! The publishing side of the load generator: `POST /publish` over keep-alive connections.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering::Relaxed},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
    time::{Instant, sleep_until, timeout, timeout_at},
};

use crate::{now_nanos, source::next_source};

/// What to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishPlan {
    /// How many messages; their sequence numbers are `0..messages`.
    pub messages: u32,
    /// Messages per second, each due at `start + seq / rate`; `None` publishes as fast as the
    /// publishers go.
    pub rate: Option<f64>,
    /// Connections publishing at once, each waiting for its answer before the next request.
    pub publishers: usize,
    /// `Some(n)`: each message goes to one user among `0..n` (`POST /publish?user=<id>`, see
    /// [`target_of`](PublishPlan::target_of)); `None`: to everyone.
    pub users: Option<usize>,
    /// Filler bytes added to every payload.
    pub pad: usize,
    /// The longest one request may take.
    pub request_timeout: Duration,
}

impl PublishPlan {
    /// `messages` broadcasts at `rate` from one connection, without filler, 10 s per request
    /// at most.
    ///
    /// # Examples
    ///
    /// ```
    /// let plan = sse_bench::PublishPlan::new(100, Some(20.0));
    /// assert_eq!((plan.publishers, plan.users, plan.pad), (1, None, 0));
    /// ```
    pub fn new(messages: u32, rate: Option<f64>) -> Self {
        Self {
            messages,
            rate,
            publishers: 1,
            users: None,
            pad: 0,
            request_timeout: Duration::from_secs(10),
        }
    }

    /// The user message `seq` is sent to, for a targeted plan: spread over all users by a
    /// multiplicative hash, so that consecutive messages reach different streams.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut plan = sse_bench::PublishPlan::new(100, None);
    /// plan.users = Some(1000);
    /// assert!(plan.target_of(0).unwrap() < 1000);
    /// assert_ne!(plan.target_of(1), plan.target_of(2));
    /// ```
    pub fn target_of(&self, seq: u32) -> Option<usize> {
        let users = self.users?.max(1) as u64;
        Some(((u64::from(seq) + 1).wrapping_mul(2_654_435_761) % users) as usize)
    }
}

/// How one message was published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// When its request was written ([`now_nanos`] time; also in its payload).
    pub sent_at: u64,
    /// From writing the request to reading the whole answer, in nanoseconds.
    pub round_trip: u64,
    /// The answer's status.
    pub status: u16,
}

/// What a [`publish`] did.
#[derive(Debug, Clone, Default)]
pub struct PublishReport {
    /// Per sequence number, how the message was published; `None` if no answer came.
    pub messages: Vec<Option<Published>>,
    /// The first few errors.
    pub errors: Vec<String>,
    /// When the first request was written and the last answer read ([`now_nanos`] time).
    pub span: Option<(u64, u64)>,
}

impl PublishReport {
    /// Whether message `seq` was accepted (a 2xx answer).
    pub fn accepted(&self, seq: u32) -> bool {
        self.messages
            .get(seq as usize)
            .copied()
            .flatten()
            .is_some_and(|p| (200..300).contains(&p.status))
    }

    /// Messages not accepted.
    pub fn failed(&self) -> usize {
        (0..self.messages.len() as u32)
            .filter(|&seq| !self.accepted(seq))
            .count()
    }
}

/// Publishes `plan` to the server at `addr`, stopping at `limit` whatever is left.
///
/// Each payload is `{"seq":<n>,"sentAtNanos":<t>}` (plus `"pad"` when asked), with `t` read
/// just before its request is written.
pub async fn publish(addr: SocketAddr, plan: &PublishPlan, limit: Duration) -> PublishReport {
    let plan = Arc::new(plan.clone());
    let next = Arc::new(AtomicU32::new(0));
    let start = Instant::now() + Duration::from_millis(5);
    let deadline = start + limit;
    let workers: Vec<_> = (0..plan.publishers.max(1))
        .map(|_| {
            tokio::spawn(worker(
                addr,
                Arc::clone(&plan),
                Arc::clone(&next),
                start,
                deadline,
            ))
        })
        .collect();
    let mut report = PublishReport {
        messages: vec![None; plan.messages as usize],
        ..PublishReport::default()
    };
    for worker in workers {
        let Ok((done, errors)) = worker.await else {
            continue;
        };
        for (seq, published) in done {
            report.messages[seq as usize] = Some(published);
        }
        for error in errors {
            if report.errors.len() < 5 {
                report.errors.push(error);
            }
        }
    }
    let first = report.messages.iter().flatten().map(|p| p.sent_at).min();
    let last = report
        .messages
        .iter()
        .flatten()
        .map(|p| p.sent_at + p.round_trip)
        .max();
    report.span = first.zip(last);
    report
}

type Done = (Vec<(u32, Published)>, Vec<String>);

async fn worker(
    addr: SocketAddr,
    plan: Arc<PublishPlan>,
    next: Arc<AtomicU32>,
    start: Instant,
    deadline: Instant,
) -> Done {
    let mut done = Vec::new();
    let mut errors = Vec::new();
    let mut connection: Option<Connection> = None;
    let pad = "x".repeat(plan.pad);
    loop {
        let seq = next.fetch_add(1, Relaxed);
        if seq >= plan.messages || Instant::now() >= deadline {
            break;
        }
        if let Some(rate) = plan.rate.filter(|r| *r > 0.0) {
            let due = start + Duration::from_secs_f64(f64::from(seq) / rate);
            if due >= deadline {
                break;
            }
            sleep_until(due).await;
        }
        if connection.is_none() {
            match timeout_at(deadline, Connection::open(addr)).await {
                Ok(Ok(opened)) => connection = Some(opened),
                Ok(Err(err)) => {
                    errors.push(format!("publisher connect: {err}"));
                    continue;
                }
                Err(_) => break,
            }
        }
        let Some(conn) = connection.as_mut() else {
            continue;
        };
        let query = plan
            .target_of(seq)
            .map(|user| format!("?user={user}"))
            .unwrap_or_default();
        let sent_at = now_nanos();
        let body = if pad.is_empty() {
            format!("{{\"seq\":{seq},\"sentAtNanos\":{sent_at}}}")
        } else {
            format!("{{\"seq\":{seq},\"sentAtNanos\":{sent_at},\"pad\":\"{pad}\"}}")
        };
        let request = format!(
            "POST /publish{query} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
             content-length: {}\r\n\r\n{body}",
            body.len()
        );
        match timeout(plan.request_timeout, conn.exchange(request.as_bytes())).await {
            Ok(Ok(status)) => {
                done.push((
                    seq,
                    Published {
                        sent_at,
                        round_trip: now_nanos() - sent_at,
                        status,
                    },
                ));
                if !(200..300).contains(&status) {
                    errors.push(format!("message {seq}: status {status}"));
                }
            }
            Ok(Err(err)) => {
                errors.push(format!("message {seq}: {err}"));
                connection = None;
            }
            Err(_) => {
                errors.push(format!("message {seq}: no answer in time"));
                connection = None;
            }
        }
    }
    (done, errors)
}

/// One keep-alive connection to the publish endpoint.
struct Connection {
    socket: TcpStream,
    buf: Vec<u8>,
}

impl Connection {
    async fn open(addr: SocketAddr) -> std::io::Result<Self> {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(next_source().into(), 0))?;
        let socket = socket.connect(addr).await?;
        socket.set_nodelay(true)?;
        Ok(Self {
            socket,
            buf: Vec::with_capacity(1024),
        })
    }

    /// Writes one request and reads its whole answer; returns the status.
    async fn exchange(&mut self, request: &[u8]) -> std::io::Result<u16> {
        self.socket.write_all(request).await?;
        self.buf.clear();
        let mut chunk = [0; 1024];
        let head_end = loop {
            if let Some(at) = memchr::memmem::find(&self.buf, b"\r\n\r\n") {
                break at + 4;
            }
            let n = self.socket.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        let status = head
            .get(9..12)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "bad status"))?;
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, "no content-length")
            })?;
        while self.buf.len() < head_end + length {
            let n = self.socket.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        Ok(status)
    }
}
