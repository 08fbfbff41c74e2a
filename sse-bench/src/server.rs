//! The servers under test: ours (`sse_axum` over a `Hub`) and the reference (axum's own `Sse`
//! over a `tokio::sync::broadcast` channel), with the same two routes, served here; the third,
//! nginx with nchan, is in `nchan.rs`.

use std::{convert::Infallible, future::IntoFuture, io, net::SocketAddr, sync::Arc};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{RawQuery, Request, State},
    http::StatusCode,
    middleware::{self, Next},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
    routing::{get, post},
};
use futures_util::{Stream, StreamExt, stream};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sse_hub::{Channel, EventType, Hub, Identity, Message, UserId, error::SendError};
use sse_redis::{RedisBackplane, RedisConfig};
use sse_tower::StreamConfig;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpSocket},
    sync::broadcast::{self, error::RecvError},
    task::JoinHandle,
};

use crate::Readiness;

/// The reference server's broadcast capacity: a receiver this far behind skips ahead.
const REFERENCE_CAPACITY: usize = 1024;

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServerKind {
    /// This project: `sse_axum::stream` over an in-memory `Hub`.
    Ours,
    /// What a Rust user writes instead: axum's `Sse` over a `tokio::sync::broadcast` channel.
    Reference,
    /// nginx with the nchan module: one broadcast channel, no targeting (see
    /// [`NchanProcess`](crate::NchanProcess)).
    Nchan,
}

impl ServerKind {
    /// Ours and the reference, ours first: the two servers of this binary.
    pub const BOTH: [Self; 2] = [Self::Ours, Self::Reference];
    /// Every server, ours first.
    pub const ALL: [Self; 3] = [Self::Ours, Self::Reference, Self::Nchan];

    /// `ours`, `reference` or `nchan`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ours => "ours",
            Self::Reference => "reference",
            Self::Nchan => "nchan",
        }
    }

    /// How it is named in the report's tables.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ours => "ours",
            Self::Reference => "reference",
            Self::Nchan => "nginx+nchan",
        }
    }

    /// The subcommand of this binary that serves it in a process of its own; `None` for
    /// nchan, which is nginx.
    pub fn subcommand(self) -> Option<&'static str> {
        match self {
            Self::Ours => Some("serve-ours"),
            Self::Reference => Some("serve-reference"),
            Self::Nchan => None,
        }
    }

    /// What its streams send once they are open (see [`Readiness`]).
    pub fn readiness(self) -> Readiness {
        match self {
            Self::Ours | Self::Reference => Readiness::FirstEvent,
            Self::Nchan => Readiness::Comment,
        }
    }
}

/// What a server says about itself, between runs and after them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerStats {
    /// Open streams (ours: the hub's connections; reference: the broadcast receivers).
    pub connections: usize,
    /// Heap in use, in bytes, when the server runs in a process of its own with the counting
    /// allocator.
    pub heap_bytes: Option<u64>,
    /// Ours: connections closed because they could not keep up.
    pub closed_slow: Option<u64>,
    /// Ours: frames shed from full queues for lower priority.
    pub shed: Option<u64>,
    /// Ours: frames handed to connections' bodies.
    pub delivered: Option<u64>,
    /// Ours: bytes of the replay history the hub holds.
    pub history_bytes: Option<u64>,
    /// Ours: bytes of frames waiting in connection queues.
    pub queued_bytes: Option<u64>,
}

/// A server running on the current tokio runtime.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use sse_bench::{InProcessServer, ServerKind};
///
/// let server = InProcessServer::start(ServerKind::Reference).await?;
/// assert!(server.addr().ip().is_loopback());
/// assert_eq!(server.stats().connections, 0);
/// server.stop();
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct InProcessServer {
    kind: ServerKind,
    addr: SocketAddr,
    state: AppState,
    task: JoinHandle<io::Result<()>>,
}

/// Where our hub's fan-out and replay go: `None` for the in-memory hub.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServeOptions {
    /// The Redis URL of a Redis Streams backplane (`sse_redis`).
    pub redis: Option<String>,
    /// The stream key on that Redis (default `sse:stream`).
    pub redis_key: Option<String>,
}

impl ServeOptions {
    /// The `serve-ours` arguments that give these options.
    pub fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(url) = &self.redis {
            args.extend(["--redis".to_owned(), url.clone()]);
        }
        if let Some(key) = &self.redis_key {
            args.extend(["--redis-key".to_owned(), key.clone()]);
        }
        args
    }
}

