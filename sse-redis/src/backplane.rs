//! The Redis Streams backplane.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed},
    },
    time::Duration,
};

use parking_lot::Mutex;
use redis::{
    Client, Script, Value,
    aio::{ConnectionManager, ConnectionManagerConfig},
};
use sse_hub::{
    Backplane, BackplaneStats, Claim, Cursor, Entry, EntryStream, Envelope, IdempotencyKey,
    IdempotencyRecord, InstanceId, Replay, UserId,
    cluster::{Answers, Command, ControlStream, InstanceStats, PresenceUpdate},
    error::BackplaneError,
};
use tokio::sync::{oneshot, watch};

use crate::{
    RedisConfig,
    control::{self, Control},
    idempotency, presence,
    reply::{self, EntryId, FIELD},
    tail::{self, Progress},
};

/// Reads the epoch, creating it if it is missing, and appends the envelope, in one step so that
/// no entry is ever written without an epoch that describes it.
///
/// KEYS: stream, epoch. ARGV: a fresh epoch, max length, field, envelope bytes.
const PUBLISH: &str = r"
redis.call('SET', KEYS[2], ARGV[1], 'NX')
local epoch = redis.call('GET', KEYS[2])
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', ARGV[3], ARGV[4])
if ARGV[5] ~= '' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('HSET', KEYS[3], ARGV[5], epoch .. ' ' .. id .. ' ' .. ARGV[4])
  redis.call('ZADD', KEYS[4], ARGV[6], ARGV[5])
  for _, field in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)) do
    redis.call('HDEL', KEYS[3], field)
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  local excess = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[7])
  if excess > 0 then
    for _, field in ipairs(redis.call('ZRANGE', KEYS[4], 0, excess - 1)) do
      redis.call('HDEL', KEYS[3], field)
    end
    redis.call('ZREMRANGEBYRANK', KEYS[4], 0, excess - 1)
  end
end
return {epoch, id}
";

/// Reads what follows a cursor, in one step so that trimming cannot come between the checks
/// and the read. History is complete after the cursor when the client's own entry is still
/// there: trimming removes the oldest entries first, so everything after it is there too. For
/// the start of the stream (`0-0`, the head a refresh carries before the first entry), it is
/// complete when nothing was ever removed from the stream (`entries-added`, Redis 7).
///
/// KEYS: stream, epoch. ARGV: the cursor's epoch, its entry id, how many entries to read.
/// Returns the epoch, the newest entry (`XREVRANGE`), whether history is complete after the
/// cursor (1 or 0), and the entries after it (exclusive `XRANGE`).
const REPLAY: &str = r"
local epoch = redis.call('GET', KEYS[2])
local head = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if epoch ~= ARGV[1] then
  return {epoch, head, 0, {}}
end
local complete
if ARGV[2] == '0-0' then
  local added = 0
  if redis.call('EXISTS', KEYS[1]) == 1 then
    local info = redis.call('XINFO', 'STREAM', KEYS[1])
    for i = 1, #info, 2 do
      if info[i] == 'entries-added' then added = info[i + 1] end
    end
  end
  complete = added == redis.call('XLEN', KEYS[1])
else
  complete = #redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2]) > 0
end
if not complete then
  return {epoch, head, 0, {}}
end
return {epoch, head, 1, redis.call('XRANGE', KEYS[1], '(' .. ARGV[2], '+', 'COUNT', ARGV[3])}
";

