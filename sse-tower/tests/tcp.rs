//! The service behind a real hyper server on loopback TCP: a third-party SSE client resumes from
//! its `Last-Event-ID`, and a hub shutdown lets the server's graceful shutdown finish at once.

mod support;

use std::{collections::BTreeSet, net::SocketAddr, time::Duration};

use http::{Request, StatusCode, header};
use hyper::{body::Incoming, service::service_fn};
use hyper_util::{rt::TokioIo, server::graceful::GracefulShutdown};
use serde_json::{Value, json};
use sse_hub::{
    Channel, EventType, Hub, Message, SendReport,
    testing::{Events, decode},
};
use sse_tower::{ClientAddr, SseService, StreamConfig, WriteTimeout};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
    time::timeout,
};
use tower::ServiceExt;

use support::{NOW_MS, connected, hub, resumed};

/// How long any single wait may take before the test fails.
const WAIT: Duration = Duration::from_secs(5);

/// A hyper server on `127.0.0.1`, serving one endpoint on every path to the first
/// `connections` clients.
struct Server {
    addr: SocketAddr,
    /// Ends once every connection was accepted, with their watcher.
    accepted: JoinHandle<GracefulShutdown>,
}

impl Server {
    async fn start(hub: Hub, config: StreamConfig, connections: usize) -> Self {
        Self::start_with(hub, config, connections, None).await
    }

    /// With `write_timeout`, each connection's IO is a [`WriteTimeout`].
    async fn start_with(
        hub: Hub,
        config: StreamConfig,
        connections: usize,
        write_timeout: Option<Duration>,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let service = SseService::new(hub, config);
        let accepted = tokio::spawn(async move {
            let graceful = GracefulShutdown::new();
            for _ in 0..connections {
                let (stream, peer) = listener.accept().await.unwrap();
                let service = service.clone();
                let with_peer = service_fn(move |mut request: Request<Incoming>| {
                    request.extensions_mut().insert(ClientAddr(peer));
                    service.clone().oneshot(request)
                });
                let builder = hyper::server::conn::http1::Builder::new();
                match write_timeout {
                    Some(limit) => {
                        let io = TokioIo::new(WriteTimeout::new(stream, limit));
                        tokio::spawn(graceful.watch(builder.serve_connection(io, with_peer)));
                    }
                    None => {
                        let io = TokioIo::new(stream);
                        tokio::spawn(graceful.watch(builder.serve_connection(io, with_peer)));
                    }
                }
            }
            graceful
        });
        Self { addr, accepted }
    }

    /// Waits until every connection was accepted; returns the watcher of those still open.
    async fn all_accepted(self) -> GracefulShutdown {
        self.accepted.await.unwrap()
    }
}

/// A published message and what its recipients must see.
struct Sent {
    report: SendReport,
    event: &'static str,
    data: Value,
}

impl Sent {
    async fn publish(hub: &Hub, event: &'static str, data: Value) -> Self {
        let event_type = EventType::new(event).unwrap();
        let report = hub
            .send(Message::new(Channel::CHAT, event_type, data.clone()))
            .await
            .unwrap();
        Self {
            report,
            event,
            data,
        }
    }

    /// The next event must be exactly this message.
    async fn assert_received(&self, events: &mut Events) {
        let received = events
            .expect_message(&self.report, self.event, &self.data)
            .await;
        assert_eq!(
            received.json(),
            json!({
                "id": self.report.id.as_str(),
                "channel": "chat",
                "event": self.event,
                "data": self.data,
                "timestamp": NOW_MS,
            })
        );
    }
}

