//! The receiving side of the load generator: many SSE streams opened and read at once.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
    sync::{Semaphore, watch},
    task::JoinHandle,
    time::{Instant, sleep, timeout},
};

use crate::{StreamDecoder, now_nanos, source::next_source};

/// Bytes read from a stream at once.
const READ_BUFFER: usize = 8192;
/// How often waits look at the counters.
const POLL: Duration = Duration::from_millis(10);

/// What streams to open, and how.
#[derive(Debug, Clone)]
pub struct FleetConfig {
    /// The server.
    pub addr: SocketAddr,
    /// How many streams.
    pub connections: usize,
    /// Whether stream `i` asks for `GET /stream?user=<i>`; plain `GET /stream` otherwise.
    pub with_users: bool,
    /// Every `k`-th stream (`i % k == k - 1`) reads its first event and then stops reading
    /// until [`Fleet::drain`]; `None` for none.
    pub slow_every: Option<usize>,
    /// The receive buffer the slow streams ask the kernel for (`SO_RCVBUF`), if any.
    pub slow_recv_buffer: Option<u32>,
    /// Connects in flight at once (connect, request, and reading until ready).
    pub connect_concurrency: usize,
    /// The longest one stream may take to connect and become ready.
    pub connect_timeout: Duration,
    /// When a stream counts as open (see [`Readiness`]).
    pub readiness: Readiness,
}

/// When a stream counts as open, so that what is published next reaches it.
///
/// Each server says it differently; the fleet waits for what the server under test sends
/// once the stream is subscribed, never for less.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Readiness {
    /// The first event with data: the `connected` event ours and the reference send once the
    /// stream is registered.
    #[default]
    FirstEvent,
    /// A `200` response with `content-type: text/event-stream` and then a comment line:
    /// nchan's `: hi`, which it writes once the subscriber is enqueued on its channel (it sends
    /// no event before the first message).
    Comment,
}

impl Readiness {
    /// Whether what `decoder` has read so far makes the stream ready.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_bench::{Readiness, StreamDecoder};
    ///
    /// let mut decoder = StreamDecoder::new();
    /// decoder.feed(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n", |_| {})?;
    /// assert!(!Readiness::Comment.reached(&decoder), "the head alone is not enough");
    /// decoder.feed(b": hi\n\n", |_| {})?;
    /// assert!(Readiness::Comment.reached(&decoder));
    /// assert!(!Readiness::FirstEvent.reached(&decoder), "a comment is no event");
    /// # Ok::<(), sse_bench::DecodeError>(())
    /// ```
    pub fn reached(self, decoder: &StreamDecoder) -> bool {
        match self {
            Self::FirstEvent => decoder.events() > 0,
            Self::Comment => decoder.is_event_stream() && decoder.comments() > 0,
        }
    }
}

impl FleetConfig {
    /// `connections` plain streams to `addr`, 256 connects in flight, 30 s each at most, ready
    /// at their first event.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut config = sse_bench::FleetConfig::new("127.0.0.1:3000".parse().unwrap(), 20);
    /// config.slow_every = Some(10);
    /// let slow: Vec<usize> = (0..20).filter(|&i| config.is_slow(i)).collect();
    /// assert_eq!(slow, [9, 19]);
    /// ```
    pub fn new(addr: SocketAddr, connections: usize) -> Self {
        Self {
            addr,
            connections,
            with_users: false,
            slow_every: None,
            slow_recv_buffer: None,
            connect_concurrency: 256,
            connect_timeout: Duration::from_secs(30),
            readiness: Readiness::FirstEvent,
        }
    }

    /// Whether stream `index` is a slow reader.
    pub fn is_slow(&self, index: usize) -> bool {
        self.slow_every.is_some_and(|k| k > 0 && index % k == k - 1)
    }
}