#[derive(Debug, Clone)]
enum AppState {
    Ours(Hub, Option<Arc<RedisBackplane>>),
    Reference(broadcast::Sender<Arc<str>>),
}

impl InProcessServer {
    /// Binds `127.0.0.1` on a free port with a listen backlog of 1024 and serves `kind`: ours
    /// with `sse_axum::serve(listener, router)` (the tuned server of `sse_tower::server`), the
    /// reference with `axum::serve(listener, router.into_make_service())`.
    ///
    /// # Errors
    ///
    /// The I/O error of binding the listener; `Unsupported` for nchan.
    pub async fn start(kind: ServerKind) -> io::Result<Self> {
        Self::start_with(kind, &ServeOptions::default()).await
    }

    /// As [`start`](Self::start), with ours on a Redis backplane when `options.redis` is set
    /// (the reference ignores the options).
    ///
    /// # Errors
    ///
    /// The I/O error of binding the listener, or of connecting to Redis; `Unsupported` for
    /// nchan.
    pub async fn start_with(kind: ServerKind, options: &ServeOptions) -> io::Result<Self> {
        let (router, state) = match kind {
            ServerKind::Nchan => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "nchan is nginx: it runs in processes of its own",
                ));
            }
            ServerKind::Ours => {
                let (hub, backplane) = match &options.redis {
                    Some(url) => {
                        let mut config = RedisConfig::default();
                        if let Some(key) = &options.redis_key {
                            config = config.key(key.clone());
                        }
                        let backplane = RedisBackplane::connect(url, config)
                            .await
                            .map_err(|err| io::Error::other(format!("redis: {err}")))?;
                        let hub = sse_redis::hub(Arc::clone(&backplane), Hub::builder()).await;
                        (hub, Some(backplane))
                    }
                    None => (Hub::new(), None),
                };
                (ours(hub.clone()), AppState::Ours(hub, backplane))
            }
            ServerKind::Reference => {
                let (sender, _) = broadcast::channel(REFERENCE_CAPACITY);
                (reference(sender.clone()), AppState::Reference(sender))
            }
        };
        let listener = listen()?;
        let addr = listener.local_addr()?;
        let task = match &state {
            // Ours runs on the tuned server; the reference on what an axum user writes.
            AppState::Ours(..) => tokio::spawn(sse_axum::serve(listener, router).into_future()),
            AppState::Reference(_) => {
                tokio::spawn(async move { axum::serve(listener, router.into_make_service()).await })
            }
        };
        Ok(Self {
            kind,
            addr,
            state,
            task,
        })
    }

    /// Which server.
    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its connections and, for ours, the hub's counters (no heap figure in process).
    pub fn stats(&self) -> ServerStats {
        match &self.state {
            AppState::Ours(hub, _) => {
                let stats = hub.stats();
                ServerStats {
                    connections: stats.total_connections,
                    heap_bytes: None,
                    closed_slow: Some(stats.closed_slow),
                    shed: Some(stats.shed),
                    delivered: Some(stats.delivered),
                    history_bytes: Some(stats.memory.history as u64),
                    queued_bytes: Some(stats.memory.queues as u64),
                }
            }
            AppState::Reference(sender) => ServerStats {
                connections: sender.receiver_count(),
                ..ServerStats::default()
            },
        }
    }

    /// Ends every stream and stops serving.
    pub fn stop(self) {
        if let AppState::Ours(hub, backplane) = &self.state {
            hub.shutdown();
            if let Some(backplane) = backplane {
                backplane.close();
            }
        }
        self.task.abort();
    }
}

/// The `serve-ours` / `serve-reference` subcommand: serves `kind`, prints `listening <addr>`,
/// then answers `stats` on standard input with a JSON [`ServerStats`] line (with `heap_bytes`
/// from the given counter) until `quit` or the end of standard input. Ours goes through a Redis
/// backplane when `options.redis` is set.
///
/// Ending with standard input means that a server whose benchmark process died stops too.
///
/// # Errors
///
/// The I/O error of binding the listener or of standard input and output.
pub async fn serve(
    kind: ServerKind,
    options: &ServeOptions,
    heap_bytes: fn() -> usize,
) -> io::Result<()> {
    let server = InProcessServer::start_with(kind, options).await?;
    let mut out = tokio::io::stdout();
    out.write_all(format!("listening {}\n", server.addr()).as_bytes())
        .await?;
    out.flush().await?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        match line.trim() {
            "stats" => {
                let mut stats = server.stats();
                stats.heap_bytes = Some(heap_bytes() as u64);
                let mut line = serde_json::to_vec(&stats).map_err(io::Error::other)?;
                line.push(b'\n');
                out.write_all(&line).await?;
                out.flush().await?;
            }
            "quit" => break,
            _ => {}
        }
    }
    server.stop();
    Ok(())
}

