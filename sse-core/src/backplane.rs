//! The backplane: the log every message passes through, local or shared between instances.

use std::{fmt, pin::Pin, sync::Arc, time::Duration};

use bytes::Bytes;
use futures_core::Stream;
use parking_lot::Mutex;

use crate::{
    Clock, Cursor, Envelope, HistoryConfig, IdempotencyKey, InstanceId, UserId,
    cluster::{Answers, Command, ControlStream, InstanceStats, PresenceUpdate},
    error::BackplaneError,
    history::{History, Lookup},
    hub::{Claim, IdempotencyRecord},
    queue,
};

/// One message in the log: its cursor, its envelope, and the frame clients receive.
///
/// The frame (`id: <cursor>` and the encoded event) is made once, when the entry is made; live
/// dispatch, replay and persistent delivery then share it, so a thousand clients replaying the
/// same message hold one copy of it. Cloning an entry is cheap.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use sse_hub::{Channel, Cursor, Entry, EventType, Hub, Message};
///
/// let envelope = Hub::new().encode(Message::new(Channel::CHAT, EventType::Data, "hi".into()))?;
/// let entry = Entry::new(Cursor::new(7, 1, 0), Arc::new(envelope));
/// assert!(entry.frame().starts_with(b"id: 7-1-0\nevent: data\ndata: {"));
/// assert_eq!(entry.envelope().channel(), &Channel::CHAT);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Entry {
    cursor: Cursor,
    frame: Arc<queue::Frame>,
}

impl Entry {
    /// The entry of `envelope` at `cursor`: frames it once.
    pub fn new(cursor: Cursor, envelope: Arc<Envelope>) -> Self {
        let (bytes, envelope) = envelope.framed(&cursor);
        let frame = Arc::new(queue::Frame {
            bytes,
            cursor: Some(cursor),
            priority: envelope.priority(),
            expires_at: envelope.expires_at(),
            coalesce: envelope.coalesce_key().cloned(),
            envelope: Some(envelope),
        });
        Self { cursor, frame }
    }

    /// The position of the message.
    pub fn cursor(&self) -> Cursor {
        self.cursor
    }

    /// The validated, encoded message.
    pub fn envelope(&self) -> &Envelope {
        self.frame
            .envelope
            .as_ref()
            .expect("a log entry's frame holds its envelope")
    }

    /// The frame a client receives: the `id:` line and the encoded event.
    pub fn frame(&self) -> &Bytes {
        &self.frame.bytes
    }

    /// Approximate heap bytes held by this entry, for memory statistics.
    pub fn heap_size(&self) -> usize {
        // The envelope's body shares the frame's bytes.
        let envelope = self.envelope();
        envelope.heap_size() + self.frame.bytes.len() - envelope.body().len()
            + std::mem::size_of::<queue::Frame>()
    }

    /// The shared frame, for a connection's queue.
    pub(crate) fn queued(&self) -> Arc<queue::Frame> {
        Arc::clone(&self.frame)
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("cursor", &self.cursor)
            .field("envelope", self.envelope())
            .finish_non_exhaustive()
    }
}

/// The result of [`Backplane::replay`].
#[derive(Debug)]
pub enum Replay {
    /// Every retained entry after the cursor, oldest first. A log may include messages that
    /// are not retryable (the in-memory one leaves them out); the hub skips them.
    Entries(Vec<Entry>),
    /// The log no longer reaches back to the cursor (trimmed, aged out, wiped, or another
    /// epoch): the client must resynchronise.
    Gap {
        /// The newest cursor in the log when the replay was asked for, if the log has one.
        ///
        /// The hub gives it to the `history-gap` refresh as its SSE id when no newer message
        /// is already queued, so that the client resumes from there next time instead of
        /// running into the same gap again.
        head: Option<Cursor>,
    },
}

/// A stream of log entries in log order, for the hub's dispatcher.
pub type EntryStream = Pin<Box<dyn Stream<Item = Result<Entry, BackplaneError>> + Send>>;

