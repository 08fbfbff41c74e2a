//! Connections: how one is opened ([`ConnectOptions`]), what the hub can tell about it
//! ([`ConnectionInfo`]), and the state the hub and its [`Subscription`](crate::Subscription)
//! share.

use std::{
    fmt,
    net::SocketAddr,
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    task::{Context, Poll, Waker},
    time::Duration,
};

use bytes::Bytes;
use parking_lot::{Mutex, MutexGuard};
use serde::Serialize;

use crate::{
    Channel, Clock, Cursor, Identity, Permission, Role, UserId,
    envelope::Recipient,
    hub::{Counters, Tally},
    ledger::Lost,
    queue::{Frame, Queue},
};

/// Identifies a connection: the instance that holds it and its number there.
///
/// A hub on a process-local backplane writes `conn-<n>`; a hub on a shared backplane writes
/// `conn-<instance>-<n>` with its [`InstanceId`](crate::InstanceId), so that an id names one
/// connection across every instance and a kick or lookup by id works from any of them. Both
/// forms parse, and a bare number is read as `conn-<n>`.
///
/// # Examples
///
/// ```
/// let id: sse_hub::ConnectionId = "conn-42".parse().unwrap();
/// assert_eq!(id.to_string(), "conn-42");
/// assert_eq!("42".parse::<sse_hub::ConnectionId>().unwrap(), id);
///
/// let shared: sse_hub::ConnectionId = "conn-00000000000000ab-7".parse().unwrap();
/// assert_eq!(shared.get(), 7);
/// assert_eq!(shared.instance().unwrap().to_string(), "00000000000000ab");
/// assert_eq!(shared.to_string(), "conn-00000000000000ab-7");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionId {
    /// The instance, 0 on a process-local backplane.
    pub(crate) instance: u64,
    pub(crate) seq: u64,
}

impl ConnectionId {
    pub(crate) const fn new(instance: u64, seq: u64) -> Self {
        Self { instance, seq }
    }

    /// The connection's number on its instance.
    pub fn get(self) -> u64 {
        self.seq
    }

    /// The instance that holds the connection, when its hub is on a shared backplane.
    pub fn instance(self) -> Option<crate::InstanceId> {
        (self.instance != 0).then_some(crate::InstanceId(self.instance))
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.instance == 0 {
            write!(f, "conn-{}", self.seq)
        } else {
            write!(f, "conn-{:016x}-{}", self.instance, self.seq)
        }
    }
}

impl FromStr for ConnectionId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.strip_prefix("conn-").unwrap_or(s);
        match s.split_once('-') {
            Some((instance, seq)) => {
                Ok(Self::new(u64::from_str_radix(instance, 16)?, seq.parse()?))
            }
            None => Ok(Self::new(0, s.parse()?)),
        }
    }
}

impl Serialize for ConnectionId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ConnectionId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// How to open a connection with [`Hub::connect`](crate::Hub::connect).
///
/// # Examples
///
/// ```
/// use sse_hub::{Channel, ConnectOptions, Identity, UserId};
///
/// let options = ConnectOptions::new(Identity::user(UserId::from(7)))
///     .channels([Channel::NOTIFICATIONS, Channel::TOASTS])
///     .queue_capacity(128)
///     .client_addr("127.0.0.1:50000".parse().unwrap())
///     .last_event_id("17-4-0".parse().unwrap());
/// # let _ = options;
/// ```
#[derive(Clone)]
#[must_use]
pub struct ConnectOptions {
    pub(crate) identity: Identity,
    pub(crate) channels: Vec<Channel>,
    pub(crate) queue_capacity: Option<usize>,
    pub(crate) client_addr: Option<SocketAddr>,
    pub(crate) last_event_id: Option<Cursor>,
    pub(crate) permissions: Option<Vec<Permission>>,
    pub(crate) guard: Option<Arc<Guard>>,
    pub(crate) presence: bool,
}

/// A value held while a connection is open: see [`ConnectOptions::guard`].
pub(crate) type Guard = Mutex<Option<Box<dyn std::any::Any + Send>>>;

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("identity", &self.identity)
            .field("channels", &self.channels)
            .field("queue_capacity", &self.queue_capacity)
            .field("client_addr", &self.client_addr)
            .field("last_event_id", &self.last_event_id)
            .field("permissions", &self.permissions)
            .field("guard", &self.guard.is_some())
            .field("presence", &self.presence)
            .finish()
    }
}

