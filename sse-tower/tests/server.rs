//! `sse_tower::server::serve` on loopback TCP against clients that misbehave: heads too large,
//! heads trickled a byte at a time, clients that never read, more clients than allowed.

mod support;

use std::{
    convert::Infallible,
    future::IntoFuture,
    net::SocketAddr,
    time::{Duration, Instant},
};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use serde_json::{Value, json};
use sse_hub::{Channel, EventType, Hub, Message, testing::Events};
use sse_tower::{ClientAddr, SseService, StreamConfig, server};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
    sync::oneshot,
    task::JoinHandle,
    time::timeout,
};

use support::hub;

/// How long any single wait may take before the test fails.
const WAIT: Duration = Duration::from_secs(10);

/// A running `serve`, stopped through its graceful shutdown.
struct Running {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Serves the hub's endpoint on `chat`, configured by `configure`.
    async fn start(
        hub: &Hub,
        configure: impl FnOnce(server::Serve<SseService>) -> server::Serve<SseService>,
    ) -> Self {
        let service = SseService::new(hub.clone(), StreamConfig::new([Channel::CHAT]));
        let listener = server::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel();
        let serve = configure(server::serve(listener, service)).with_graceful_shutdown(
            hub.clone(),
            async move {
                let _ = stopped.await;
            },
        );
        Self {
            addr,
            stop,
            task: tokio::spawn(serve.into_future()),
        }
    }

