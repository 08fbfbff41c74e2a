//! The control path between instances: commands and answers over Redis pub/sub, statistics
//! snapshots with a time to live, bans, and the persistent messages kept for instances that
//! start later.
//!
//! Keys, beside the stream key `<key>`:
//!
//! - `<key>:control` (pub/sub): commands, `{"id","from","command"}`; every instance
//!   subscribes.
//! - `<key>:control:<instance>` (pub/sub): answers to that instance's commands,
//!   `{"id","instance","answer"}`.
//! - `<key>:instances` (sorted set, instance id → end of its snapshot's life in ms) and
//!   `<key>:instance:<instance>` (string with `PX`): each instance's statistics.
//! - `<key>:bans` (hash, user id → end of the ban in ms).
//! - `<key>:persistent` (hash, `i:<message id>` or `k:<coalescing key>` →
//!   `<epoch> <entry id> <envelope>`) and `<key>:persistent:until` (sorted set, same field →
//!   end of its life in ms).

use std::{
    collections::HashMap,
    convert::Infallible,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
    task::{Context, Poll},
    time::Duration,
};

use futures_core::Stream;
use parking_lot::Mutex;
use redis::{AsyncCommands, Script, aio::ConnectionManager};
use serde::{Deserialize, Serialize};
use sse_hub::{
    Entry, Envelope, InstanceId, UserId,
    cluster::{Answer, Answers, Command, ControlRequest, ControlStream, InstanceStats},
    error::BackplaneError,
};
use tokio::sync::{mpsc, watch};

use crate::{
    RedisConfig,
    backplane::{Shared, redis_error},
    reply::EntryId,
    tail::Backoff,
};

/// Writes one instance's statistics and drops the instances whose snapshot ended.
///
/// KEYS: instances, the instance's key. ARGV: instance id, snapshot JSON, time to live in ms.
const WRITE_STATS: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
";

/// The live instances and their snapshots.
///
/// KEYS: instances. ARGV: the prefix of the instance keys.
const READ_STATS: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local snapshot = redis.call('GET', ARGV[1] .. id)
  if snapshot then
    table.insert(out, id)
    table.insert(out, snapshot)
  end
end
return out
";

/// The persistent messages that have not ended.
///
/// KEYS: persistent hash, its sorted set of ends.
const READ_PERSISTENT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, field in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
  redis.call('HDEL', KEYS[1], field)
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
return redis.call('HVALS', KEYS[1])
";

/// The keys of the control path.
#[derive(Debug)]
pub(crate) struct Keys {
    pub(crate) channel: String,
    replies: String,
    pub(crate) instances: String,
    instance_prefix: String,
    pub(crate) bans: String,
    pub(crate) persistent: String,
    pub(crate) persistent_until: String,
}

impl Keys {
    pub(crate) fn new(config: &RedisConfig, instance: InstanceId) -> Self {
        let key = &config.key;
        Self {
            channel: config.control_channel(),
            replies: format!("{key}:control:{instance}"),
            instances: format!("{key}:instances"),
            instance_prefix: format!("{key}:instance:"),
            bans: format!("{key}:bans"),
            persistent: format!("{key}:persistent"),
            persistent_until: format!("{key}:persistent:until"),
        }
    }

    fn replies_of(&self, instance: InstanceId) -> String {
        format!("{}:{instance}", self.channel)
    }
}

/// A command as it travels on `<key>:control`.
#[derive(Serialize, Deserialize)]
struct Request {
    id: String,
    from: InstanceId,
    command: Command,
}

/// An answer as it travels on `<key>:control:<instance>`.
#[derive(Serialize, Deserialize)]
struct Reply {
    id: String,
    instance: InstanceId,
    answer: Answer,
}

