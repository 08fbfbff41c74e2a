//! Connections: how one is opened ([`ConnectOptions`]), its receiving half ([`Subscription`])
//! and what the hub can tell about it ([`ConnectionInfo`]).

use std::{
    fmt,
    net::SocketAddr,
    pin::Pin,
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    task::{Context, Poll, Waker},
    time::Duration,
};

use bytes::Bytes;
use futures_core::Stream;
use parking_lot::Mutex;
use serde::Serialize;

use crate::{
    Channel, Cursor, Identity, Permission, Role, UserId,
    envelope::Recipient,
    hub::HubInner,
    queue::{self, Queue},
    stats::Counters,
};

/// Identifies a connection within one hub; written `conn-<n>`.
///
/// # Examples
///
/// ```
/// let id: sse_core::ConnectionId = "conn-42".parse().unwrap();
/// assert_eq!(id.to_string(), "conn-42");
/// assert_eq!("42".parse::<sse_core::ConnectionId>().unwrap(), id);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionId(pub(crate) u64);

impl ConnectionId {
    /// The numeric id.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn-{}", self.0)
    }
}

impl FromStr for ConnectionId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.strip_prefix("conn-").unwrap_or(s).parse().map(Self)
    }
}

impl Serialize for ConnectionId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How to open a connection with [`Hub::connect`](crate::Hub::connect).
///
/// # Examples
///
/// ```
/// use sse_core::{Channel, ConnectOptions, Identity, UserId};
///
/// let options = ConnectOptions::new(Identity::user(UserId::from(7)))
///     .channels([Channel::NOTIFICATIONS, Channel::TOASTS])
///     .queue_capacity(128)
///     .client_addr("127.0.0.1:50000".parse().unwrap())
///     .last_event_id("17-4-0".parse().unwrap());
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ConnectOptions {
    pub(crate) identity: Identity,
    pub(crate) channels: Vec<Channel>,
    pub(crate) queue_capacity: Option<usize>,
    pub(crate) client_addr: Option<SocketAddr>,
    pub(crate) last_event_id: Option<Cursor>,
    pub(crate) permissions: Option<Vec<Permission>>,
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
        }
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

    /// The cursor the client last saw (its `Last-Event-ID`): the connection first receives what
    /// it missed.
    pub fn last_event_id(mut self, cursor: Cursor) -> Self {
        self.last_event_id = Some(cursor);
        self
    }
}

/// What a connection got when it opened: the content of the `connected` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Connected {
    /// The connection id.
    pub connection_id: ConnectionId,
    /// The subscribed channels.
    pub channels: Vec<Channel>,
    /// The user, if authenticated.
    pub user_id: Option<UserId>,
    /// Whether the client resumed from a cursor.
    pub resumed: bool,
    /// Frames queued from history and the persistent cache before live messages.
    pub replayed: usize,
    /// Whether the history no longer reached the client's cursor (a `history-gap` refresh was
    /// queued first).
    pub history_gap: bool,
}

/// What the hub knows about an open connection, from
/// [`Hub::connection_info`](crate::Hub::connection_info).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// The connection id.
    pub id: ConnectionId,
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
    pub client_addr: Option<SocketAddr>,
    /// Frames waiting to be written.
    pub queue_len: usize,
    /// Frames written.
    pub delivered: u64,
    /// Frames dropped: shed, expired or coalesced.
    pub dropped: u64,
}

/// The shared state of one open connection.
///
/// Kept small (architecture decision 10): owned copies of what routing needs, in boxed slices,
/// and no task, timer or channel receiver.
pub(crate) struct Connection {
    pub(crate) id: ConnectionId,
    pub(crate) user: Option<UserId>,
    pub(crate) roles: Box<[Role]>,
    /// Effective permissions, after the resolver.
    pub(crate) permissions: Box<[Permission]>,
    pub(crate) channels: Box<[Channel]>,
    pub(crate) client_addr: Option<SocketAddr>,
    pub(crate) connected_at: u64,
    pub(crate) last_activity: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) state: Mutex<State>,
}