/// Opens a stream with a real HTTP client, and decodes its events.
async fn open(request: reqwest::RequestBuilder) -> Events {
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    Events::new(response.bytes_stream())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_party_client_resumes_after_a_drop_without_loss_or_duplicates() {
    let hub = hub();
    // One connection, then the one that resumes.
    let server = Server::start(
        hub.clone(),
        StreamConfig::new([Channel::CHAT, Channel::ALERTS]),
        2,
    )
    .await;
    let url = format!("http://{}/?channels=chat", server.addr);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();

    let mut events = open(client.get(&url)).await;
    let event = events.expect_event("connected").await;
    assert_eq!(event.id, "");
    assert_eq!(event.json(), connected(1, &["chat"], None, 15_000));
    let info = hub.connections();
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].client_addr.unwrap().ip(), server.addr.ip());

    let seen = [
        Sent::publish(&hub, "data", json!({"text": "one"})).await,
        Sent::publish(&hub, "update", json!({"text": "two", "n": 2})).await,
        Sent::publish(&hub, "user-online", json!({"user": "ada"})).await,
    ];
    for sent in &seen {
        assert_eq!(sent.report.sent, 1);
        sent.assert_received(&mut events).await;
    }
    let last_seen = seen[2].report.cursor.to_string();
    assert_eq!(events.last_event_id(), last_seen);

    // The client goes away mid-stream: the server notices and unregisters it.
    drop(events);
    timeout(WAIT, async {
        while hub.connection_count() != 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the dropped client is unregistered");

    let missed = [
        Sent::publish(&hub, "alert", json!({"level": "high"})).await,
        Sent::publish(&hub, "data", json!(["four", 4])).await,
    ];
    for sent in &missed {
        assert_eq!(sent.report.sent, 0);
    }
    // Another channel's message in between is not the client's to replay.
    let other = hub
        .send(Message::new(
            Channel::ALERTS,
            EventType::Alert,
            json!("not for chat"),
        ))
        .await
        .unwrap();
    assert_eq!(other.sent, 0);

    let mut events = open(client.get(&url).header("Last-Event-ID", &last_seen)).await;
    let event = events.expect_event("connected").await;
    assert_eq!(
        event.json(),
        resumed(connected(2, &["chat"], None, 15_000), 2)
    );
    for sent in &missed {
        sent.assert_received(&mut events).await;
    }
    let live = Sent::publish(&hub, "update", json!({"text": "live"})).await;
    assert_eq!(live.report.sent, 1);
    live.assert_received(&mut events).await;
    let after = Sent::publish(&hub, "notification", json!(null)).await;
    after.assert_received(&mut events).await;

    drop(events);
    hub.shutdown();
    timeout(WAIT, async { server.all_accepted().await.shutdown().await })
        .await
        .expect("the server stops");
}

/// A raw HTTP/1.1 client holding one stream open.
struct RawClient {
    stream: TcpStream,
    received: Vec<u8>,
}

impl RawClient {
    /// Connects and reads until the `connected` event has arrived.
    async fn open(addr: SocketAddr) -> Self {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(
                b"GET /?channels=chat HTTP/1.1\r\nhost: 127.0.0.1\r\n\
                  accept: text/event-stream\r\n\r\n",
            )
            .await
            .unwrap();
        let mut client = Self {
            stream,
            received: Vec::new(),
        };
        while Chunked::parse(&client.received).body().is_empty() {
            let mut buf = [0; 4096];
            let n = client.stream.read(&mut buf).await.unwrap();
            assert_ne!(n, 0, "EOF before the first chunk");
            client.received.extend_from_slice(&buf[..n]);
        }
        client
    }

    /// Reads to EOF; returns everything the connection received.
    async fn finish(mut self) -> Chunked {
        self.stream.read_to_end(&mut self.received).await.unwrap();
        Chunked::parse(&self.received)
    }
}

/// A response with a chunked body, parsed as far as it has arrived.
#[derive(Debug)]
struct Chunked {
    head: String,
    chunks: Vec<String>,
    /// The terminating zero-length chunk arrived, and nothing after it.
    complete: bool,
}

impl Chunked {
    fn parse(raw: &[u8]) -> Self {
        let mut parsed = Self {
            head: String::new(),
            chunks: Vec::new(),
            complete: false,
        };
        let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
            return parsed;
        };
        parsed.head = String::from_utf8(raw[..end].to_vec()).unwrap();
        let mut rest = &raw[end + 4..];
        loop {
            let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") else {
                return parsed;
            };
            let size = std::str::from_utf8(&rest[..line_end]).unwrap();
            let size = usize::from_str_radix(size, 16).unwrap();
            let data_start = line_end + 2;
            if rest.len() < data_start + size + 2 {
                return parsed;
            }
            assert_eq!(&rest[data_start + size..data_start + size + 2], b"\r\n");
            if size == 0 {
                assert!(
                    rest.len() == data_start + 2,
                    "bytes after the last chunk: {rest:?}"
                );
                parsed.complete = true;
                return parsed;
            }
            let data = &rest[data_start..data_start + size];
            parsed
                .chunks
                .push(String::from_utf8(data.to_vec()).unwrap());
            rest = &rest[data_start + size + 2..];
        }
    }

    fn body(&self) -> String {
        self.chunks.concat()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_shutdown_ends_200_streams_and_graceful_shutdown_completes_at_once() {
    const STREAMS: usize = 200;
    let hub = Hub::builder()
        .reconnect_retry(Duration::from_secs(7))
        .shutdown_jitter(Duration::ZERO)
        .build();
    let server = Server::start(hub.clone(), StreamConfig::new([Channel::CHAT]), STREAMS).await;
    let addr = server.addr;
    let clients = timeout(Duration::from_secs(30), async {
        let mut clients = Vec::with_capacity(STREAMS);
        for _ in 0..STREAMS {
            clients.push(RawClient::open(addr).await);
        }
        clients
    })
    .await
    .expect("every stream opens");
    assert_eq!(hub.connection_count(), STREAMS);

    let graceful = timeout(WAIT, server.all_accepted())
        .await
        .expect("the server accepted every stream");
    assert_eq!(graceful.count(), STREAMS);
    assert_eq!(hub.shutdown(), STREAMS);
    timeout(Duration::from_secs(2), graceful.shutdown())
        .await
        .expect("graceful shutdown completes within 2 s");
    assert_eq!(hub.connection_count(), 0);

    let mut ids = BTreeSet::new();
    for client in clients {
        let response = timeout(WAIT, client.finish()).await.unwrap();
        let head = response.head.to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200 ok\r\n"), "{head}");
        for header in [
            "content-type: text/event-stream",
            "cache-control: no-cache, no-transform",
            "x-accel-buffering: no",
            "transfer-encoding: chunked",
        ] {
            assert!(head.contains(&format!("\r\n{header}")), "{head}");
        }
        assert!(response.complete, "{response:?}");
        // The preamble, then the shutdown's final `retry:`, then the end of the body.
        let body = response.body();
        let [_, event, _] = &decode(body.as_bytes())[..] else {
            panic!("unexpected body: {body:?}");
        };
        assert_eq!(
            body,
            format!(
                "retry: 3000\n\nevent: connected\ndata: {}\n\nretry: 7000\n\n",
                event.data
            )
        );
        let connected = event.json();
        assert_eq!(connected["data"]["channels"], json!(["chat"]));
        ids.insert(connected["id"].as_str().unwrap().to_owned());
    }
    let expected: BTreeSet<String> = (1..=STREAMS).map(|n| format!("conn-{n}")).collect();
    assert_eq!(ids, expected);
}

/// A client that stops reading fills its socket: the server's write then waits, and nothing in
/// the response body can end it. The write timeout ends the connection once a write has made no
/// progress for its limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_cut_once_writes_stall() {
    let hub = hub();
    let server = Server::start_with(
        hub.clone(),
        StreamConfig::new([Channel::CHAT]),
        1,
        Some(Duration::from_millis(300)),
    )
    .await;
    // A small receive buffer, so that the server's writes stall after little data.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /?channels=chat HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0; 64];
    let n = stream.read(&mut head).await.unwrap();
    assert!(head[..n].starts_with(b"HTTP/1.1 200 OK"));
    // The client reads nothing more while messages flow.
    let data = json!("x".repeat(60_000));
    for _ in 0..300 {
        hub.send(Message::new(Channel::CHAT, EventType::Data, data.clone()))
            .await
            .unwrap();
    }
    // Graceful shutdown waits for open connections: it completes because the stalled one was
    // cut, although the hub never ended its stream and the client never read.
    let graceful = server.all_accepted().await;
    timeout(WAIT, graceful.shutdown())
        .await
        .expect("the stalled connection ends");
    assert_eq!(hub.connection_count(), 0);
}