/// One delivery of a message to one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// The message's sequence number.
    pub seq: u32,
    /// When it was published ([`now_nanos`] time, from its payload).
    pub sent_at: u64,
    /// When the read that brought it returned ([`now_nanos`] time).
    pub received_at: u64,
}

/// What one stream saw.
#[derive(Debug, Clone, Default)]
pub struct ConnectionReport {
    /// The stream's index (and user id with [`FleetConfig::with_users`]).
    pub index: usize,
    /// Whether it was a slow reader.
    pub slow: bool,
    /// Whether it became ready (see [`Readiness`]).
    pub ready: bool,
    /// Every benchmark message it received, in arrival order.
    pub deliveries: Vec<Delivery>,
    /// Whether the server ended the stream (last chunk, end of connection or reset) before
    /// the fleet stopped.
    pub ended_by_server: bool,
    /// Why it failed to open or was cut, if it did.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Run,
    Drain,
    Stop,
}

#[derive(Debug, Default)]
struct Counters {
    ready: AtomicUsize,
    failed: AtomicUsize,
    ended: AtomicUsize,
    slow_ready: AtomicUsize,
    slow_drained: AtomicUsize,
    delivered: AtomicU64,
    last_delivery: AtomicU64,
}

/// Many SSE streams, each read by a task of its own on the current runtime.
///
/// [`start`](Fleet::start) opens them with a bounded number of connects in flight, each from
/// the next loopback source address; the tasks record every benchmark message they decode
/// until [`stop`](Fleet::stop), which hands back one [`ConnectionReport`] per stream.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use std::time::Duration;
/// use sse_bench::{Fleet, FleetConfig, InProcessServer, PublishPlan, ServerKind, publish};
///
/// let server = InProcessServer::start(ServerKind::Ours).await?;
/// let fleet = Fleet::start(FleetConfig::new(server.addr(), 3));
/// assert!(fleet.wait_ready(Duration::from_secs(10)).await);
///
/// let sent = publish(server.addr(), &PublishPlan::new(2, None), Duration::from_secs(10)).await;
/// assert_eq!(sent.failed(), 0);
/// assert!(fleet.wait_delivered(6, Duration::from_secs(5), Duration::from_secs(10)).await);
///
/// let reports = fleet.stop(Duration::from_secs(5)).await;
/// assert!(reports.iter().all(|r| r.ready && r.deliveries.len() == 2));
/// server.stop();
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Fleet {
    config: Arc<FleetConfig>,
    counters: Arc<Counters>,
    phase: watch::Sender<Phase>,
    tasks: Vec<JoinHandle<ConnectionReport>>,
}

impl Fleet {
    /// Starts opening the streams; [`wait_ready`](Fleet::wait_ready) waits for them.
    ///
    /// Must be called on a tokio runtime.
    pub fn start(config: FleetConfig) -> Self {
        let config = Arc::new(config);
        let counters = Arc::new(Counters::default());
        let (phase, _) = watch::channel(Phase::Run);
        let gate = Arc::new(Semaphore::new(config.connect_concurrency.max(1)));
        let tasks = (0..config.connections)
            .map(|index| {
                tokio::spawn(connection(
                    index,
                    Arc::clone(&config),
                    Arc::clone(&counters),
                    Arc::clone(&gate),
                    phase.subscribe(),
                ))
            })
            .collect();
        Self {
            config,
            counters,
            phase,
            tasks,
        }
    }

    /// Streams that became ready.
    pub fn ready(&self) -> usize {
        self.counters.ready.load(Relaxed)
    }

    /// Streams that failed to open.
    pub fn failed(&self) -> usize {
        self.counters.failed.load(Relaxed)
    }

    /// Benchmark messages received so far, by all streams.
    pub fn delivered(&self) -> u64 {
        self.counters.delivered.load(Relaxed)
    }

    /// Streams whose task has finished (failed, ended by the server).
    pub fn ended(&self) -> usize {
        self.counters.ended.load(Relaxed)
    }