impl ConnectOptions {
    /// Options for a connection of `identity` (use [`Identity::anonymous`] for none).
    pub fn new(identity: Identity) -> Self {
        Self {
            identity,
            channels: Vec::new(),
            queue_capacity: None,
            client_addr: None,
            last_event_id: None,
            permissions: None,
            guard: None,
            presence: false,
        }
    }

    /// Whether the connection receives presence events on its channels: `presence-join` when
    /// a user's first connection to a channel opens and `presence-leave` when their last one
    /// closes, for the channels the hub tracks
    /// ([`HubBuilder::presence_channels`](crate::HubBuilder::presence_channels)). Default: no.
    pub fn presence(mut self, presence: bool) -> Self {
        self.presence = presence;
        self
    }

    /// The channels to subscribe to (duplicates are ignored).
    pub fn channels(mut self, channels: impl IntoIterator<Item = Channel>) -> Self {
        self.channels = channels.into_iter().collect();
        self
    }

    /// The queue capacity, in frames (default: the hub's).
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = Some(capacity);
        self
    }

    /// The client's address, shown in [`ConnectionInfo`].
    pub fn client_addr(mut self, addr: SocketAddr) -> Self {
        self.client_addr = Some(addr);
        self
    }

    /// The connection's effective permissions, already resolved by the caller (for example to
    /// check endpoint access): the hub's [`PermissionResolver`](crate::PermissionResolver) is
    /// then not called again.
    pub fn permissions(mut self, permissions: impl IntoIterator<Item = Permission>) -> Self {
        self.permissions = Some(permissions.into_iter().collect());
        self
    }

    /// A value the hub holds while the connection is open and drops as soon as it ends: when
    /// the hub closes it (too slow, disconnected, shut down) or its
    /// [`Subscription`](crate::Subscription) is dropped, whichever comes first.
    ///
    /// A server puts the connection's places under its limits here, so that a stream the hub
    /// ended frees them at once, even while its client reads nothing and its response body is
    /// not polled again.
    pub fn guard(mut self, guard: impl Send + 'static) -> Self {
        self.guard = Some(Arc::new(Mutex::new(Some(Box::new(guard)))));
        self
    }

    /// The cursor the client last saw (its `Last-Event-ID`): the connection first receives what
    /// it missed.
    pub fn last_event_id(mut self, cursor: Cursor) -> Self {
        self.last_event_id = Some(cursor);
        self
    }
}

/// What the hub knows about an open connection, from
/// [`Hub::connection_info`](crate::Hub::connection_info).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(description = "An open connection.")
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// The connection id.
    pub id: ConnectionId,
    /// The instance that holds the connection.
    pub instance: crate::InstanceId,
    /// The user, if authenticated.
    pub user_id: Option<UserId>,
    /// The roles.
    pub roles: Vec<Role>,
    /// The effective permissions.
    pub permissions: Vec<Permission>,
    /// The subscribed channels.
    pub channels: Vec<Channel>,
    /// When the connection opened (milliseconds since the Unix epoch).
    pub connected_at: u64,
    /// When a frame or heartbeat was last written (milliseconds since the Unix epoch).
    pub last_activity: u64,
    /// The client's address, if known.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "203.0.113.7:52100"))]
    pub client_addr: Option<SocketAddr>,
    /// Frames waiting to be written.
    pub queue_len: usize,
    /// Frames written.
    pub delivered: u64,
    /// Frames dropped: shed, expired or coalesced.
    pub dropped: u64,
    /// When the connection's credentials expire (milliseconds since the Unix epoch), if they do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
}

/// The shared state of one open connection: what routing needs, and its queue.
///
/// Kept small (architecture decision 10): owned copies of what routing needs, in boxed slices,
/// and no task, timer or channel receiver. Every change of the queue goes through a method
/// here, which keeps the hub's count of queued bytes and wakes the writer.
pub(crate) struct Connection {
    /// The connection's number on this instance; its id is
    /// [`Origin::connection_id`](crate::registry::Origin::connection_id) of it.
    pub(crate) seq: u64,
    /// Whether the connection asked for presence events.
    pub(crate) presence: bool,
    pub(crate) user: Option<UserId>,
    pub(crate) roles: Box<[Role]>,
    /// Effective permissions, after the resolver.
    pub(crate) permissions: Box<[Permission]>,
    pub(crate) channels: Box<[Channel]>,
    client_addr: Option<SocketAddr>,
    connected_at: u64,
    last_activity: AtomicU64,
    delivered: AtomicU64,
    dropped: AtomicU64,
    /// When the credentials expire, in milliseconds since the Unix epoch; 0 for never.
    expires_at: AtomicU64,
    state: Mutex<State>,
    /// See [`ConnectOptions::guard`]: dropped when the connection ends.
    guard: Option<Arc<Guard>>,
}