/// Deletes a Redis stream key and its `<key>:epoch`, as a run on a fresh key leaves them.
///
/// # Errors
///
/// The Redis error, as an I/O error.
pub async fn delete_redis_key(url: &str, key: &str) -> io::Result<()> {
    use sse_redis::redis;
    let client = redis::Client::open(url).map_err(io::Error::other)?;
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .map_err(io::Error::other)?;
    redis::cmd("DEL")
        .arg(key)
        .arg(format!("{key}:epoch"))
        .query_async::<i64>(&mut connection)
        .await
        .map(drop)
        .map_err(io::Error::other)
}

/// A listener on `127.0.0.1`, on a free port, with a backlog of 1024 so that bursts of
/// connects are not refused.
fn listen() -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    socket.listen(1024)
}

/// Ours: `GET /stream` is `sse_axum::stream` on `live-updates`, with the identity from
/// `?user=`; `POST /publish` sends the body as a `data` event, to one user with `?user=`.
fn ours(hub: Hub) -> Router {
    Router::new()
        .route(
            "/stream",
            sse_axum::stream(hub.clone(), StreamConfig::new([Channel::LIVE_UPDATES])),
        )
        .route("/publish", post(ours_publish))
        .layer(middleware::from_fn(identity_from_query))
        .with_state(hub)
}

/// The application's auth, reduced to trusting `?user=`: where a real app reads its session.
async fn identity_from_query(mut request: Request, next: Next) -> Response {
    if let Some(user) = user_param(request.uri().query()) {
        request.extensions_mut().insert(Identity::user(user));
    }
    next.run(request).await
}

async fn ours_publish(State(hub): State<Hub>, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let data: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(data) => data,
        Err(err) => return refusal(StatusCode::BAD_REQUEST, "invalid_message", err),
    };
    let mut message = Message::new(Channel::LIVE_UPDATES, EventType::Data, data);
    if let Some(user) = user_param(query.as_deref()) {
        message = message.to_users([user]);
    }
    match hub.send(message).await {
        Ok(report) => Json(report).into_response(),
        Err(err @ SendError::Invalid(_)) => {
            refusal(StatusCode::BAD_REQUEST, "invalid_message", err)
        }
        Err(err) => refusal(StatusCode::SERVICE_UNAVAILABLE, "unavailable", err),
    }
}

fn refusal(status: StatusCode, code: &str, err: impl std::fmt::Display) -> Response {
    let body = json!({ "error": code, "message": err.to_string() });
    (status, Json(body)).into_response()
}

fn user_param(query: Option<&str>) -> Option<UserId> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("user="))
        .and_then(|user| UserId::new(user).ok())
}

/// The reference: axum's `Sse` with the default keep-alive, fed by a broadcast channel;
/// `POST /publish` broadcasts the body.
fn reference(sender: broadcast::Sender<Arc<str>>) -> Router {
    Router::new()
        .route("/stream", get(reference_stream))
        .route("/publish", post(reference_publish))
        .with_state(sender)
}

async fn reference_stream(
    State(sender): State<broadcast::Sender<Arc<str>>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = sender.subscribe();
    let connected = stream::once(async { Ok(Event::default().event("connected").data("{}")) });
    let messages = stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(data) => {
                    let event = Event::default().event("data").data(&*data);
                    return Some((Ok(event), receiver));
                }
                // The usual choice: a receiver that fell behind skips what it missed.
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(connected.chain(messages)).keep_alive(KeepAlive::default())
}

async fn reference_publish(
    State(sender): State<broadcast::Sender<Arc<str>>>,
    body: String,
) -> StatusCode {
    // No receiver is not an error for the publisher.
    let _ = sender.send(body.into());
    StatusCode::ACCEPTED
}
