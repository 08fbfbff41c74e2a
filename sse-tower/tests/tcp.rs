//! The service behind a real hyper server on loopback TCP: a third-party SSE client resumes from
//! its `Last-Event-ID`, and a hub shutdown lets the server's graceful shutdown finish at once.

use std::{collections::BTreeSet, net::SocketAddr, time::Duration};

use futures_util::StreamExt;
use http::Request;
use hyper::body::Incoming;
use hyper_util::{rt::TokioIo, server::graceful::GracefulShutdown, service::TowerToHyperService};
use reqwest_eventsource::{Event, EventSource, retry::Never};
use serde_json::{Value, json};
use sse_core::{Channel, Clock, EventType, Hub, ManualClock, Message, SendReport};
use sse_tower::{ClientAddr, SseService, StreamConfig};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::oneshot,
    task::JoinHandle,
    time::timeout,
};
use tower::ServiceExt;

/// The hub clock: message timestamps are exact.
const NOW_MS: u64 = 1_764_350_000_000;

/// How long any single wait may take before the test fails.
const WAIT: Duration = Duration::from_secs(5);

/// A hyper server on `127.0.0.1`, serving one endpoint on every path.
struct Server {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    accept_loop: JoinHandle<GracefulShutdown>,
}

impl Server {
    async fn start(hub: Hub, config: StreamConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let service = SseService::new(hub, config);
        let (stop, mut stopped) = oneshot::channel();
        let accept_loop = tokio::spawn(async move {
            let graceful = GracefulShutdown::new();
            loop {
                let (stream, peer) = tokio::select! {
                    accepted = listener.accept() => accepted.unwrap(),
                    _ = &mut stopped => break,
                };
                let service = service
                    .clone()
                    .map_request(move |mut request: Request<Incoming>| {
                        request.extensions_mut().insert(ClientAddr(peer));
                        request
                    });
                let connection = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
                tokio::spawn(graceful.watch(connection));
            }
            graceful
        });
        Self {
            addr,
            stop,
            accept_loop,
        }
    }

    /// Stops accepting; returns the watcher of the connections still open.
    async fn stop_accepting(self) -> GracefulShutdown {
        self.stop.send(()).unwrap();
        self.accept_loop.await.unwrap()
    }
}

async fn next_event(source: &mut EventSource) -> Event {
    timeout(WAIT, source.next())
        .await
        .expect("an event within the wait")
        .expect("the event source is open")
        .expect("no transport or protocol error")
}

/// The next message event: its id, event name and JSON data.
async fn next_message(source: &mut EventSource) -> (String, String, Value) {
    match next_event(source).await {
        Event::Message(message) => (
            message.id,
            message.event,
            serde_json::from_str(&message.data).unwrap(),
        ),
        Event::Open => panic!("a second open event where a message was due"),
    }
}

fn connected(id: u64, resumed: bool, replayed: u64) -> Value {
    json!({
        "id": format!("conn-{id}"),
        "channel": "system",
        "event": "connected",
        "data": {
            "connectionId": format!("conn-{id}"),
            "channels": ["chat"],
            "userId": null,
            "resumed": resumed,
            "replayed": replayed,
            "historyGap": false,
            "heartbeatInterval": 15_000,
        },
        "timestamp": NOW_MS,
    })
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

    /// The next message must be exactly this one.
    async fn assert_received(&self, source: &mut EventSource) {
        let (id, event, data) = next_message(source).await;
        assert_eq!(id, self.report.cursor.to_string());
        assert_eq!(event, self.event);
        assert_eq!(
            data,
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

fn event_source(request: reqwest::RequestBuilder) -> EventSource {
    let mut source = EventSource::new(request).unwrap();
    // Reconnecting is the test's job, not the client's.
    source.set_retry_policy(Box::new(Never));
    source
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_party_client_resumes_after_a_drop_without_loss_or_duplicates() {
    let hub = Hub::builder()
        .clock(Clock::from(ManualClock::new(NOW_MS)))
        .build();
    let server = Server::start(
        hub.clone(),
        StreamConfig::new([Channel::CHAT, Channel::ALERTS]),
    )
    .await;
    let url = format!("http://{}/?channels=chat", server.addr);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();

    let mut source = event_source(client.get(&url));
    assert_eq!(next_event(&mut source).await, Event::Open);
    assert_eq!(
        next_message(&mut source).await,
        (
            String::new(),
            "connected".to_owned(),
            connected(1, false, 0)
        )
    );
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
        sent.assert_received(&mut source).await;
    }
    let last_seen = seen[2].report.cursor.to_string();
    assert_eq!(source.last_event_id(), last_seen);

    // The client goes away mid-stream: the server notices and unregisters it.
    drop(source);
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

    let mut source = event_source(client.get(&url).header("Last-Event-ID", &last_seen));
    assert_eq!(next_event(&mut source).await, Event::Open);
    let (_, event, data) = next_message(&mut source).await;
    assert_eq!(event, "connected");
    assert_eq!(data, connected(2, true, 2));
    for sent in &missed {
        sent.assert_received(&mut source).await;
    }
    let live = Sent::publish(&hub, "update", json!({"text": "live"})).await;
    assert_eq!(live.report.sent, 1);
    live.assert_received(&mut source).await;
    let after = Sent::publish(&hub, "notification", json!(null)).await;
    after.assert_received(&mut source).await;

    drop(source);
    hub.shutdown();
    timeout(WAIT, async {
        server.stop_accepting().await.shutdown().await
    })
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
    let server = Server::start(hub.clone(), StreamConfig::new([Channel::CHAT])).await;
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

    let graceful = timeout(WAIT, server.stop_accepting())
        .await
        .expect("the accept loop stops");
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
        let connected = body
            .strip_prefix("retry: 3000\n\nevent: connected\ndata: ")
            .and_then(|rest| rest.strip_suffix("\n\nretry: 7000\n\n"))
            .unwrap_or_else(|| panic!("unexpected body: {body:?}"));
        let connected: Value = serde_json::from_str(connected).unwrap();
        assert_eq!(connected["data"]["channels"], json!(["chat"]));
        ids.insert(connected["id"].as_str().unwrap().to_owned());
    }
    let expected: BTreeSet<String> = (1..=STREAMS).map(|n| format!("conn-{n}")).collect();
    assert_eq!(ids, expected);
}