struct State {
    queue: Queue,
    waker: Option<Waker>,
    closing: Closing,
    /// The last cursor given to the connection, by replay, persistent delivery or live
    /// dispatch: an entry at or below it in the same epoch is never queued again, whatever
    /// order dispatch and replay run in (architecture decision 11).
    last: Option<Cursor>,
    /// Why the hub (or the server) ended the stream, once it did.
    reason: Option<CloseReason>,
}

/// Why a stream ended, for statistics, metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CloseReason {
    /// The client went away (or the server dropped the stream for its own reasons).
    ClientGone,
    /// The client could not keep up: its queue was full of frames it had to receive.
    TooSlow,
    /// The stream reached its lifetime (sse-tower's `connection_timeout`).
    Lifetime,
    /// Disconnected or kicked ([`Hub::kick`](crate::Hub::kick) and the like).
    Kicked,
    /// Its user was banned ([`Hub::ban_user`](crate::Hub::ban_user)).
    Banned,
    /// Its credentials expired or were revoked.
    AuthExpired,
    /// The hub shut down.
    Shutdown,
}

impl CloseReason {
    /// Every reason, in a fixed order.
    pub const ALL: [CloseReason; 7] = [
        Self::ClientGone,
        Self::TooSlow,
        Self::Lifetime,
        Self::Kicked,
        Self::Banned,
        Self::AuthExpired,
        Self::Shutdown,
    ];

    /// The reason's name in metrics and logs: `client-gone`, `too-slow`, `lifetime`,
    /// `kicked`, `banned`, `auth-expired`, `shutdown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientGone => "client-gone",
            Self::TooSlow => "too-slow",
            Self::Lifetime => "lifetime",
            Self::Kicked => "kicked",
            Self::Banned => "banned",
            Self::AuthExpired => "auth-expired",
            Self::Shutdown => "shutdown",
        }
    }

    pub(crate) fn index(self) -> usize {
        Self::ALL.iter().position(|r| *r == self).expect("listed")
    }
}

/// Whether and how the stream ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Closing {
    Open,
    /// The final `retry:` (in milliseconds) is still to be written.
    Ending(u32),
    Ended,
}

/// What offering a frame to a connection did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Offered {
    Queued,
    /// The connection was already given this entry (by replay or persistent delivery).
    AlreadyGiven,
    Shed,
    ClosedSlow,
    AlreadyClosed,
}

/// What [`Connection::open`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Opened {
    /// Frames placed from history or the persistent cache.
    pub(crate) replayed: usize,
    /// Whether a history-gap refresh was queued instead.
    pub(crate) gap: bool,
}

/// Whether `cursor` is at or below `last` in the same epoch.
fn is_at_or_below(cursor: &Cursor, last: &Cursor) -> bool {
    cursor.partial_cmp(last).is_some_and(|order| order.is_le())
}

/// The newer of two cursors; of two epochs, the later one given.
fn newest(last: Cursor, given: Cursor) -> Cursor {
    if is_at_or_below(&given, &last) {
        last
    } else {
        given
    }
}

/// The connection's state, locked; the hub's count of queued bytes follows the queue's size
/// when the lock is released.
struct Locked<'a> {
    state: MutexGuard<'a, State>,
    before: usize,
    counters: &'a Counters,
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        self.counters
            .queue_bytes_changed(self.before, self.state.queue.bytes());
    }
}

impl Connection {
    pub(crate) fn new(
        seq: u64,
        identity: Identity,
        permissions: Vec<Permission>,
        channels: Vec<Channel>,
        client_addr: Option<SocketAddr>,
        queue_capacity: usize,
        now_ms: u64,
    ) -> Self {
        let (user, roles, expires_at) = identity.into_parts();
        Self {
            seq,
            presence: false,
            user,
            roles: roles.into_boxed_slice(),
            permissions: permissions.into_boxed_slice(),
            channels: channels.into_boxed_slice(),
            client_addr,
            connected_at: now_ms,
            last_activity: AtomicU64::new(now_ms),
            delivered: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            expires_at: AtomicU64::new(expires_at.map_or(0, |at| at.max(1))),
            state: Mutex::new(State {
                queue: Queue::new(queue_capacity),
                waker: None,
                closing: Closing::Open,
                last: None,
                reason: None,
            }),
            guard: None,
        }
    }