/// Sizes a backplane reports for statistics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct BackplaneStats {
    /// Entries held for replay (by this process, or in the shared store).
    pub entries: usize,
    /// Bytes this process holds for replay (0 when the history lives elsewhere).
    pub bytes: usize,
    /// Entries left out of replays because they could not be decoded.
    pub skipped: u64,
    /// Entries read from a shared log that this instance's dispatcher has not taken yet.
    pub lag_entries: u64,
    /// While entries wait for the dispatcher: how old the entry it took last is, in
    /// milliseconds (0 when it keeps up).
    pub lag_ms: u64,
}

/// The log every message passes through: it assigns cursors, keeps history for replay, and,
/// when shared, carries messages between server instances.
///
/// A [`Hub`](crate::Hub) validates and encodes a message once, then calls
/// [`publish`](Backplane::publish) with the [`Envelope`]; the backplane returns the message's
/// [`Cursor`]. How the hub then dispatches depends on [`subscribe`](Backplane::subscribe):
///
/// - A **process-local** backplane ([`InMemoryBackplane`], the default) returns `None`: the hub
///   dispatches each message itself right after publishing it, and publishes one message at a
///   time so local delivery happens in cursor order.
/// - A **shared** backplane returns a stream of every entry in log order, this instance's own
///   included; the hub dispatches only what that stream yields, so every instance delivers in
///   the same order. The stream is driven by [`Hub::run_dispatcher`](crate::Hub::run_dispatcher),
///   which the application (or the backplane's crate) spawns.
///
/// [`replay`](Backplane::replay) returns the entries after a cursor, for clients that reconnect
/// with a `Last-Event-ID`, or [`Replay::Gap`].
///
/// # Mapping onto Redis Streams
///
/// The `sse-redis` crate implements this trait on one Redis stream:
///
/// - `publish` is one Lua script: `SET <stream>:epoch <random> NX`, `GET` it, and
///   `XADD <stream> MAXLEN ~ <n> * e <bytes>` with the bytes of [`Envelope::to_transport`]; the
///   entry id `<ms>-<seq>` becomes the cursor's `(major, minor)`, and the epoch stored beside the
///   stream becomes its epoch, so a wiped or replaced Redis yields a new epoch;
/// - `subscribe` tails the stream with a blocking `XREAD` from the last id seen and decodes each
///   entry with [`Envelope::from_transport`]; when entries may have been lost on their way (the
///   tail fell behind the trimming, or the epoch changed) the stream yields
///   [`BackplaneError::Lost`] and the hub tells every connection to resynchronise;
/// - `replay` is an exclusive `XRANGE <stream> (<ms>-<seq> + COUNT <max+1>`; it is a gap when
///   the epoch differs, when the client's own entry no longer exists (trimming removes the
///   oldest entries first, so if it exists, everything after it does too), or when more than
///   `max` entries follow.
///
/// # Examples
///
/// ```
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use sse_hub::{Backplane, HistoryConfig, Hub, InMemoryBackplane};
///
/// let backplane = Arc::new(InMemoryBackplane::new(HistoryConfig::default().capacity(1_000)));
/// let hub = Hub::builder().backplane(backplane).build();
/// # let _ = hub; Ok(()) }
/// ```
#[async_trait::async_trait]
pub trait Backplane: Send + Sync + fmt::Debug + 'static {
    /// Appends an envelope to the log and returns its entry ([`Entry::new`] at the cursor the
    /// log gave it).
    ///
    /// A process-local backplane returns the entry it keeps for replay: the hub dispatches that
    /// same entry, so the message is framed once. A shared backplane returns only once its
    /// [`subscribe`](Backplane::subscribe) stream will yield the entry:
    /// [`Hub::send`](crate::Hub::send) then waits for this instance's dispatch of it (and would
    /// otherwise wait until the dispatcher stops), and uses the returned entry only for errors.
    ///
    /// # Errors
    ///
    /// [`BackplaneError`] when the log cannot be written; the message reached nobody.
    async fn publish(&self, envelope: Arc<Envelope>) -> Result<Entry, BackplaneError>;

    /// The entries to dispatch on this instance, in log order, from now on; `None` for a
    /// process-local backplane whose publishes the hub dispatches itself.
    ///
    /// The stream yields every entry, or [`BackplaneError::Lost`] where it could not: the hub
    /// then gives every connection the history-gap refresh, and a send waiting for an entry
    /// that will not come back (or one older than an entry dispatched since) returns.
    ///
    /// Called once, by [`Hub::run_dispatcher`](crate::Hub::run_dispatcher).
    fn subscribe(&self) -> Option<EntryStream>;

    /// The retained entries after `after`, oldest first, at most `max` of them; more than `max`
    /// is a [`Replay::Gap`] too, so that a replay never grows without bound.
    ///
    /// # Errors
    ///
    /// [`BackplaneError`] when the log cannot be read; the hub then treats it as a gap.
    async fn replay(&self, after: &Cursor, max: usize) -> Result<Replay, BackplaneError>;

    /// Sizes for statistics.
    fn stats(&self) -> BackplaneStats {
        BackplaneStats::default()
    }

    /// The id of this instance on a shared backplane (the hub takes it as its own, and puts it
    /// in its connection ids); `None` for a process-local one, whose hub draws its own.
    fn instance(&self) -> Option<InstanceId> {
        None
    }

    /// The commands other instances send to this one (see [`cluster`](crate::cluster)), and,
    /// at the backplane's own pace, [`Command::Stats`] requests whose answers it publishes for
    /// [`cluster_stats`](Backplane::cluster_stats). `None` for a process-local backplane.
    ///
    /// Called once, by [`Hub::run_dispatcher`](crate::Hub::run_dispatcher), which carries out
    /// every request and answers it.
    fn control(&self) -> Option<ControlStream> {
        None
    }

    /// Sends `command` to every other instance and gathers their answers, waiting a bounded
    /// time: an instance known to be alive that does not answer in time is named in
    /// [`Answers::missing`]. A process-local backplane has no other instance.
    ///
    /// # Errors
    ///
    /// [`BackplaneError`] when the command could not be sent.
    async fn command(&self, command: &Command) -> Result<Answers, BackplaneError> {
        let _ = command;
        Ok(Answers::default())
    }

    /// The statistics the live instances last published, each within its time to live.
    ///
    /// # Errors
    ///
    /// [`BackplaneError`] when the store cannot be read.
    async fn cluster_stats(&self) -> Result<Vec<InstanceStats>, BackplaneError> {
        Ok(Vec::new())
    }

    /// Stores a ban for instances that start later (`until` in milliseconds since the Unix
    /// epoch), or lifts it with `None`. A process-local backplane stores nothing: its hub
    /// keeps the ban.
    ///
    /// # Errors
    ///
    /// [`BackplaneError`] when the store cannot be written.
    async fn store_ban(&self, user: &UserId, until: Option<u64>) -> Result<(), BackplaneError> {
        let _ = (user, until);
        Ok(())
    }

    /// The stored bans that have not ended, read when a hub's dispatcher starts.
    ///
    /// # Errors
    ///
    /// [`BackplaneError`] when the store cannot be read.
    async fn bans(&self) -> Result<Vec<(UserId, u64)>, BackplaneError> {
        Ok(Vec::new())
    }

    /// The persistent messages the shared store keeps (with their time to live, bounded), so
    /// that an instance that starts later serves those published before it; read when a
    /// hub's dispatcher starts. A process-local backplane returns none: its hub's own cache
    /// has them.
    ///
    /// # Errors
    ///
    /// [`BackplaneError`] when the store cannot be read.
    async fn persistent(&self) -> Result<Vec<Entry>, BackplaneError> {
        Ok(Vec::new())
    }

    /// Claims an idempotency key for a send, with the `pending` record, for at least the send
    /// and at most `window`; or finds the record of the send that holds it (waiting a bounded
    /// time for its report). The default, [`Claim::Unsupported`], leaves keys to the hub,
    /// which keeps them for its own instance.
    ///
    /// # Errors
    ///
    /// [`BackplaneError`] when the store cannot be reached; the message is not sent.
    async fn claim_idempotency(
        &self,
        key: &IdempotencyKey,
        pending: &IdempotencyRecord,
        window: Duration,
    ) -> Result<Claim, BackplaneError> {
        let _ = (key, pending, window);
        Ok(Claim::Unsupported)
    }

    /// Settles a key this instance claimed: stores the `done` record for `window`, or, with
    /// `None` (the send failed), gives the key back so that a retry goes out.
    ///
    /// # Errors
    ///
    /// [`BackplaneError`] when the store cannot be written.
    async fn settle_idempotency(
        &self,
        key: &IdempotencyKey,
        done: Option<&IdempotencyRecord>,
        window: Duration,
    ) -> Result<(), BackplaneError> {
        let _ = (key, done, window);
        Ok(())
    }

    /// Decides a presence change cluster-wide (see [`PresenceUpdate`]): `Some(true)` when the
    /// hub should act (send the join, hold the leave, send the leave), `Some(false)` when not.
    /// The default, `None`, leaves the decision to the hub, which knows only this instance.
    ///
    /// # Errors
    ///
    /// [`BackplaneError`] when the store cannot be reached; the hub then decides alone.
    async fn presence_change(
        &self,
        update: &PresenceUpdate,
    ) -> Result<Option<bool>, BackplaneError> {
        let _ = update;
        Ok(None)
    }
}