/// A [`Backplane`] on one Redis stream, shared by every server instance of a deployment:
/// cross-instance fan-out and one replay history for all of them.
///
/// Each instance connects its own `RedisBackplane` to the same Redis and key, and builds its
/// [`Hub`](sse_hub::Hub) on it (most simply with [`hub`](crate::hub())). Then:
///
/// - [`publish`](Backplane::publish) appends the encoded message to the stream with `XADD`, in
///   a Lua script that also reads (or creates) the epoch, and returns once this instance's tail
///   has read the entry back. The entry id `<ms>-<seq>` and the epoch make the cursor
///   `<epoch>-<ms>-<seq>` that every instance sends as the SSE id.
/// - [`subscribe`](Backplane::subscribe) starts a task that tails the stream with blocking
///   `XREAD` on a connection of its own, and yields every entry in stream order, this
///   instance's own included; the hub's dispatcher delivers each to local connections.
/// - [`replay`](Backplane::replay) reads the entries after a client's cursor with an exclusive
///   `XRANGE`, in a Lua script that first checks that history still reaches the cursor, on any
///   instance.
///
/// Cloning is not needed: the type is used behind an [`Arc`], which
/// [`connect`](Self::connect) returns.
///
/// # Examples
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use sse_redis::{RedisBackplane, RedisConfig};
///
/// let backplane =
///     RedisBackplane::connect("redis://127.0.0.1:6379", RedisConfig::default().key("app:sse"))
///         .await?;
/// let hub = sse_redis::hub(backplane.clone(), sse_hub::Hub::builder()).await;
/// # let _ = hub;
/// // At shutdown: ends the tail and the hub's dispatcher.
/// backplane.close();
/// # Ok(()) }
/// ```
pub struct RedisBackplane {
    shared: Arc<Shared>,
    /// This instance's side of the control path.
    control: Arc<Control>,
    presence: presence::Scripts,
    /// The multiplexed connection for publishes and replays; it reconnects by itself.
    conn: ConnectionManager,
    publish_script: Script,
    replay_script: Script,
    runtime: tokio::runtime::Handle,
    /// Where the first [`subscribe`](Backplane::subscribe) starts: the end of the stream when
    /// the backplane connected.
    start: Mutex<Option<Progress>>,
    /// The progress of every tail started by [`subscribe`](Backplane::subscribe).
    tails: Mutex<Vec<watch::Receiver<Option<Progress>>>>,
    /// Signalled when the stream of the latest `subscribe` is first polled, by [`crate::hub`].
    first_poll: Mutex<Option<oneshot::Receiver<()>>>,
}

/// What the backplane shares with its tail tasks, which must not keep it alive.
pub(crate) struct Shared {
    pub(crate) client: Client,
    pub(crate) config: RedisConfig,
    pub(crate) epoch_key: String,
    pub(crate) closed: watch::Sender<bool>,
    /// The stream length seen by the latest `XREAD`.
    pub(crate) entries: AtomicUsize,
    /// The latest epoch seen.
    pub(crate) epoch: AtomicU64,
    /// Entries left out of replays because they could not be decoded.
    pub(crate) skipped: AtomicU64,
    /// The millisecond part of the entry the dispatcher took last, and how many wait behind it.
    pub(crate) dispatched_ms: AtomicU64,
    pub(crate) buffered: AtomicUsize,
}

impl RedisBackplane {
    /// Connects to the Redis at `url` (`redis://[:password@]host[:port][/db]`, or `rediss://`
    /// where the `redis` crate is built with TLS).
    ///
    /// Must be called inside a tokio runtime: the backplane spawns its tail tasks there.
    ///
    /// # Errors
    ///
    /// [`BackplaneError::Unavailable`] when the URL is invalid or Redis cannot be reached, and
    /// [`BackplaneError::Timeout`] when it does not answer within
    /// [`publish_timeout`](RedisConfig::publish_timeout).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), sse_hub::error::BackplaneError> {
    /// use sse_redis::{RedisBackplane, RedisConfig};
    ///
    /// let backplane = RedisBackplane::connect("redis://127.0.0.1/", RedisConfig::default()).await?;
    /// # let _ = backplane; Ok(()) }
    /// ```
    pub async fn connect(url: &str, config: RedisConfig) -> Result<Arc<Self>, BackplaneError> {
        let client = Client::open(url).map_err(|err| {
            BackplaneError::Unavailable(format!("invalid redis url: {err}").into())
        })?;
        Self::with_client(client, config).await
    }