    /// Signals the shutdown; returns how long the server took to return.
    async fn shutdown(self) -> Duration {
        let started = Instant::now();
        self.stop.send(()).unwrap();
        timeout(WAIT, self.task)
            .await
            .expect("the server returns")
            .unwrap()
            .unwrap();
        started.elapsed()
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Opens a stream on `chat` and reads up to its `connected` event.
async fn open(client: &reqwest::Client, addr: SocketAddr) -> Events {
    let response = client
        .get(format!("http://{addr}/?channels=chat"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut events = Events::new(response.bytes_stream()).ignore_heartbeats();
    events.expect_event("connected").await;
    events
}

async fn publish(hub: &Hub, data: Value) -> sse_hub::SendReport {
    hub.send(Message::new(Channel::CHAT, EventType::Data, data))
        .await
        .unwrap()
}

/// A raw HTTP/1.1 response, read to the end of the connection.
#[derive(Debug)]
struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawResponse {
    async fn read(stream: &mut TcpStream) -> Self {
        let mut bytes = Vec::new();
        timeout(WAIT, stream.read_to_end(&mut bytes))
            .await
            .expect("the server closes the connection")
            .unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").expect("a complete head");
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap().split(' ').nth(1).unwrap();
        let headers = lines
            .map(|line| {
                let (name, value) = line.split_once(": ").unwrap();
                (name.to_owned(), value.to_owned())
            })
            .collect();
        Self {
            status: status.parse().unwrap(),
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        assert_eq!(self.header("content-type"), Some("application/json"));
        assert_eq!(
            self.header("content-length"),
            Some(self.body.len().to_string().as_str())
        );
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_head_over_the_limit_gets_431_with_a_json_body() {
    let hub = hub();
    let server = Running::start(&hub, |serve| serve).await;

    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let filler = "a".repeat(64 * 1024);
    let request = format!("GET /?channels=chat HTTP/1.1\r\nhost: x\r\nx-filler: {filler}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let response = RawResponse::read(&mut stream).await;
    assert_eq!(response.status, 431);
    assert_eq!(response.header("connection"), Some("close"));
    assert_eq!(
        response.json(),
        json!({
            "error": "request_header_fields_too_large",
            "message": "the request head is over 16384 bytes",
        })
    );
    assert_eq!(hub.connection_count(), 0);

    // A head just under the limit is served.
    let events = {
        let client = client();
        let response = client
            .get(format!("http://{}/?channels=chat", server.addr))
            .header("x-filler", "a".repeat(15 * 1024))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let mut events = Events::new(response.bytes_stream());
        events.expect_event("connected").await;
        events
    };
    assert_eq!(hub.connection_count(), 1);
    drop(events);
    assert!(server.shutdown().await < WAIT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_heads_are_closed_at_the_header_timeout_while_a_stream_keeps_receiving() {
    const TRICKLERS: usize = 200;
    const HEADER_TIMEOUT: Duration = Duration::from_millis(1500);
    let hub = hub();
    let server = Running::start(&hub, |serve| serve.header_read_timeout(HEADER_TIMEOUT)).await;
    let client = client();
    let mut events = open(&client, server.addr).await;

    let head = b"GET /?channels=chat HTTP/1.1\r\nhost: localhost\r\nx-slow: ".repeat(4);
    let started = Instant::now();
    let tricklers: Vec<JoinHandle<(usize, Duration)>> = (0..TRICKLERS)
        .map(|_| {
            let head = head.clone();
            let addr = server.addr;
            tokio::spawn(async move {
                // Taken before connecting: the server's header timer starts after this, so
                // the time to the close is at least the timeout, however late this task runs.
                let connected = Instant::now();
                let mut stream = TcpStream::connect(addr).await.unwrap();
                let mut pace = tokio::time::interval(Duration::from_millis(25));
                let mut sent = 0;
                // One byte at a time until the server closes the connection: a write then
                // fails, or the read side sees the end.
                for byte in head.iter().cycle() {
                    pace.tick().await;
                    if stream.write_all(&[*byte]).await.is_err() {
                        break;
                    }
                    sent += 1;
                    let mut probe = [0; 1];
                    match tokio::time::timeout(Duration::ZERO, stream.read(&mut probe)).await {
                        Ok(Ok(0) | Err(_)) => break,
                        Ok(Ok(_)) => panic!("the server answered a trickled head"),
                        Err(_) => {}
                    }
                    assert!(connected.elapsed() < WAIT, "still open after {WAIT:?}");
                }
                (sent, connected.elapsed())
            })
        })
        .collect();

    // While they trickle, the stream keeps receiving, in order.
    let mut published = 0;
    while !tricklers.iter().all(JoinHandle::is_finished) {
        let data = json!({ "n": published });
        let report = publish(&hub, data.clone()).await;
        assert_eq!(report.sent, 1);
        events.expect_message(&report, "data", &data).await;
        published += 1;
        assert!(started.elapsed() < WAIT, "the tricklers were not closed");
        // The pace of the publisher, not a synchronisation.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(published >= 10, "{published} messages during the trickle");

    for trickler in tricklers {
        let (sent, open_for) = timeout(WAIT, trickler).await.unwrap().unwrap();
        assert!(
            open_for >= HEADER_TIMEOUT,
            "closed after {open_for:?}, before the header timeout"
        );
        // Far fewer bytes than a head needs, and far fewer than the size limit.
        assert!(sent < head.len(), "{sent} bytes were sent");
    }
    assert!(started.elapsed() < WAIT);
    assert_eq!(hub.connection_count(), 1);
    // The stream is still live after the tricklers are gone.
    let report = publish(&hub, json!("after")).await;
    events
        .expect_message(&report, "data", &json!("after"))
        .await;
    drop(events);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_returns_within_its_bound_when_a_client_never_reads() {
    const BOUND: Duration = Duration::from_secs(1);
    let hub = hub();
    let server = Running::start(&hub, |serve| serve.shutdown_timeout(BOUND)).await;
    let client = client();
    let mut reader = open(&client, server.addr).await;

    // A client with a tiny receive buffer that reads its response head, then nothing.
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stuck = socket.connect(server.addr).await.unwrap();
    stuck
        .write_all(b"GET /?channels=chat HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0; 15];
    stuck.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200 OK");

    // Publish until the hub gives up on it as too slow: its queue filled because the server
    // could not write to it (the socket buffers are full), while the reading client keeps up.
    let data = json!("x".repeat(16 * 1024));
    let mut published = 0;
    while hub.stats().closed_slow == 0 {
        let report = publish(&hub, data.clone()).await;
        reader.expect_message(&report, "data", &data).await;
        published += 1;
        assert!(published < 4096, "the server's writes never blocked");
    }

    let took = server.shutdown().await;
    // The reading client got its final `retry:` and the end of its stream.
    let retry = reader.expect_end().await.expect("a final retry");
    assert!(retry >= Duration::from_secs(1), "retry {retry:?}");
    assert!(
        took >= BOUND,
        "returned after {took:?}, before the stuck client was cut"
    );
    assert!(took < BOUND + Duration::from_secs(2), "took {took:?}");
    drop(stuck);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_shutdown_with_reading_clients_returns_at_once() {
    let hub = hub();
    let server = Running::start(&hub, |serve| serve).await;
    let client = client();
    let mut streams = Vec::new();
    for _ in 0..3 {
        streams.push(open(&client, server.addr).await);
    }
    let addr = server.addr;
    let took = server.shutdown().await;
    for events in &mut streams {
        assert!(events.expect_end().await.is_some());
    }
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(hub.connection_count(), 0);
    // The listener is closed.
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_maximum_get_503_with_a_json_body() {
    let hub = hub();
    let server = Running::start(&hub, |serve| serve.max_connections(2)).await;
    let client_a = client();
    let client_b = client();
    let first = open(&client_a, server.addr).await;
    let _second = open(&client_b, server.addr).await;

    for _ in 0..3 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(b"GET /?channels=chat HTTP/1.1\r\nhost: localhost\r\n\r\n")
            .await
            .unwrap();
        let response = RawResponse::read(&mut stream).await;
        assert_eq!(response.status, 503);
        assert_eq!(response.header("retry-after"), Some("1"));
        assert_eq!(
            response.json(),
            json!({
                "error": "service_unavailable",
                "message": "the server is at its connection limit; retry later",
            })
        );
    }
    assert_eq!(hub.connection_count(), 2);

    // A closed connection frees its place.
    drop(first);
    drop(client_a);
    let third = client();
    let mut admitted = false;
    for _ in 0..200 {
        let response = third
            .get(format!("http://{}/?channels=chat", server.addr))
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::OK {
            admitted = true;
            break;
        }
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(admitted, "a place was never freed");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_gets_the_client_address() {
    let listener = server::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let echo = tower::service_fn(|request: Request<Incoming>| async move {
        let ClientAddr(peer) = *request.extensions().get::<ClientAddr>().unwrap();
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(peer.to_string()))))
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(
        server::serve(listener, echo)
            .with_graceful_shutdown(None, async move {
                let _ = stopped.await;
            })
            .into_future(),
    );
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let local = socket.local_addr().unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let response = RawResponse::read(&mut stream).await;
    assert_eq!(response.status, 200);
    assert_eq!(String::from_utf8(response.body).unwrap(), local.to_string());
    stop.send(()).unwrap();
    timeout(WAIT, task).await.unwrap().unwrap().unwrap();
}

#[cfg(feature = "http2")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_is_served_beside_http1_when_enabled() {
    let hub = hub();
    let server = Running::start(&hub, |serve| serve.http2(true)).await;
    let h2 = reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let response = h2
        .get(format!("http://{}/?channels=chat", server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[http::header::CONTENT_TYPE],
        "text/event-stream"
    );
    let mut over_h2 = Events::new(response.bytes_stream()).ignore_heartbeats();
    over_h2.expect_event("connected").await;
    let mut over_h1 = open(&client(), server.addr).await;
    let report = publish(&hub, json!("both")).await;
    assert_eq!(report.sent, 2);
    over_h2
        .expect_message(&report, "data", &json!("both"))
        .await;
    over_h1
        .expect_message(&report, "data", &json!("both"))
        .await;
    server.shutdown().await;
    assert!(over_h2.expect_end().await.is_some());
    assert!(over_h1.expect_end().await.is_some());
}

/// The server's end of the connection from `client` to `server`, as `/proc/net/tcp` shows it:
/// its timer kind and how long until the timer fires, in clock ticks.
#[cfg(target_os = "linux")]
fn server_side_timer(server: SocketAddr, client: SocketAddr) -> Option<(u8, u64)> {
    let hex = |addr: SocketAddr| {
        let SocketAddr::V4(v4) = addr else {
            panic!("IPv4 only")
        };
        format!(
            "{:08X}:{:04X}",
            u32::from_le_bytes(v4.ip().octets()),
            v4.port()
        )
    };
    let (local, remote) = (hex(server), hex(client));
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields[1] != local || fields[2] != remote {
            return None;
        }
        let (kind, when) = fields[5].split_once(':')?;
        Some((kind.parse().ok()?, u64::from_str_radix(when, 16).ok()?))
    })
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_connections_have_the_keepalive_timer_armed() {
    let hub = hub();
    let server = Running::start(&hub, |serve| serve).await;
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let client_addr = socket.local_addr().unwrap();
    let mut stream = socket.connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /?channels=chat HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0; 15];
    stream.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200 OK");
    assert_eq!(hub.connection_count(), 1);

    // The stream's preamble was acknowledged long ago by the time the kernel's delayed
    // acknowledgement or retransmission timers would show; the one left is keepalive's, due
    // in at most 30 s (kind 2, in hundredths of a second).
    let mut timer = None;
    for _ in 0..100 {
        timer = server_side_timer(server.addr, client_addr);
        if matches!(timer, Some((2, when)) if when > 1_000) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (kind, when) = timer.expect("the server's end of the connection");
    assert_eq!(kind, 2, "no keepalive timer on the accepted socket");
    assert!(
        (2_000..=3_000).contains(&when),
        "keepalive due in {when} hundredths of a second"
    );
    drop(stream);
    server.shutdown().await;
}