/// This instance's side of the control path.
pub(crate) struct Control {
    pub(crate) instance: InstanceId,
    pub(crate) keys: Keys,
    /// Commands waiting for answers, by request id.
    pending: Mutex<HashMap<String, mpsc::UnboundedSender<(InstanceId, Answer)>>>,
    next: AtomicU64,
    /// Whether this instance's subscription to the control channel is up (a `PUBLISH` then
    /// counts it among its receivers).
    subscribed: AtomicBool,
    /// Set once the control channel was first subscribed to and the first statistics
    /// snapshot written: [`crate::hub`] waits for both.
    pub(crate) ready: watch::Sender<(bool, bool)>,
    write_stats: Script,
    read_stats: Script,
    read_persistent: Script,
}

impl Control {
    pub(crate) fn new(config: &RedisConfig) -> Self {
        let instance = InstanceId::random();
        Self {
            instance,
            keys: Keys::new(config, instance),
            pending: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
            subscribed: AtomicBool::new(false),
            ready: watch::Sender::new((false, false)),
            write_stats: Script::new(WRITE_STATS),
            read_stats: Script::new(READ_STATS),
            read_persistent: Script::new(READ_PERSISTENT),
        }
    }

    /// Sends `command` to the other instances and gathers their answers until every
    /// subscriber answered or the control timeout passed.
    pub(crate) async fn command(
        &self,
        shared: &Shared,
        conn: &ConnectionManager,
        command: &Command,
    ) -> Result<Answers, BackplaneError> {
        let id = format!("{}-{}", self.instance, self.next.fetch_add(1, Relaxed) + 1);
        let (tx, mut rx) = mpsc::unbounded_channel();
        self.pending.lock().insert(id.clone(), tx);
        struct Forget<'a>(&'a Control, &'a str);
        impl Drop for Forget<'_> {
            fn drop(&mut self) {
                self.0.pending.lock().remove(self.1);
            }
        }
        let _forget = Forget(self, &id);
        let payload = serde_json::to_vec(&Request {
            id: id.clone(),
            from: self.instance,
            command: command.clone(),
        })
        .map_err(|err| BackplaneError::Corrupt(format!("control request: {err}").into()))?;
        let limit = shared.config.publish_timeout;
        let receivers: usize = within(limit, async {
            conn.clone()
                .publish(&self.keys.channel, payload)
                .await
                .map_err(|err| redis_error(&err, limit))
        })
        .await?;
        let expected = receivers.saturating_sub(usize::from(self.subscribed.load(Relaxed)));
        let deadline = tokio::time::Instant::now() + shared.config.control_timeout;
        let mut answers: Vec<(InstanceId, Answer)> = Vec::with_capacity(expected);
        while answers.len() < expected {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(answer)) => {
                    if !answers.iter().any(|(i, _)| *i == answer.0) {
                        answers.push(answer);
                    }
                }
                Ok(None) | Err(_) => break,
            }
        }
        let live = self.live(shared, conn).await?;
        let missing = live
            .into_iter()
            .map(|stats| stats.instance)
            .filter(|i| *i != self.instance && !answers.iter().any(|(a, _)| a == i))
            .collect();
        Ok(Answers { answers, missing })
    }

    /// The snapshots of the live instances.
    pub(crate) async fn live(
        &self,
        shared: &Shared,
        conn: &ConnectionManager,
    ) -> Result<Vec<InstanceStats>, BackplaneError> {
        let limit = shared.config.publish_timeout;
        let mut invocation = self.read_stats.prepare_invoke();
        invocation
            .key(&self.keys.instances)
            .arg(&self.keys.instance_prefix);
        let flat: Vec<Vec<u8>> = within(limit, async {
            invocation
                .invoke_async(&mut conn.clone())
                .await
                .map_err(|err| redis_error(&err, limit))
        })
        .await?;
        let mut out = Vec::with_capacity(flat.len() / 2);
        for pair in flat.chunks_exact(2) {
            // A snapshot this version cannot read (another version's) is left out and counted.
            match serde_json::from_slice::<InstanceStats>(&pair[1]) {
                Ok(stats) => out.push(stats),
                Err(_) => {
                    shared.skipped.fetch_add(1, Relaxed);
                }
            }
        }
        Ok(out)
    }

    /// Stores or lifts a ban.
    pub(crate) async fn store_ban(
        &self,
        shared: &Shared,
        conn: &ConnectionManager,
        user: &UserId,
        until: Option<u64>,
    ) -> Result<(), BackplaneError> {
        let limit = shared.config.publish_timeout;
        within(limit, async {
            let mut conn = conn.clone();
            match until {
                Some(until) => conn.hset::<_, _, _, ()>(&self.keys.bans, user.as_str(), until),
                None => conn.hdel::<_, _, ()>(&self.keys.bans, user.as_str()),
            }
            .await
            .map_err(|err| redis_error(&err, limit))
        })
        .await
    }

    /// The bans that have not ended; ended ones are removed.
    pub(crate) async fn bans(
        &self,
        shared: &Shared,
        conn: &ConnectionManager,
    ) -> Result<Vec<(UserId, u64)>, BackplaneError> {
        let limit = shared.config.publish_timeout;
        let all: HashMap<String, u64> = within(limit, async {
            conn.clone()
                .hgetall(&self.keys.bans)
                .await
                .map_err(|err| redis_error(&err, limit))
        })
        .await?;
        let now = sse_hub::Clock::system().now_ms();
        let (live, ended): (Vec<_>, Vec<_>) = all.into_iter().partition(|(_, until)| *until > now);
        if !ended.is_empty() {
            let fields: Vec<&str> = ended.iter().map(|(user, _)| user.as_str()).collect();
            within(limit, async {
                conn.clone()
                    .hdel::<_, _, ()>(&self.keys.bans, fields)
                    .await
                    .map_err(|err| redis_error(&err, limit))
            })
            .await?;
        }
        Ok(live
            .into_iter()
            .filter_map(|(user, until)| Some((UserId::new(user).ok()?, until)))
            .collect())
    }

    /// The persistent messages kept for instances that start later, in log order.
    pub(crate) async fn persistent(
        &self,
        shared: &Shared,
        conn: &ConnectionManager,
    ) -> Result<Vec<Entry>, BackplaneError> {
        let limit = shared.config.publish_timeout;
        let mut invocation = self.read_persistent.prepare_invoke();
        invocation
            .key(&self.keys.persistent)
            .key(&self.keys.persistent_until);
        let values: Vec<Vec<u8>> = within(limit, async {
            invocation
                .invoke_async(&mut conn.clone())
                .await
                .map_err(|err| redis_error(&err, limit))
        })
        .await?;
        let mut entries: Vec<Entry> = values
            .iter()
            .filter_map(|value| match decode_persistent(value) {
                Some(entry) => Some(entry),
                None => {
                    shared.skipped.fetch_add(1, Relaxed);
                    None
                }
            })
            .collect();
        entries.sort_by_key(|e| (e.cursor().epoch(), e.cursor().position()));
        Ok(entries)
    }
}