    /// Connects with a [`redis::Client`] the application configured itself.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// use sse_redis::{RedisBackplane, RedisConfig, redis};
    ///
    /// let client = redis::Client::open("redis://127.0.0.1/")?;
    /// let backplane = RedisBackplane::with_client(client, RedisConfig::default()).await?;
    /// # let _ = backplane; Ok(()) }
    /// ```
    pub async fn with_client(
        client: Client,
        config: RedisConfig,
    ) -> Result<Arc<Self>, BackplaneError> {
        let limit = config.publish_timeout;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(limit))
            .set_response_timeout(Some(limit))
            .set_min_delay(tail::FIRST_RETRY.min(config.reconnect_max_delay))
            .set_max_delay(config.reconnect_max_delay);
        let publish_script = Script::new(PUBLISH);
        let shared = Arc::new(Shared {
            client,
            epoch_key: config.epoch_key(),
            config,
            closed: watch::Sender::new(false),
            entries: AtomicUsize::new(0),
            epoch: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            dispatched_ms: AtomicU64::new(0),
            buffered: AtomicUsize::new(0),
        });
        let connected = async {
            let mut conn =
                ConnectionManager::new_with_config(shared.client.clone(), manager_config)
                    .await
                    .map_err(|err| redis_error(&err, limit))?;
            publish_script
                .prepare_invoke()
                .load_async(&mut conn)
                .await
                .map_err(|err| redis_error(&err, limit))?;
            // The end of the stream now: the first stream from `subscribe` starts here, so
            // that it misses nothing appended once `connect` has returned.
            let end = tail::locate(&Script::new(tail::START), &mut conn, &shared).await?;
            Ok::<_, BackplaneError>((conn, end))
        };
        let (conn, end) = tokio::time::timeout(limit, connected)
            .await
            .map_err(|_| BackplaneError::Timeout(limit))??;
        shared.epoch.store(end.epoch, Relaxed);
        Ok(Arc::new(Self {
            control: Arc::new(Control::new(&shared.config)),
            presence: presence::Scripts::new(),
            shared,
            conn,
            publish_script,
            replay_script: Script::new(REPLAY),
            runtime: tokio::runtime::Handle::current(),
            start: Mutex::new(Some(end)),
            tails: Mutex::new(Vec::new()),
            first_poll: Mutex::new(None),
        }))
    }

    /// The settings.
    pub fn config(&self) -> &RedisConfig {
        &self.shared.config
    }

    /// The epoch this instance last saw: read when it connected, then by its tail. It changes
    /// when the stream's data is lost (a Redis restarted without persistence, a wipe, a new
    /// server), and every cursor carries it.
    pub fn epoch(&self) -> u64 {
        self.shared.epoch.load(Relaxed)
    }

    /// Ends every stream from [`subscribe`](Backplane::subscribe), and with them the tail tasks
    /// and the hubs' dispatchers; later publishes and replays fail with
    /// [`BackplaneError::Closed`]. Dropping the last handle closes too, but a running
    /// dispatcher holds its hub, which holds the backplane: call `close` at shutdown.
    pub fn close(&self) {
        self.shared.closed.send_replace(true);
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        *self.shared.closed.borrow()
    }

    /// The signal that the stream of the latest [`subscribe`](Backplane::subscribe) was polled.
    pub(crate) fn take_first_poll(&self) -> Option<oneshot::Receiver<()>> {
        self.first_poll.lock().take()
    }

    /// The runtime the backplane was created on.
    pub(crate) fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }

    /// Waits until the control channel is subscribed to and the first statistics snapshot is
    /// written (once a hub's dispatcher answers), at most `limit`.
    pub(crate) async fn control_ready(&self, limit: Duration) {
        let mut ready = self.control.ready.subscribe();
        let _ = tokio::time::timeout(
            limit,
            ready.wait_for(|(subscribed, stats)| *subscribed && *stats),
        )
        .await;
    }

    /// This instance's id, which its hub takes as its own.
    pub fn instance(&self) -> InstanceId {
        self.control.instance
    }

    /// The tails still running.
    fn tails(&self) -> Vec<watch::Receiver<Option<Progress>>> {
        let mut tails = self.tails.lock();
        tails.retain(|tail| tail.has_changed().is_ok());
        tails.clone()
    }

    /// Adds the envelope to the stream: its epoch and entry id.
    async fn append(&self, envelope: &Envelope) -> Result<(u64, EntryId), BackplaneError> {
        let limit = self.shared.config.publish_timeout;
        let mut tails = self.tails();
        // A tail that did not start from where `connect` found the stream's end starts where it
        // is when the tail first reaches Redis: an entry appended before would never come.
        for tail in &mut tails {
            let _ = tail.wait_for(Option::is_some).await;
        }
        let bytes = envelope.to_transport();
        let persistent = control::persistent_field(envelope, &self.shared.config);
        let (field, until) = persistent.unwrap_or_default();
        let mut invocation = self.publish_script.prepare_invoke();
        invocation
            .key(self.shared.config.key.as_str())
            .key(&self.shared.epoch_key)
            .key(&self.control.keys.persistent)
            .key(&self.control.keys.persistent_until)
            .arg(new_epoch())
            .arg(self.shared.config.max_len)
            .arg(FIELD)
            .arg(&bytes[..])
            .arg(field)
            .arg(until)
            .arg(self.shared.config.persistent_max);
        let (epoch, id): (Value, Value) = invocation
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(|err| redis_error(&err, limit))?;
        let epoch = reply::epoch(&epoch)?.ok_or_else(|| {
            BackplaneError::Unavailable("the publish script returned no epoch".into())
        })?;
        Ok((epoch, reply::entry_id(&id)?))
    }

    /// Waits until every tail of this instance has read past `id`: the entry is then on its way
    /// to the hub's dispatcher.
    async fn read_by_tails(&self, epoch: u64, id: EntryId) {
        for mut tail in self.tails() {
            let _ = tail
                .wait_for(|p| p.is_some_and(|p| p.epoch != epoch || p.last >= id))
                .await;
        }
    }

    async fn read_after(&self, after: &Cursor, max: usize) -> Result<Replay, BackplaneError> {
        let limit = self.shared.config.publish_timeout;
        let mut invocation = self.replay_script.prepare_invoke();
        invocation
            .key(self.shared.config.key.as_str())
            .key(&self.shared.epoch_key)
            .arg(after.epoch())
            .arg(EntryId::of(after).to_string())
            .arg(max.saturating_add(1));
        let (epoch, head, complete, newer): (Value, Value, bool, Value) = invocation
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(|err| redis_error(&err, limit))?;
        let Some(epoch) = reply::epoch(&epoch)? else {
            return Ok(Replay::Gap { head: None });
        };
        // Before the first entry, the head is the epoch's start, which a client can resume
        // from.
        let head = reply::range(head)?
            .first()
            .map_or(EntryId::ZERO, |h| h.id)
            .cursor(epoch);
        let gap = Ok(Replay::Gap { head: Some(head) });
        if epoch != after.epoch() || !complete {
            return gap;
        }
        let newer = reply::range(newer)?;
        if newer.len() > max {
            return gap;
        }
        // One entry nobody can decode does not cost the client the rest: it is left out and
        // counted (the tail reports it to the hubs when it reads it).
        let entries = newer
            .into_iter()
            .filter_map(|entry| match entry.decode(epoch) {
                Ok(entry) => Some(entry),
                Err(_) => {
                    self.shared.skipped.fetch_add(1, Relaxed);
                    None
                }
            })
            .collect();
        Ok(Replay::Entries(entries))
    }

    async fn within_timeout<T>(
        &self,
        work: impl Future<Output = Result<T, BackplaneError>>,
    ) -> Result<T, BackplaneError> {
        if self.is_closed() {
            return Err(BackplaneError::Closed);
        }
        control::within(self.shared.config.publish_timeout, work).await
    }
}