    /// Waits until every stream is ready or has failed, at most `limit`. Returns whether all
    /// are ready.
    pub async fn wait_ready(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.ready() + self.failed() < self.config.connections && Instant::now() < deadline {
            sleep(POLL).await;
        }
        self.ready() == self.config.connections
    }

    /// Waits until `target` messages have been received in all, or nothing arrived for
    /// `idle`, or `limit` passed. Returns whether the target was reached.
    pub async fn wait_delivered(&self, target: u64, idle: Duration, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let idle_nanos = u64::try_from(idle.as_nanos()).unwrap_or(u64::MAX);
        let started = now_nanos();
        while self.delivered() < target && Instant::now() < deadline {
            let last = self.counters.last_delivery.load(Relaxed).max(started);
            if now_nanos().saturating_sub(last) > idle_nanos {
                break;
            }
            sleep(POLL).await;
        }
        self.delivered() >= target
    }

    /// Lets the slow readers read again; they stop once the server ends their stream or
    /// nothing arrives for a second.
    pub fn drain(&self) {
        self.phase.send_replace(Phase::Drain);
    }

    /// Waits until every slow reader that opened has drained, at most `limit`.
    pub async fn wait_drained(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline
            && self.counters.slow_drained.load(Relaxed) < self.counters.slow_ready.load(Relaxed)
        {
            sleep(POLL).await;
        }
    }

    /// Stops every task, closes every stream, and returns what each saw. Tasks that do not
    /// finish within `limit` are aborted and reported with an error.
    pub async fn stop(mut self, limit: Duration) -> Vec<ConnectionReport> {
        self.phase.send_replace(Phase::Stop);
        let deadline = Instant::now() + limit;
        let tasks = std::mem::take(&mut self.tasks);
        let mut reports = Vec::with_capacity(tasks.len());
        for (index, task) in tasks.into_iter().enumerate() {
            let abort = task.abort_handle();
            let report = match tokio::time::timeout_at(deadline, task).await {
                Ok(Ok(report)) => report,
                outcome => {
                    abort.abort();
                    ConnectionReport {
                        index,
                        slow: self.config.is_slow(index),
                        error: Some(match outcome {
                            Ok(Err(err)) => format!("task failed: {err}"),
                            _ => "task did not stop in time".to_owned(),
                        }),
                        ..ConnectionReport::default()
                    }
                }
            };
            reports.push(report);
        }
        reports
    }
}