/// The embedded, process-local backplane: a bounded in-memory history.
///
/// Cursors are `<epoch>-<sequence>-0`; the epoch is drawn at random when the backplane is
/// created, so clients that reconnect after a restart get a `history-gap` refresh instead of a
/// silent loss.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_hub::{HistoryConfig, InMemoryBackplane};
///
/// let backplane = InMemoryBackplane::new(
///     HistoryConfig::default().capacity(1_000).max_age(Duration::from_secs(60)),
/// );
/// # let _ = backplane;
/// ```
pub struct InMemoryBackplane {
    history: Mutex<History>,
    clock: Clock,
}

impl InMemoryBackplane {
    /// A backplane keeping the given history, on the system clock.
    pub fn new(config: HistoryConfig) -> Self {
        Self::with_clock(config, Clock::system())
    }

    /// A backplane keeping the given history, reading time from `clock` (for tests).
    pub fn with_clock(config: HistoryConfig, clock: Clock) -> Self {
        Self::with_epoch(config, clock, u64::from(fastrand::u32(1..)))
    }

    /// A backplane with a fixed epoch, for tests that assert exact cursors.
    pub fn with_epoch(config: HistoryConfig, clock: Clock, epoch: u64) -> Self {
        Self {
            history: Mutex::new(History::new(config, epoch)),
            clock,
        }
    }