pub(crate) struct State {
    pub(crate) queue: Queue,
    waker: Option<Waker>,
    closing: Closing,
    /// While the connection is opening: the cursor of the first live message offered, so
    /// that replayed frames are merged in front of it without duplicates.
    pub(crate) opening: Option<Option<Box<Cursor>>>,
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
    Shed,
    ClosedSlow,
    AlreadyClosed,
}

impl Connection {
    pub(crate) fn new(
        id: ConnectionId,
        identity: Identity,
        permissions: Vec<Permission>,
        channels: Vec<Channel>,
        client_addr: Option<SocketAddr>,
        queue_capacity: usize,
        now_ms: u64,
    ) -> Self {
        let (user, roles) = identity.into_parts();
        Self {
            id,
            user,
            roles: roles.into_boxed_slice(),
            permissions: permissions.into_boxed_slice(),
            channels: channels.into_boxed_slice(),
            client_addr,
            connected_at: now_ms,
            last_activity: AtomicU64::new(now_ms),
            delivered: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            state: Mutex::new(State {
                queue: Queue::new(queue_capacity),
                waker: None,
                closing: Closing::Open,
                opening: Some(None),
            }),
        }
    }

    pub(crate) fn recipient(&self) -> Recipient<'_> {
        Recipient {
            user: self.user.as_ref(),
            roles: &self.roles,
            permissions: &self.permissions,
            channels: &self.channels,
        }
    }

    pub(crate) fn subscribes(&self, channel: &Channel) -> bool {
        self.channels.contains(channel)
    }

    /// Queues a live frame; closes the connection when it is too slow.
    pub(crate) fn offer(
        &self,
        entry: queue::Entry,
        now_ms: u64,
        counters: &Counters,
        slow_close_retry_ms: u32,
    ) -> Offered {
        let mut state = self.state.lock();
        if state.closing != Closing::Open {
            return Offered::AlreadyClosed;
        }
        if let Some(first_live @ None) = &mut state.opening {
            *first_live = entry.cursor.map(Box::new);
        }
        let before = state.queue.bytes();
        let pushed = state.queue.push(entry, now_ms);
        Counters::add(&counters.shed, pushed.shed);
        Counters::add(&counters.expired, pushed.expired);
        Counters::add(&counters.coalesced, pushed.coalesced);
        let dropped = pushed.shed + pushed.expired + pushed.coalesced;
        let outcome = if pushed.too_slow {
            let cleared = state.queue.clear();
            counters.closed_slow.fetch_add(1, Relaxed);
            self.dropped.fetch_add(cleared as u64 + 1, Relaxed);
            state.closing = Closing::Ending(slow_close_retry_ms);
            Offered::ClosedSlow
        } else if pushed.queued {
            counters.queued.fetch_add(1, Relaxed);
            Offered::Queued
        } else {
            Offered::Shed
        };
        if dropped > 0 {
            self.dropped.fetch_add(u64::from(dropped), Relaxed);
        }
        counters.queue_bytes_changed(before, state.queue.bytes());
        if let Some(waker) = state.waker.take() {
            drop(state);
            waker.wake();
        }
        outcome
    }

    /// Ends the stream after a final `retry:` of `retry_ms`. Returns false if it was already
    /// ending.
    pub(crate) fn close(&self, retry_ms: u32, counters: &Counters) -> bool {
        let mut state = self.state.lock();
        if state.closing != Closing::Open {
            return false;
        }
        let before = state.queue.bytes();
        state.queue.clear();
        counters.queue_bytes_changed(before, 0);
        state.closing = Closing::Ending(retry_ms);
        if let Some(waker) = state.waker.take() {
            drop(state);
            waker.wake();
        }
        true
    }

    pub(crate) fn info(&self) -> ConnectionInfo {
        let queue_len = self.state.lock().queue.len();
        ConnectionInfo {
            id: self.id,
            user_id: self.user.clone(),
            roles: self.roles.to_vec(),
            permissions: self.permissions.to_vec(),
            channels: self.channels.to_vec(),
            connected_at: self.connected_at,
            last_activity: self.last_activity.load(Relaxed),
            client_addr: self.client_addr,
            queue_len,
            delivered: self.delivered.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
        }
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("id", &self.id)
            .field("user", &self.user)
            .field("roles", &self.roles)
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

/// The receiving half of a connection: yields the encoded frames to write, in order.
///
/// Each item is one chunk for one write: when several frames wait, they come out together
/// (up to the hub's batch size), so a server makes one write rather than one per event.
/// The stream ends after the final `retry:` frame when the hub closes the connection (too slow,
/// disconnected, shutting down).
///
/// Dropping the subscription unregisters the connection at once.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use serde_json::json;
/// use sse_core::{Channel, ConnectOptions, EventType, Hub, Identity, Message};
///
/// let hub = Hub::new();
/// let mut subscription = hub
///     .connect(ConnectOptions::new(Identity::anonymous()).channels([Channel::SYSTEM]))
///     .await?;
/// hub.send(Message::new(Channel::SYSTEM, EventType::Broadcast, json!("maintenance at 5"))).await?;
///
/// let chunk = subscription.recv().await.unwrap();
/// let text = std::str::from_utf8(&chunk)?;
/// assert!(text.starts_with("id: "));
/// assert!(text.contains("event: broadcast\ndata: {"));
/// assert!(text.contains("\"data\":\"maintenance at 5\""));
/// # Ok(()) }
/// ```
pub struct Subscription {
    pub(crate) conn: Arc<Connection>,
    pub(crate) hub: Arc<HubInner>,
    pub(crate) replayed: u32,
    pub(crate) resumed: bool,
    pub(crate) history_gap: bool,
    pub(crate) done: bool,
}

impl Subscription {
    /// The connection id.
    pub fn id(&self) -> ConnectionId {
        self.conn.id
    }

    /// What the connection got when it opened: the content of the `connected` event.
    pub fn connected(&self) -> Connected {
        Connected {
            connection_id: self.conn.id,
            channels: self.conn.channels.to_vec(),
            user_id: self.conn.user.clone(),
            resumed: self.resumed,
            replayed: self.replayed as usize,
            history_gap: self.history_gap,
        }
    }

    /// Records that something (such as a heartbeat) was written, for
    /// [`ConnectionInfo::last_activity`].
    pub fn touch(&self) {
        self.conn
            .last_activity
            .store(self.hub.clock.now_ms(), Relaxed);
    }

    /// Frames waiting to be written.
    pub fn queue_len(&self) -> usize {
        self.conn.state.lock().queue.len()
    }

    /// Polls for the next chunk of frames; `Ready(None)` once the stream has ended.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        if self.done {
            return Poll::Ready(None);
        }
        let now = self.hub.clock.now_ms();
        let mut state = self.conn.state.lock();
        let before = state.queue.bytes();
        let popped = state.queue.pop_batch(now, self.hub.config.max_batch_bytes);
        self.hub
            .counters
            .queue_bytes_changed(before, state.queue.bytes());
        Counters::add(&self.hub.counters.expired, popped.expired);
        if popped.expired > 0 {
            self.conn
                .dropped
                .fetch_add(u64::from(popped.expired), Relaxed);
        }
        if let Some(batch) = popped.batch {
            drop(state);
            let frames = u64::from(popped.frames);
            self.conn.delivered.fetch_add(frames, Relaxed);
            self.hub.counters.delivered.fetch_add(frames, Relaxed);
            self.conn.last_activity.store(now, Relaxed);
            return Poll::Ready(Some(batch));
        }
        match state.closing {
            Closing::Open => {}
            Closing::Ending(retry_ms) => {
                state.closing = Closing::Ended;
                return Poll::Ready(Some(crate::frame::retry(Duration::from_millis(
                    retry_ms.into(),
                ))));
            }
            Closing::Ended => {
                self.done = true;
                return Poll::Ready(None);
            }
        }
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Waits for the next chunk of frames; `None` once the stream has ended.
    pub async fn recv(&mut self) -> Option<Bytes> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }
}

impl Stream for Subscription {
    type Item = Bytes;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        self.get_mut().poll_recv(cx)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        HubInner::unregister(&self.hub, &self.conn);
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.conn.id)
            .field("resumed", &self.resumed)
            .field("done", &self.done)
            .finish()
    }
}