impl Drop for Fleet {
    /// A fleet dropped without [`stop`](Fleet::stop) (a run cut short) closes its streams.
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// One stream, from connect to stop.
async fn connection(
    index: usize,
    config: Arc<FleetConfig>,
    counters: Arc<Counters>,
    gate: Arc<Semaphore>,
    mut phase: watch::Receiver<Phase>,
) -> ConnectionReport {
    let slow = config.is_slow(index);
    let mut stream = Stream {
        report: ConnectionReport {
            index,
            slow,
            ..ConnectionReport::default()
        },
        decoder: StreamDecoder::new(),
        counters: Arc::clone(&counters),
    };
    let opened = tokio::select! {
        opened = open(&config, index, slow, &gate, &mut stream) => opened,
        _ = phase.wait_for(|p| *p == Phase::Stop) => Err("stopped before opening".to_owned()),
    };
    let mut socket = match opened {
        Ok(socket) => socket,
        Err(err) => {
            stream.report.error = Some(err);
            counters.failed.fetch_add(1, Relaxed);
            counters.ended.fetch_add(1, Relaxed);
            return stream.report;
        }
    };
    stream.report.ready = true;
    counters.ready.fetch_add(1, Relaxed);
    let mut buf = vec![0; READ_BUFFER];
    if slow {
        counters.slow_ready.fetch_add(1, Relaxed);
        let _ = phase.wait_for(|p| *p != Phase::Run).await;
        loop {
            if *phase.borrow() == Phase::Stop {
                break;
            }
            match timeout(Duration::from_secs(1), socket.read(&mut buf)).await {
                Ok(read) => {
                    if stream.take(read, &buf) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        counters.slow_drained.fetch_add(1, Relaxed);
    } else {
        loop {
            tokio::select! {
                biased;
                _ = phase.wait_for(|p| *p == Phase::Stop) => break,
                read = socket.read(&mut buf) => {
                    if stream.take(read, &buf) {
                        break;
                    }
                }
            }
        }
    }
    counters.ended.fetch_add(1, Relaxed);
    stream.report
}

/// Connects, sends the request and reads until the stream is ready, holding a place in `gate`.
async fn open(
    config: &FleetConfig,
    index: usize,
    slow: bool,
    gate: &Semaphore,
    stream: &mut Stream,
) -> Result<TcpStream, String> {
    let _permit = gate.acquire().await.map_err(|err| err.to_string())?;
    let work = async {
        let socket = TcpSocket::new_v4().map_err(|err| format!("socket: {err}"))?;
        if slow && let Some(size) = config.slow_recv_buffer {
            socket
                .set_recv_buffer_size(size)
                .map_err(|err| format!("receive buffer: {err}"))?;
        }
        socket
            .bind(SocketAddr::new(next_source().into(), 0))
            .map_err(|err| format!("bind: {err}"))?;
        let mut socket = socket
            .connect(config.addr)
            .await
            .map_err(|err| format!("connect: {err}"))?;
        let path = if config.with_users {
            format!("/stream?user={index}")
        } else {
            "/stream".to_owned()
        };
        let request = format!(
            "GET {path} HTTP/1.1\r\nhost: {}\r\naccept: text/event-stream\r\n\r\n",
            config.addr
        );
        socket
            .write_all(request.as_bytes())
            .await
            .map_err(|err| format!("request: {err}"))?;
        let mut buf = vec![0; 2048];
        let readiness = config.readiness;
        while !readiness.reached(&stream.decoder) {
            let read = socket.read(&mut buf).await;
            if stream.take(read, &buf) && !readiness.reached(&stream.decoder) {
                return Err(stream
                    .report
                    .error
                    .take()
                    .unwrap_or_else(|| "closed before it was ready".to_owned()));
            }
        }
        stream.report.ended_by_server = false;
        Ok(socket)
    };
    timeout(config.connect_timeout, work)
        .await
        .map_err(|_| "timed out before it was ready".to_owned())?
}

/// A stream's decoding state and what it saw.
struct Stream {
    report: ConnectionReport,
    decoder: StreamDecoder,
    counters: Arc<Counters>,
}

impl Stream {
    /// Takes the outcome of one read; returns whether the stream has ended.
    fn take(&mut self, read: std::io::Result<usize>, buf: &[u8]) -> bool {
        let n = match read {
            Ok(0) => {
                self.report.ended_by_server = true;
                return true;
            }
            Ok(n) => n,
            Err(err) => {
                self.report.ended_by_server = true;
                self.report.error = Some(format!("read: {err}"));
                return true;
            }
        };
        let received_at = now_nanos();
        let before = self.report.deliveries.len();
        let deliveries = &mut self.report.deliveries;
        let fed = self.decoder.feed(&buf[..n], |event| {
            if let (Some(seq), Some(sent_at)) = (event.seq, event.sent_at) {
                deliveries.push(Delivery {
                    seq: u32::try_from(seq).unwrap_or(u32::MAX),
                    sent_at,
                    received_at,
                });
            }
        });
        let got = (self.report.deliveries.len() - before) as u64;
        if got > 0 {
            self.counters.delivered.fetch_add(got, Relaxed);
            self.counters.last_delivery.store(received_at, Relaxed);
        }
        match fed {
            Ok(ended) => {
                self.report.ended_by_server |= ended;
                ended
            }
            Err(err) => {
                self.report.error = Some(format!("decode: {err}"));
                true
            }
        }
    }
}