    /// The epoch of this log.
    pub fn epoch(&self) -> u64 {
        self.history.lock().epoch()
    }

    /// The cursor of the last published message (`<epoch>-0-0` before the first).
    pub fn head(&self) -> Cursor {
        self.history.lock().head()
    }
}

impl Default for InMemoryBackplane {
    fn default() -> Self {
        Self::new(HistoryConfig::default())
    }
}

impl fmt::Debug for InMemoryBackplane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let history = self.history.lock();
        f.debug_struct("InMemoryBackplane")
            .field("epoch", &history.epoch())
            .field("head", &history.head())
            .field("entries", &history.len())
            .finish()
    }
}

#[async_trait::async_trait]
impl Backplane for InMemoryBackplane {
    async fn publish(&self, envelope: Arc<Envelope>) -> Result<Entry, BackplaneError> {
        let now = self.clock.now_ms();
        Ok(self.history.lock().append(&envelope, now))
    }

    fn subscribe(&self) -> Option<EntryStream> {
        None
    }

    async fn replay(&self, after: &Cursor, max: usize) -> Result<Replay, BackplaneError> {
        let now = self.clock.now_ms();
        Ok(match self.history.lock().after(after, now, max) {
            Lookup::Entries(entries) => Replay::Entries(entries),
            Lookup::Gap { head } => Replay::Gap { head },
        })
    }

    fn stats(&self) -> BackplaneStats {
        let history = self.history.lock();
        BackplaneStats {
            entries: history.len(),
            bytes: history.bytes(),
            ..BackplaneStats::default()
        }
    }
}