#[async_trait::async_trait]
impl Backplane for RedisBackplane {
    /// Adds the entry (failing with a timeout if Redis does not answer in time), then waits,
    /// within the same limit, for this instance's tails to read it, so that the hub's wait for
    /// its dispatch is short. Once Redis has the entry the publish has succeeded: a tail that
    /// is late (a slow dispatcher, a reconnect) does not turn it into an error, which would
    /// make the caller publish the message twice.
    async fn publish(&self, envelope: Arc<Envelope>) -> Result<Entry, BackplaneError> {
        let (epoch, id) = self.within_timeout(self.append(&envelope)).await?;
        let limit = self.shared.config.publish_timeout;
        let _ = tokio::time::timeout(limit, self.read_by_tails(epoch, id)).await;
        Ok(Entry::new(id.cursor(epoch), envelope))
    }

    fn subscribe(&self) -> Option<EntryStream> {
        let from = self.start.lock().take();
        let (progress_tx, progress_rx) = watch::channel(from);
        let (first_poll_tx, first_poll_rx) = oneshot::channel();
        let (stream, sender) = tail::channel(&self.shared, first_poll_tx);
        self.tails.lock().push(progress_rx);
        *self.first_poll.lock() = Some(first_poll_rx);
        self.runtime.spawn(tail::run(
            Arc::clone(&self.shared),
            from,
            sender,
            progress_tx,
        ));
        Some(stream)
    }