/// The field and end of life under which a persistent envelope is kept, or `None` for one
/// that is not persistent.
pub(crate) fn persistent_field(envelope: &Envelope, config: &RedisConfig) -> Option<(String, u64)> {
    if !envelope.is_persistent() {
        return None;
    }
    let field = match envelope.coalesce_key() {
        Some(key) => format!("k:{key}"),
        None => format!("i:{}", envelope.id()),
    };
    let default = sse_hub::Clock::system()
        .now_ms()
        .saturating_add(u64::try_from(config.persistent_ttl.as_millis()).unwrap_or(u64::MAX));
    let until = envelope.expires_at().map_or(default, |at| at.min(default));
    Some((field, until))
}

/// Reads `<epoch> <entry id> <envelope>`.
fn decode_persistent(value: &[u8]) -> Option<Entry> {
    let mut parts = value.splitn(3, |b| *b == b' ');
    let epoch = std::str::from_utf8(parts.next()?).ok()?.parse().ok()?;
    let id = EntryId::parse(parts.next()?)?;
    let envelope = Envelope::from_transport(parts.next()?).ok()?;
    Some(Entry::new(id.cursor(epoch), Arc::new(envelope)))
}

/// Starts the control path of one instance: the listener on the control channels and the
/// statistics publisher. Returns the stream of requests for the hub's dispatcher.
pub(crate) fn start(
    shared: Arc<Shared>,
    control: Arc<Control>,
    conn: ConnectionManager,
    runtime: &tokio::runtime::Handle,
) -> ControlStream {
    let (tx, rx) = mpsc::channel(1024);
    runtime.spawn(listen(
        Arc::clone(&shared),
        Arc::clone(&control),
        conn.clone(),
        tx.clone(),
    ));
    runtime.spawn(publish_stats(shared, control, conn, tx));
    Box::pin(Requests { rx })
}