    /// A connection that receives presence events (`presence-join`, `presence-leave`) on its
    /// channels.
    pub(crate) fn with_presence(mut self, presence: bool) -> Self {
        self.presence = presence;
        self
    }

    /// A connection of a client that resumes after `cursor` (its `Last-Event-ID`): it has
    /// every entry up to the cursor already, so those are never queued again, even when their
    /// dispatch reaches the new connection (the client read them from history on an earlier
    /// connection, before this instance dispatched them).
    pub(crate) fn resuming_after(mut self, cursor: Option<Cursor>) -> Self {
        self.state.get_mut().last = cursor;
        self
    }

    /// Holds `guard` until the connection ends.
    pub(crate) fn guarded(mut self, guard: Option<Arc<Guard>>) -> Self {
        self.guard = guard;
        self
    }

    /// Drops the guard: the connection has ended.
    fn end(&self) {
        if let Some(guard) = &self.guard {
            let value = guard.lock().take();
            drop(value);
        }
    }

    pub(crate) fn recipient(&self) -> Recipient<'_> {
        Recipient {
            user: self.user.as_ref(),
            roles: &self.roles,
            permissions: &self.permissions,
            channels: &self.channels,
            presence: self.presence,
        }
    }

    pub(crate) fn subscribes(&self, channel: &Channel) -> bool {
        self.channels.contains(channel)
    }

    fn lock<'a>(&'a self, counters: &'a Counters) -> Locked<'a> {
        let state = self.state.lock();
        let before = state.queue.bytes();
        Locked {
            state,
            before,
            counters,
        }
    }

    /// Wakes the writer, after the lock is released.
    fn release_and_wake(mut locked: Locked<'_>) {
        let waker = locked.state.waker.take();
        drop(locked);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Queues a live frame; closes the connection when it is too slow. What it did is added
    /// to `tally`, which the caller applies to the hub's counters once for all the recipients
    /// of a message: counters shared by every connection are not touched per recipient.
    pub(crate) fn offer(
        &self,
        frame: Arc<Frame>,
        now_ms: u64,
        tally: &mut Tally,
        slow_close_retry_ms: u32,
    ) -> Offered {
        let mut state = self.state.lock();
        if state.closing != Closing::Open {
            return Offered::AlreadyClosed;
        }
        if let Some(cursor) = frame.cursor {
            if state
                .last
                .is_some_and(|last| is_at_or_below(&cursor, &last))
            {
                return Offered::AlreadyGiven;
            }
        }
        let bytes_before = state.queue.bytes();
        let cursor = frame.cursor;
        let mut lost = Vec::new();
        let pushed = state.queue.push_noting(frame, now_ms, &mut lost);
        if pushed.queued {
            if let Some(cursor) = cursor {
                state.last = Some(cursor);
            }
        }
        tally.shed += u64::from(pushed.shed);
        tally.expired += u64::from(pushed.expired);
        tally.coalesced += u64::from(pushed.coalesced);
        let mut dropped = u64::from(pushed.shed + pushed.expired + pushed.coalesced);
        let outcome = if pushed.too_slow {
            // The queued frames and the new one are never written.
            let cleared = state.queue.clear_noting(Lost::SlowClosed, &mut lost) as u64 + 1;
            dropped += cleared;
            tally.cleared += cleared;
            tally.closed_slow += 1;
            tally.cleared_slow += cleared;
            state.closing = Closing::Ending(slow_close_retry_ms);
            state.reason = Some(CloseReason::TooSlow);
            Offered::ClosedSlow
        } else if pushed.queued {
            tally.queued += 1;
            Offered::Queued
        } else {
            Offered::Shed
        };
        tally.queue_bytes_changed(bytes_before, state.queue.bytes());
        if !lost.is_empty() {
            let seq = self.seq;
            tally
                .lost
                .extend(lost.into_iter().map(|(c, why)| (seq, c, why)));
        }
        if dropped > 0 {
            self.dropped.fetch_add(dropped, Relaxed);
        }
        let waker = state.waker.take();
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        if outcome == Offered::ClosedSlow {
            self.end();
        }
        outcome
    }

    /// Ends the opening: places what the connection missed (`earlier`, from history or the
    /// persistent cache, in log order) among the live frames offered meanwhile, each once and
    /// in log order.
    ///
    /// The client is told to resynchronise with the `refresh` event that `refresh` makes, in
    /// front of everything, instead: when history no longer reached its cursor (`gap` is the
    /// log's head then), or when the missed frames do not fit the queue (they would pin the
    /// queue, and the first live message would close the connection as too slow). `refresh`
    /// is given the cursor the client may resume from next time: the head (or the newest
    /// missed frame), unless a live frame at or below it is queued behind the refresh.
    pub(crate) fn open(
        &self,
        earlier: Vec<Arc<Frame>>,
        gap: Option<Option<Cursor>>,
        refresh: impl FnOnce(Option<Cursor>) -> Arc<Frame>,
        counters: &Counters,
    ) -> Opened {
        let mut locked = self.lock(counters);
        let state = &mut *locked.state;
        let newest_missed = earlier.iter().rev().find_map(|frame| frame.cursor);
        let fits = earlier.len() <= state.queue.room();
        let head = match gap {
            Some(head) => Some(head),
            None if !fits => Some(newest_missed),
            None => None,
        };
        if gap.is_some() {
            // The client's cursor is not in the log (trimmed, another epoch, or one the log
            // never had): what it was given is what is queued now, and the head below.
            state.last = state.queue.cursors().reduce(newest);
        }
        let mut replayed = 0;
        if fits {
            // With a gap, these are the persistent messages the client has not seen.
            replayed = state.queue.merge_earlier(earlier);
            if let Some(newest_missed) = newest_missed {
                state.last = Some(
                    state
                        .last
                        .map_or(newest_missed, |last| newest(last, newest_missed)),
                );
            }
        }
        if let Some(head) = head {
            let first_live = state.queue.cursors().next();
            let resume_from = head.filter(|head| {
                first_live.is_none_or(|live| live.partial_cmp(head).is_none_or(|o| o.is_gt()))
            });
            state.queue.push_front(refresh(resume_from));
            if let Some(head) = resume_from {
                state.last = Some(state.last.map_or(head, |last| newest(last, head)));
            }
        }
        let opened = Opened {
            replayed,
            gap: head.is_some(),
        };
        Self::release_and_wake(locked);
        opened
    }

    /// Ends the stream after a final `retry:` of `retry_ms`. Returns false if it was already
    /// ending.
    pub(crate) fn close(&self, retry_ms: u32, reason: CloseReason, counters: &Counters) -> bool {
        self.end_stream(None, retry_ms, reason, counters)
    }

    /// Ends the stream because its credentials expired or were revoked: what is queued is
    /// dropped unwritten (the client resumes from its last id, and history gives back what it
    /// may still read), then `refresh` and a final `retry:` of `retry_ms` are written. Returns
    /// false if it was already ending.
    pub(crate) fn expire(&self, refresh: Arc<Frame>, retry_ms: u32, counters: &Counters) -> bool {
        self.end_stream(Some(refresh), retry_ms, CloseReason::AuthExpired, counters)
    }

    /// Drops what is queued, then writes `last` (if any) and a final `retry:`.
    fn end_stream(
        &self,
        last: Option<Arc<Frame>>,
        retry_ms: u32,
        reason: CloseReason,
        counters: &Counters,
    ) -> bool {
        let mut locked = self.lock(counters);
        if locked.state.closing != Closing::Open {
            return false;
        }
        locked.state.reason = Some(reason);
        let mut lost = Vec::new();
        let cleared = locked.state.queue.clear_noting(Lost::Closed, &mut lost) as u64;
        self.count_cleared(cleared, counters);
        if let Some(last) = last {
            locked.state.queue.push_front(last);
        }
        locked.state.closing = Closing::Ending(retry_ms);
        Self::release_and_wake(locked);
        counters.lost(self.seq, &lost);
        self.end();
        true
    }

    /// When the credentials expire (milliseconds since the Unix epoch), if they do.
    pub(crate) fn expires_at(&self) -> Option<u64> {
        match self.expires_at.load(Relaxed) {
            0 => None,
            at => Some(at),
        }
    }

    /// Sets when the credentials expire (`None`: never), and wakes the writer so that a
    /// server's timer follows.
    pub(crate) fn set_expiry(&self, at: Option<u64>) {
        self.expires_at.store(at.map_or(0, |at| at.max(1)), Relaxed);
        let waker = self.state.lock().waker.take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Records why the server ends a stream the hub did not end (its lifetime), unless the
    /// hub ended it first.
    pub(crate) fn ended_by(&self, reason: CloseReason) {
        self.state.lock().reason.get_or_insert(reason);
    }

    /// Why the stream ended; `None` while it is open and nobody ended it.
    pub(crate) fn close_reason(&self) -> Option<CloseReason> {
        self.state.lock().reason
    }

    /// Gives back the queue's frames when the receiving half is dropped.
    pub(crate) fn release(&self, counters: &Counters) {
        let mut lost = Vec::new();
        let cleared = self
            .lock(counters)
            .state
            .queue
            .clear_noting(Lost::Closed, &mut lost) as u64;
        self.count_cleared(cleared, counters);
        counters.lost(self.seq, &lost);
        self.end();
    }

    fn count_cleared(&self, cleared: u64, counters: &Counters) {
        if cleared > 0 {
            self.dropped.fetch_add(cleared, Relaxed);
            counters.cleared.fetch_add(cleared, Relaxed);
        }
    }

    /// Polls for the next chunk to write: queued frames (up to `max_batch_bytes`), then, once
    /// the hub closed the connection, the final `retry:`; `Ready(None)` after that. The clock
    /// is read only when there are frames to take.
    pub(crate) fn poll_next(
        &self,
        cx: &mut Context<'_>,
        clock: &Clock,
        max_batch_bytes: usize,
        counters: &Counters,
    ) -> Poll<Option<Bytes>> {
        let mut locked = self.lock(counters);
        let state = &mut *locked.state;
        if !state.queue.is_empty() {
            let now_ms = clock.now_ms();
            let mut lost = Vec::new();
            let popped = state
                .queue
                .pop_batch_noting(now_ms, max_batch_bytes, &mut lost);
            if popped.expired > 0 {
                Counters::add(&counters.expired, popped.expired);
                self.dropped.fetch_add(u64::from(popped.expired), Relaxed);
                counters.lost(self.seq, &lost);
            }
            if let Some(batch) = popped.batch {
                drop(locked);
                let frames = u64::from(popped.frames);
                self.delivered.fetch_add(frames, Relaxed);
                counters.delivered.fetch_add(frames, Relaxed);
                self.last_activity.store(now_ms, Relaxed);
                return Poll::Ready(Some(batch));
            }
        }
        match state.closing {
            Closing::Open => {}
            Closing::Ending(retry_ms) => {
                state.closing = Closing::Ended;
                return Poll::Ready(Some(crate::system::retry(Duration::from_millis(
                    retry_ms.into(),
                ))));
            }
            Closing::Ended => return Poll::Ready(None),
        }
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Records that something (such as a heartbeat) was written.
    pub(crate) fn touch(&self, now_ms: u64) {
        self.last_activity.store(now_ms, Relaxed);
    }

    /// When the connection opened (milliseconds since the Unix epoch).
    pub(crate) fn connected_at(&self) -> u64 {
        self.connected_at
    }

    /// Whether the frame of `cursor` is still waiting to be written.
    pub(crate) fn holds(&self, cursor: &Cursor) -> bool {
        self.state.lock().queue.cursors().any(|c| c == *cursor)
    }

    /// Frames waiting to be written.
    pub(crate) fn queue_len(&self) -> usize {
        self.state.lock().queue.len()
    }

    pub(crate) fn info(&self, origin: &crate::registry::Origin) -> ConnectionInfo {
        ConnectionInfo {
            id: origin.connection_id(self.seq),
            instance: origin.instance,
            user_id: self.user.clone(),
            roles: self.roles.to_vec(),
            permissions: self.permissions.to_vec(),
            channels: self.channels.to_vec(),
            connected_at: self.connected_at,
            last_activity: self.last_activity.load(Relaxed),
            client_addr: self.client_addr,
            queue_len: self.queue_len(),
            delivered: self.delivered.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
            expires_at: self.expires_at(),
        }
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("seq", &self.seq)
            .field("user", &self.user)
            .field("roles", &self.roles)
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}