    async fn replay(&self, after: &Cursor, max: usize) -> Result<Replay, BackplaneError> {
        self.within_timeout(self.read_after(after, max)).await
    }

    /// `entries` is the stream's length (`XLEN`) as of the tail's latest read, shared by every
    /// instance; `bytes` is 0, since the history lives in Redis.
    fn stats(&self) -> BackplaneStats {
        let buffered = self.shared.buffered.load(Relaxed) as u64;
        let lag_ms = if buffered > 0 {
            let now = sse_hub::Clock::system().now_ms();
            now.saturating_sub(self.shared.dispatched_ms.load(Relaxed))
        } else {
            0
        };
        BackplaneStats {
            entries: self.shared.entries.load(Relaxed),
            bytes: 0,
            skipped: self.shared.skipped.load(Relaxed),
            lag_entries: buffered,
            lag_ms,
        }
    }

    fn instance(&self) -> Option<InstanceId> {
        Some(self.control.instance)
    }

    fn control(&self) -> Option<ControlStream> {
        Some(control::start(
            Arc::clone(&self.shared),
            Arc::clone(&self.control),
            self.conn.clone(),
            &self.runtime,
        ))
    }

    async fn command(&self, command: &Command) -> Result<Answers, BackplaneError> {
        if self.is_closed() {
            return Err(BackplaneError::Closed);
        }
        self.control
            .command(&self.shared, &self.conn, command)
            .await
    }

    async fn cluster_stats(&self) -> Result<Vec<InstanceStats>, BackplaneError> {
        self.within_timeout(self.control.live(&self.shared, &self.conn))
            .await
    }

    async fn store_ban(&self, user: &UserId, until: Option<u64>) -> Result<(), BackplaneError> {
        self.within_timeout(
            self.control
                .store_ban(&self.shared, &self.conn, user, until),
        )
        .await
    }

    async fn bans(&self) -> Result<Vec<(UserId, u64)>, BackplaneError> {
        self.within_timeout(self.control.bans(&self.shared, &self.conn))
            .await
    }

    async fn persistent(&self) -> Result<Vec<Entry>, BackplaneError> {
        self.within_timeout(self.control.persistent(&self.shared, &self.conn))
            .await
    }

    async fn claim_idempotency(
        &self,
        key: &IdempotencyKey,
        pending: &IdempotencyRecord,
        window: Duration,
    ) -> Result<Claim, BackplaneError> {
        if self.is_closed() {
            return Err(BackplaneError::Closed);
        }
        // Bounded inside: each command by the connection's response timeout, the wait for a
        // pending send by two publish timeouts.
        idempotency::claim(&self.shared.config, &self.conn, key, pending, window).await
    }

    async fn presence_change(
        &self,
        update: &PresenceUpdate,
    ) -> Result<Option<bool>, BackplaneError> {
        let instance = self.control.instance.to_string();
        self.within_timeout(self.presence.decide(
            &self.shared.config,
            &self.conn,
            &instance,
            update,
        ))
        .await
    }

    async fn settle_idempotency(
        &self,
        key: &IdempotencyKey,
        done: Option<&IdempotencyRecord>,
        window: Duration,
    ) -> Result<(), BackplaneError> {
        self.within_timeout(idempotency::settle(
            &self.shared.config,
            &self.conn,
            key,
            done,
            window,
        ))
        .await
    }
}

impl Drop for RedisBackplane {
    fn drop(&mut self) {
        self.close();
    }
}

impl fmt::Debug for RedisBackplane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBackplane")
            .field("key", &self.shared.config.key.as_str())
            .field("max_len", &self.shared.config.max_len)
            .field("epoch", &self.epoch())
            .field("entries", &self.shared.entries.load(Relaxed))
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

/// A fresh epoch, in the same range as the in-memory backplane's.
fn new_epoch() -> u64 {
    u64::from(fastrand::u32(1..))
}

pub(crate) fn redis_error(err: &redis::RedisError, limit: Duration) -> BackplaneError {
    if err.is_timeout() {
        BackplaneError::Timeout(limit)
    } else {
        BackplaneError::Unavailable(format!("redis: {err}").into())
    }
}