/// Listens on the control channels, reconnecting with a backoff, until the backplane closes.
async fn listen(
    shared: Arc<Shared>,
    control: Arc<Control>,
    conn: ConnectionManager,
    tx: mpsc::Sender<ControlRequest>,
) {
    let mut closed = shared.closed.subscribe();
    let mut backoff = Backoff::new(shared.config.reconnect_max_delay);
    let run = async {
        loop {
            let Err(err) = follow(&shared, &control, &conn, &tx, &mut backoff).await;
            if control.subscribed.swap(false, Relaxed) {
                tracing::warn!(
                    sse.backplane_op = "control",
                    sse.stream_key = %shared.config.key,
                    error = %err,
                    "redis control channel lost: cluster-wide commands skip this instance"
                );
            }
            tokio::time::sleep(backoff.next()).await;
        }
    };
    tokio::select! {
        _ = closed.wait_for(|closed| *closed) => {}
        () = tx.closed() => {}
        () = run => {}
    }
    control.subscribed.store(false, Relaxed);
}

/// Subscribes and handles what arrives until the connection fails.
async fn follow(
    shared: &Arc<Shared>,
    control: &Arc<Control>,
    conn: &ConnectionManager,
    tx: &mpsc::Sender<ControlRequest>,
    backoff: &mut Backoff,
) -> Result<Infallible, BackplaneError> {
    let limit = shared.config.publish_timeout;
    let mut pubsub = within(limit, async {
        let mut pubsub = shared
            .client
            .get_async_pubsub()
            .await
            .map_err(|err| redis_error(&err, limit))?;
        pubsub
            .subscribe(&[&control.keys.channel, &control.keys.replies])
            .await
            .map_err(|err| redis_error(&err, limit))?;
        Ok(pubsub)
    })
    .await?;
    let first = !control.ready.borrow().0;
    control.subscribed.store(true, Relaxed);
    control.ready.send_modify(|ready| ready.0 = true);
    if !first {
        tracing::warn!(
            sse.backplane_op = "control",
            "redis control channel subscribed again"
        );
    }
    backoff.reset();
    let mut messages = pubsub.on_message();
    while let Some(message) = std::future::poll_fn(|cx| Pin::new(&mut messages).poll_next(cx)).await
    {
        let payload = message.get_payload_bytes();
        if message.get_channel_name() == control.keys.channel {
            let Ok(request) = serde_json::from_slice::<Request>(payload) else {
                // A command this version does not know: the caller names this instance.
                continue;
            };
            if request.from == control.instance {
                continue;
            }
            answer(shared, control, conn, tx, request);
        } else if let Ok(reply) = serde_json::from_slice::<Reply>(payload) {
            let pending = control.pending.lock().get(&reply.id).cloned();
            if let Some(pending) = pending {
                let _ = pending.send((reply.instance, reply.answer));
            }
        }
    }
    Err(BackplaneError::Unavailable(
        "the control subscription ended".into(),
    ))
}

/// Hands a command to the hub and sends its answer back, in a task of its own.
fn answer(
    shared: &Arc<Shared>,
    control: &Arc<Control>,
    conn: &ConnectionManager,
    tx: &mpsc::Sender<ControlRequest>,
    request: Request,
) {
    let (to_hub, answered) = ControlRequest::new(request.command);
    if tx.try_send(to_hub).is_err() {
        // The hub is not keeping up (or gone): the caller names this instance.
        return;
    }
    let limit = shared.config.control_timeout;
    let publish_limit = shared.config.publish_timeout;
    let instance = control.instance;
    let channel = control.keys.replies_of(request.from);
    let mut conn = conn.clone();
    tokio::spawn(async move {
        let Ok(Ok(answer)) = tokio::time::timeout(limit, answered).await else {
            return;
        };
        let Ok(payload) = serde_json::to_vec(&Reply {
            id: request.id,
            instance,
            answer,
        }) else {
            return;
        };
        let _ =
            tokio::time::timeout(publish_limit, conn.publish::<_, _, ()>(channel, payload)).await;
    });
}

/// Publishes the instance's statistics at the configured interval, the first at once; removes
/// them when the backplane closes.
async fn publish_stats(
    shared: Arc<Shared>,
    control: Arc<Control>,
    conn: ConnectionManager,
    tx: mpsc::Sender<ControlRequest>,
) {
    let mut closed = shared.closed.subscribe();
    let mut ticks = tokio::time::interval(shared.config.stats_interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let ttl = u64::try_from(shared.config.stats_ttl.as_millis()).unwrap_or(u64::MAX);
    loop {
        tokio::select! {
            _ = closed.wait_for(|closed| *closed) => break,
            _ = ticks.tick() => {}
        }
        let (request, answered) = ControlRequest::new(Command::Stats);
        if tx.send(request).await.is_err() {
            break;
        }
        let stats = match tokio::time::timeout(shared.config.control_timeout, answered).await {
            Ok(Ok(Answer::Stats { stats })) => *stats,
            _ => continue,
        };
        let snapshot =
            InstanceStats::new(control.instance, sse_hub::Clock::system().now_ms(), stats);
        let Ok(json) = serde_json::to_vec(&snapshot) else {
            continue;
        };
        let limit = shared.config.publish_timeout;
        let mut invocation = control.write_stats.prepare_invoke();
        invocation
            .key(&control.keys.instances)
            .key(format!(
                "{}{}",
                control.keys.instance_prefix, control.instance
            ))
            .arg(control.instance.to_string())
            .arg(json)
            .arg(ttl);
        let written = within(limit, async {
            invocation
                .invoke_async::<()>(&mut conn.clone())
                .await
                .map_err(|err| redis_error(&err, limit))
        })
        .await;
        if written.is_ok() {
            control.ready.send_modify(|ready| ready.1 = true);
        }
    }
    // A clean stop leaves the cluster at once; a crash leaves it when the snapshot ends.
    let limit = shared.config.publish_timeout;
    let mut conn = conn.clone();
    let _ = tokio::time::timeout(limit, async {
        let _: Result<(), _> = conn
            .zrem(&control.keys.instances, control.instance.to_string())
            .await;
        let _: Result<(), _> = conn
            .del(format!(
                "{}{}",
                control.keys.instance_prefix, control.instance
            ))
            .await;
    })
    .await;
}

/// The requests for the hub's dispatcher.
struct Requests {
    rx: mpsc::Receiver<ControlRequest>,
}

impl Stream for Requests {
    type Item = ControlRequest;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ControlRequest>> {
        self.rx.poll_recv(cx)
    }
}

/// `work`, failing with a timeout after `limit`.
pub(crate) async fn within<T>(
    limit: Duration,
    work: impl Future<Output = Result<T, BackplaneError>>,
) -> Result<T, BackplaneError> {
    tokio::time::timeout(limit, work)
        .await
        .unwrap_or(Err(BackplaneError::Timeout(limit)))
}
