//! The hub: registry, routing, queues, history, persistent cache and statistics.

use std::{
    collections::{BTreeMap, HashMap},
    fmt,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use tokio::sync::oneshot;

use crate::{
    Backplane, Channel, Clock, ConnectOptions, ConnectionId, ConnectionInfo, Cursor, Envelope,
    FrameBuilder, HistoryConfig, HubStats, IdentityPermissions, InMemoryBackplane, Message,
    MessageId, PermissionResolver, Role, Subscription, UserId,
    backplane::{Entry, EntryStream, Replay},
    connection::{Connection, Offered},
    error::{BackplaneError, ConnectError, MessageError, SendError},
    persistent::PersistentCache,
    queue,
    registry::Registry,
    stats::{Counters, MemoryStats},
};

/// The outcome of a [`Hub::send`].
///
/// The counts are about this instance's connections: with a shared backplane, other instances
/// deliver the message to their own connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SendReport {
    /// The message id.
    pub id: MessageId,
    /// The message's position in the log (its SSE event id).
    pub cursor: Cursor,
    /// Connections the message was queued for.
    pub sent: usize,
    /// Matching connections whose queue was full of more important messages: the message was
    /// shed for them.
    pub shed: usize,
    /// Matching connections closed because they could not keep up; they resume from history.
    pub closed: usize,
}

/// What dispatching one entry did on this instance.
#[derive(Debug, Default, Clone, Copy)]
struct Dispatched {
    sent: usize,
    shed: usize,
    closed: usize,
}

/// The hub: the product's "SSE manager". It registers connections, routes every message to the
/// connections it targets through per-connection bounded queues, keeps history for replay and
/// persistent messages for new connections, and counts everything.
///
/// `Hub` is a cheap handle: clone it into every handler that publishes.
///
/// # The model
///
/// - **Channels.** A connection subscribes to channels; a [`Message`] is sent on one. Only the
///   channel's subscribers can receive it.
/// - **Targeting.** Among them the message's target selects recipients: everyone, authenticated
///   users, given users, or holders of any of the given roles or permissions. Excluded users
///   never receive it, and `requireAuth` drops anonymous connections. Targeted sends look up the
///   user, role and permission indices; they never scan all connections.
/// - **Encode once.** A message is validated and encoded to its SSE frame once; every
///   recipient's queue gets a clone of the same bytes.
///
/// ## Slow clients
///
/// Each connection has a bounded queue. When it is full, expired frames go first, then the
/// oldest frame of lower priority than the new one; a new frame less important than everything
/// queued is itself shed. When the queue holds only frames at least as important as the new
/// one, the client is too slow: its stream ends with a final `retry:` so that it reconnects and
/// resumes from history. Every drop is counted, per connection and in [`HubStats`].
///
/// ## Reconnect and replay
///
/// Every delivered event carries its [`Cursor`] as SSE id. A client that reconnects with
/// `Last-Event-ID` first receives the retryable messages it missed and is entitled to, in
/// order and once, then live ones. When history no longer reaches back that far (or the log
/// restarted), it receives a `refresh` event with `"reason":"history-gap"` instead, so that even
/// a plain `EventSource` can resynchronise. Persistent messages reach new connections, and
/// resuming ones only if they have not seen them.
///
/// ## Shutdown
///
/// [`shutdown`](Hub::shutdown) refuses new connections and messages and ends every stream with
/// a final `retry:` whose delay is spread at random, so that clients do not all come back at
/// the same moment.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use serde_json::json;
/// use sse_core::{Channel, ConnectOptions, EventType, Hub, Identity, Message, UserId};
///
/// let hub = Hub::new();
/// let mut ada = hub
///     .connect(ConnectOptions::new(Identity::user(UserId::from(1))).channels([Channel::NOTIFICATIONS]))
///     .await?;
/// let mut bob = hub
///     .connect(ConnectOptions::new(Identity::user(UserId::from(2))).channels([Channel::NOTIFICATIONS]))
///     .await?;
///
/// let report = hub
///     .send_to_users([1], Channel::NOTIFICATIONS, EventType::Notification, json!({"title": "Hi"}))
///     .await?;
/// assert_eq!(report.sent, 1);
///
/// let frame = ada.recv().await.unwrap();
/// assert!(std::str::from_utf8(&frame)?.contains("\"title\":\"Hi\""));
/// assert_eq!(bob.queue_len(), 0);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Hub {
    inner: Arc<HubInner>,
}

pub(crate) struct HubInner {
    pub(crate) config: HubConfig,
    pub(crate) clock: Clock,
    pub(crate) counters: Counters,
    backplane: Arc<dyn Backplane>,
    /// The shared backplane's entry stream, until the dispatcher takes it; `None` when local.
    stream: Mutex<Option<EntryStream>>,
    shared: bool,
    /// Serialises publish + dispatch on a local backplane so delivery follows cursor order.
    sequencer: tokio::sync::Mutex<()>,
    registry: RwLock<Registry>,
    persistent: PersistentCache,
    resolver: Arc<dyn PermissionResolver>,
    next_connection: AtomicU64,
    id_prefix: String,
    next_message: AtomicU64,
    shutting_down: AtomicBool,
    dispatcher_running: AtomicBool,
    /// Sends waiting for the shared backplane to hand their message back, by send token.
    waiters: Mutex<HashMap<String, oneshot::Sender<(Cursor, Dispatched)>>>,
    next_send: AtomicU64,
    /// The `retry:` delay that ends a stream, in milliseconds.
    slow_close_retry_ms: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct HubConfig {
    pub(crate) max_payload: usize,
    pub(crate) queue_capacity: usize,
    pub(crate) max_replay: usize,
    pub(crate) max_batch_bytes: usize,
    pub(crate) admin_role: Role,
    pub(crate) reconnect_retry: Duration,
    pub(crate) shutdown_jitter: Duration,
}

impl Hub {
    /// A hub with default settings on an [`InMemoryBackplane`].
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder for a hub with custom settings.
    pub fn builder() -> HubBuilder {
        HubBuilder::default()
    }

    /// Validates and encodes a message without sending it.
    ///
    /// # Errors
    ///
    /// [`MessageError`] naming the invalid field.
    pub fn encode(&self, message: Message) -> Result<Envelope, MessageError> {
        let parts = message.into_parts();
        let id = match parts.id.clone() {
            Some(id) => id,
            None => MessageId::generated(format!(
                "{}-{}",
                self.inner.id_prefix,
                self.inner.next_message.fetch_add(1, Relaxed) + 1
            )),
        };
        Envelope::encode(
            parts,
            id,
            self.inner.clock.now_ms(),
            self.inner.config.max_payload,
        )
    }

    /// Sends a message to every connection it targets.
    ///
    /// # Errors
    ///
    /// [`SendError::Invalid`] for an invalid message, [`SendError::Backplane`] when the
    /// backplane fails (the message reached nobody; retry or fall back), and
    /// [`SendError::ShuttingDown`] after [`shutdown`](Hub::shutdown).
    pub async fn send(&self, message: Message) -> Result<SendReport, SendError> {
        let envelope = Arc::new(self.encode(message)?);
        self.send_envelope(envelope).await
    }

    /// Sends an already encoded envelope (see [`encode`](Hub::encode)).
    ///
    /// # Errors
    ///
    /// As [`send`](Hub::send), except for validation, which encoding did.
    pub async fn send_envelope(&self, envelope: Arc<Envelope>) -> Result<SendReport, SendError> {
        let inner = &self.inner;
        if inner.shutting_down.load(Relaxed) {
            return Err(SendError::ShuttingDown);
        }
        let id = envelope.id().clone();
        let (cursor, dispatched) = if inner.shared {
            if !inner.dispatcher_running.load(Relaxed) {
                return Err(SendError::Backplane(BackplaneError::Unavailable(
                    "the hub's dispatcher is not running (spawn Hub::run_dispatcher)".into(),
                )));
            }
            let token = format!(
                "{}-{}",
                inner.id_prefix,
                inner.next_send.fetch_add(1, Relaxed) + 1
            );
            let envelope = Arc::new(envelope.with_send_token(token.clone()));
            let (tx, rx) = oneshot::channel();
            inner.waiters.lock().insert(token.clone(), tx);
            if let Err(err) = inner.backplane.publish(envelope).await {
                inner.waiters.lock().remove(&token);
                inner.counters.backplane_errors.fetch_add(1, Relaxed);
                return Err(err.into());
            }
            rx.await.map_err(|_| BackplaneError::Closed)?
        } else {
            let _order = inner.sequencer.lock().await;
            let cursor = inner
                .backplane
                .publish(Arc::clone(&envelope))
                .await
                .inspect_err(|_| {
                    inner.counters.backplane_errors.fetch_add(1, Relaxed);
                })?;
            let dispatched = inner.dispatch(&Entry { cursor, envelope });
            (cursor, dispatched)
        };
        inner.counters.sent.fetch_add(1, Relaxed);
        inner.counters.minute.record(inner.clock.now_ms());
        Ok(SendReport {
            id,
            cursor,
            sent: dispatched.sent,
            shed: dispatched.shed,
            closed: dispatched.closed,
        })
    }

    /// Opens a connection: registers it, queues what it missed (or the persistent messages it
    /// is entitled to) and returns its receiving half.
    ///
    /// # Errors
    ///
    /// [`ConnectError::ShuttingDown`] after [`shutdown`](Hub::shutdown),
    /// [`ConnectError::NoChannels`] when no channel is given, and [`ConnectError::Auth`] when the
    /// permission resolver refuses.
    pub async fn connect(&self, options: ConnectOptions) -> Result<Subscription, ConnectError> {
        let inner = &self.inner;
        if inner.shutting_down.load(Relaxed) {
            return Err(ConnectError::ShuttingDown);
        }
        let mut channels = Vec::with_capacity(options.channels.len());
        for channel in options.channels {
            if !channels.contains(&channel) {
                channels.push(channel);
            }
        }
        if channels.is_empty() {
            return Err(ConnectError::NoChannels);
        }
        channels.shrink_to_fit();
        let mut permissions = match options.permissions {
            Some(permissions) => permissions,
            None => inner.resolver.resolve(&options.identity).await?,
        };
        let mut seen = std::collections::HashSet::with_capacity(permissions.len());
        permissions.retain(|p| seen.insert(p.clone()));
        permissions.shrink_to_fit();
        let now = inner.clock.now_ms();
        let id = ConnectionId(inner.next_connection.fetch_add(1, Relaxed) + 1);
        let conn = Arc::new(Connection::new(
            id,
            options.identity,
            permissions,
            channels,
            options.client_addr,
            options
                .queue_capacity
                .unwrap_or(inner.config.queue_capacity),
            now,
        ));
        inner.registry.write().insert(&conn);
        // Dropping the subscription on any early return unregisters the connection.
        let mut subscription = Subscription {
            conn: Arc::clone(&conn),
            hub: Arc::clone(inner),
            replayed: 0,
            resumed: false,
            history_gap: false,
            done: false,
        };
        if inner.shutting_down.load(Relaxed) {
            return Err(ConnectError::ShuttingDown);
        }
        let (earlier, gap) = inner
            .earlier_entries(&conn, options.last_event_id.as_ref())
            .await;
        let mut state = conn.state.lock();
        let before = state.queue.bytes();
        let first_live = state.opening.take().flatten();
        let replayed = state.queue.prepend(earlier, first_live.as_deref());
        if let Some(head) = gap {
            // The refresh may carry the head as its id only if no message up to the head is
            // queued behind it: a client that left right after the refresh would skip those.
            let id = head.filter(|head| first_live.as_deref().is_none_or(|live| live > head));
            let refresh = inner.gap_entry(&conn, options.last_event_id.as_ref(), id, now);
            state.queue.prepend(vec![refresh], None);
            inner.counters.history_gaps.fetch_add(1, Relaxed);
        }
        inner
            .counters
            .queue_bytes_changed(before, state.queue.bytes());
        drop(state);
        Counters::add(
            &inner.counters.replayed,
            u32::try_from(replayed).unwrap_or(u32::MAX),
        );
        subscription.resumed = options.last_event_id.is_some() && gap.is_none();
        subscription.replayed = u32::try_from(replayed).unwrap_or(u32::MAX);
        subscription.history_gap = gap.is_some();
        Ok(subscription)
    }

    /// Drives a shared backplane: dispatches every entry its stream yields to this instance's
    /// connections, in log order. Returns when the stream ends; at once for a local backplane,
    /// or if another dispatcher already runs.
    ///
    /// Spawn it once per hub when the backplane is shared (the `sse-redis` crate documents
    /// this); sends fail with an error while it is not running.
    pub async fn run_dispatcher(&self) {
        let inner = &self.inner;
        let Some(mut stream) = inner.stream.lock().take() else {
            return;
        };
        inner.dispatcher_running.store(true, Relaxed);
        struct Running<'a>(&'a HubInner);
        impl Drop for Running<'_> {
            fn drop(&mut self) {
                self.0.dispatcher_running.store(false, Relaxed);
                // Pending sends learn that their message will not be dispatched here.
                self.0.waiters.lock().clear();
            }
        }
        let _running = Running(inner);
        while let Some(item) =
            std::future::poll_fn(|cx| futures_core::Stream::poll_next(stream.as_mut(), cx)).await
        {
            match item {
                Ok(entry) => {
                    let dispatched = inner.dispatch(&entry);
                    let waiter = entry
                        .envelope
                        .send_token()
                        .and_then(|token| inner.waiters.lock().remove(token));
                    if let Some(waiter) = waiter {
                        let _ = waiter.send((entry.cursor, dispatched));
                    }
                }
                Err(_) => {
                    inner.counters.backplane_errors.fetch_add(1, Relaxed);
                }
            }
        }
    }

    /// A snapshot of the statistics.
    pub fn stats(&self) -> HubStats {
        let inner = &self.inner;
        let (total_connections, connections_per_channel) = {
            let registry = inner.registry.read();
            let per_channel: BTreeMap<Channel, usize> = registry
                .channel_counts()
                .map(|(c, n)| (c.clone(), n))
                .collect();
            (registry.len(), per_channel)
        };
        let (persistent_messages, persistent_bytes) = inner.persistent.size();
        let backplane = inner.backplane.stats();
        let c = &inner.counters;
        HubStats {
            total_connections,
            active_channels: connections_per_channel.len(),
            connections_per_channel,
            messages_per_minute: c.minute.count(inner.clock.now_ms()),
            messages_sent: c.sent.load(Relaxed),
            messages_dispatched: c.dispatched.load(Relaxed),
            queued: c.queued.load(Relaxed),
            delivered: c.delivered.load(Relaxed),
            shed: c.shed.load(Relaxed),
            expired: c.expired.load(Relaxed),
            coalesced: c.coalesced.load(Relaxed),
            closed_slow: c.closed_slow.load(Relaxed),
            replayed: c.replayed.load(Relaxed),
            history_gaps: c.history_gaps.load(Relaxed),
            backplane_errors: c.backplane_errors.load(Relaxed),
            persistent_messages,
            memory: MemoryStats {
                queues: c.queue_bytes.load(Relaxed),
                history: backplane.bytes,
                persistent_cache: persistent_bytes,
            },
            backplane,
        }
    }

    /// The number of open connections.
    pub fn connection_count(&self) -> usize {
        self.inner.registry.read().len()
    }

    /// What the hub knows about one connection, or `None` if it is not open.
    pub fn connection_info(&self, id: ConnectionId) -> Option<ConnectionInfo> {
        self.inner.registry.read().get(id).map(|c| c.info())
    }

    /// Every open connection, ordered by id.
    pub fn connections(&self) -> Vec<ConnectionInfo> {
        let mut all: Vec<ConnectionInfo> =
            self.inner.registry.read().all().map(|c| c.info()).collect();
        all.sort_by_key(|c| c.id);
        all
    }

    /// The open connections of one user, ordered by id.
    pub fn connections_of(&self, user: &UserId) -> Vec<ConnectionInfo> {
        let mut all: Vec<ConnectionInfo> = self
            .inner
            .registry
            .read()
            .of_user(user)
            .map(|c| c.info())
            .collect();
        all.sort_by_key(|c| c.id);
        all
    }

    /// Ends one connection's stream (after a final `retry:`). Returns false if it is not open.
    pub fn disconnect(&self, id: ConnectionId) -> bool {
        let conn = {
            let mut registry = self.inner.registry.write();
            let Some(conn) = registry.get(id).cloned() else {
                return false;
            };
            registry.remove(&conn);
            conn
        };
        self.inner.close(&conn, CloseReason::Disconnected)
    }

    /// Ends every stream of one user. Returns how many were ended.
    pub fn disconnect_user(&self, user: &UserId) -> usize {
        let conns: Vec<Arc<Connection>> = {
            let mut registry = self.inner.registry.write();
            let conns: Vec<_> = registry.of_user(user).cloned().collect();
            for conn in &conns {
                registry.remove(conn);
            }
            conns
        };
        conns
            .iter()
            .filter(|c| self.inner.close(c, CloseReason::Disconnected))
            .count()
    }

    /// Refuses new connections and messages, and ends every stream after a final `retry:` with
    /// a jittered delay. Returns how many streams were ended.
    pub fn shutdown(&self) -> usize {
        let inner = &self.inner;
        inner.shutting_down.store(true, Relaxed);
        let conns: Vec<Arc<Connection>> = {
            let mut registry = inner.registry.write();
            let conns: Vec<_> = registry.all().cloned().collect();
            for conn in &conns {
                registry.remove(conn);
            }
            conns
        };
        conns
            .iter()
            .filter(|c| inner.close(c, CloseReason::Shutdown))
            .count()
    }

    /// Whether [`shutdown`](Hub::shutdown) was called.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Relaxed)
    }

    /// The reconnection delay sent in `retry:` frames.
    pub fn reconnect_retry(&self) -> Duration {
        self.inner.config.reconnect_retry
    }

    /// The role [`notify_admins`](Hub::notify_admins) targets.
    pub fn admin_role(&self) -> &Role {
        &self.inner.config.admin_role
    }

    /// The hub's clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// The permission resolver applied when a connection opens.
    pub fn permission_resolver(&self) -> &Arc<dyn PermissionResolver> {
        &self.inner.resolver
    }
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Hub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hub")
            .field("connections", &self.connection_count())
            .field("backplane", &self.inner.backplane)
            .field("shared", &self.inner.shared)
            .field("shutting_down", &self.is_shutting_down())
            .finish_non_exhaustive()
    }
}

impl HubInner {
    /// Routes one log entry to this instance's connections.
    fn dispatch(&self, entry: &Entry) -> Dispatched {
        let now = self.clock.now_ms();
        self.counters.dispatched.fetch_add(1, Relaxed);
        let envelope = &entry.envelope;
        let mut out = Dispatched::default();
        if envelope.is_expired(now) {
            return out;
        }
        if envelope.is_persistent() {
            self.persistent.insert(entry);
        }
        let queued = queue::Entry {
            frame: envelope.frame(&entry.cursor),
            cursor: Some(entry.cursor),
            priority: envelope.priority(),
            expires_at: envelope.expires_at(),
            coalesce: envelope.coalesce_key().cloned(),
        };
        let mut too_slow = Vec::new();
        {
            let registry = self.registry.read();
            registry.for_each_recipient(envelope, |conn| {
                match conn.offer(
                    queued.clone(),
                    now,
                    &self.counters,
                    self.slow_close_retry_ms,
                ) {
                    Offered::Queued => out.sent += 1,
                    Offered::Shed => out.shed += 1,
                    Offered::ClosedSlow => {
                        out.closed += 1;
                        too_slow.push(Arc::clone(conn));
                    }
                    Offered::AlreadyClosed => {}
                }
            });
        }
        if !too_slow.is_empty() {
            let mut registry = self.registry.write();
            for conn in &too_slow {
                registry.remove(conn);
            }
        }
        out
    }

    /// What a new connection receives before live messages, and, when its cursor fell into a
    /// gap, the log's head then (`Some(head)`).
    async fn earlier_entries(
        &self,
        conn: &Connection,
        last_event_id: Option<&Cursor>,
    ) -> (Vec<queue::Entry>, Option<Option<Cursor>>) {
        let now = self.clock.now_ms();
        let recipient = conn.recipient();
        let admitted = |e: &Entry| e.envelope.admits(&recipient) && !e.envelope.is_expired(now);
        let (entries, gap) = match last_event_id {
            None => (self.persistent.entries(&conn.channels, admitted), None),
            Some(after) => {
                let (mut entries, gap) =
                    match self.backplane.replay(after, self.config.max_replay).await {
                        Ok(Replay::Entries(entries)) => (
                            // A shared log keeps every message for fan-out; only retryable
                            // ones are replayed.
                            entries
                                .into_iter()
                                .filter(|e| e.envelope.is_retryable() && admitted(e))
                                .collect(),
                            None,
                        ),
                        Ok(Replay::Gap { head }) => (Vec::new(), Some(head)),
                        Err(_) => {
                            self.counters.backplane_errors.fetch_add(1, Relaxed);
                            (Vec::new(), Some(None))
                        }
                    };
                // Persistent messages the client has not seen and history did not return
                // (not retryable, or beyond a gap). Other epochs: all are new to the client.
                let unseen = |e: &Entry| match e.cursor.partial_cmp(after) {
                    Some(order) => order.is_gt(),
                    None => true,
                };
                let extra = self
                    .persistent
                    .entries(&conn.channels, |e| admitted(e) && unseen(e));
                if !extra.is_empty() {
                    for e in extra {
                        if !entries.iter().any(|x: &Entry| x.cursor == e.cursor) {
                            entries.push(e);
                        }
                    }
                    entries.sort_by(|a, b| {
                        (a.envelope.timestamp(), a.cursor.position())
                            .cmp(&(b.envelope.timestamp(), b.cursor.position()))
                    });
                }
                (entries, gap)
            }
        };
        let frames = entries
            .into_iter()
            .map(|e| queue::Entry {
                frame: e.envelope.frame(&e.cursor),
                cursor: Some(e.cursor),
                priority: e.envelope.priority(),
                expires_at: e.envelope.expires_at(),
                coalesce: e.envelope.coalesce_key().cloned(),
            })
            .collect();
        (frames, gap)
    }

    /// The `refresh` event telling a resuming client that history no longer reaches its cursor.
    fn gap_entry(
        &self,
        conn: &Connection,
        last_event_id: Option<&Cursor>,
        id: Option<Cursor>,
        now: u64,
    ) -> queue::Entry {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Gap<'a> {
            reason: &'static str,
            last_event_id: Option<String>,
            channels: &'a [Channel],
        }
        #[derive(Serialize)]
        struct Payload<'a> {
            id: String,
            channel: &'a Channel,
            event: &'static str,
            data: Gap<'a>,
            timestamp: u64,
        }
        let mut frame = FrameBuilder::with_capacity(192);
        if let Some(id) = id {
            frame = frame
                .id(&id.to_string())
                .expect("cursors are digits and dashes");
        }
        let frame = frame
            .event("refresh")
            .expect("static event name")
            .json_data(&Payload {
                id: format!("{}-gap-{}", self.id_prefix, conn.id.0),
                channel: &Channel::SYSTEM,
                event: "refresh",
                data: Gap {
                    reason: "history-gap",
                    last_event_id: last_event_id.map(ToString::to_string),
                    channels: &conn.channels,
                },
                timestamp: now,
            })
            .expect("the gap payload always serialises")
            .finish();
        queue::Entry {
            frame,
            cursor: None,
            priority: Message::MAX_PRIORITY,
            expires_at: None,
            coalesce: None,
        }
    }

    fn close(&self, conn: &Connection, reason: CloseReason) -> bool {
        let retry_ms = match reason {
            CloseReason::Shutdown => {
                let jitter = millis(self.config.shutdown_jitter);
                self.slow_close_retry_ms
                    .saturating_add(fastrand::u32(0..=jitter))
            }
            CloseReason::Disconnected => self.slow_close_retry_ms,
        };
        conn.close(retry_ms, &self.counters)
    }

    /// Called when a subscription is dropped.
    pub(crate) fn unregister(this: &Arc<Self>, conn: &Connection) {
        this.registry.write().remove(conn);
        let mut state = conn.state.lock();
        let before = state.queue.bytes();
        state.queue.clear();
        this.counters.queue_bytes_changed(before, 0);
    }
}

/// Why the hub ends a stream (slow clients are ended where their queue overflows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CloseReason {
    Disconnected,
    Shutdown,
}

fn millis(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)
}

/// Builds a [`Hub`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_core::{HistoryConfig, Hub, Permission, Role, RolePermissions};
///
/// let hub = Hub::builder()
///     .history(HistoryConfig::default().capacity(50_000))
///     .queue_capacity(512)
///     .max_payload_bytes(32 * 1024)
///     .admin_role(Role::from_static("staff"))
///     .permission_resolver(
///         RolePermissions::new()
///             .grant(Role::from_static("staff"), [Permission::from_static("dashboard.view")]),
///     )
///     .reconnect_retry(Duration::from_secs(2))
///     .build();
/// assert_eq!(hub.admin_role().as_str(), "staff");
/// ```
#[must_use]
pub struct HubBuilder {
    backplane: Option<Arc<dyn Backplane>>,
    history: HistoryConfig,
    clock: Clock,
    resolver: Arc<dyn PermissionResolver>,
    max_payload: usize,
    queue_capacity: usize,
    max_replay: usize,
    max_batch_bytes: usize,
    admin_role: Role,
    reconnect_retry: Duration,
    shutdown_jitter: Duration,
    persistent_bytes: usize,
    persistent_ttl: Duration,
}

impl Default for HubBuilder {
    fn default() -> Self {
        Self {
            backplane: None,
            history: HistoryConfig::default(),
            clock: Clock::system(),
            resolver: Arc::new(IdentityPermissions),
            max_payload: 64 * 1024,
            queue_capacity: 256,
            max_replay: 1_000,
            max_batch_bytes: 64 * 1024,
            admin_role: Role::from_static("admin"),
            reconnect_retry: Duration::from_secs(3),
            shutdown_jitter: Duration::from_secs(5),
            persistent_bytes: 8 * 1024 * 1024,
            persistent_ttl: Duration::from_secs(24 * 60 * 60),
        }
    }
}

impl HubBuilder {
    /// The backplane (default: an [`InMemoryBackplane`] with [`history`](Self::history)).
    pub fn backplane(mut self, backplane: Arc<dyn Backplane>) -> Self {
        self.backplane = Some(backplane);
        self
    }

    /// The history kept by the default in-memory backplane (default: 10,000 messages, 64 MiB,
    /// 5 minutes).
    pub fn history(mut self, history: HistoryConfig) -> Self {
        self.history = history;
        self
    }

    /// The clock (default: the system clock).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The permission resolver applied when a connection opens (default: the identity's own
    /// permissions).
    pub fn permission_resolver(mut self, resolver: impl PermissionResolver) -> Self {
        self.resolver = Arc::new(resolver);
        self
    }

    /// The largest encoded `data:` payload accepted (default: 64 KiB).
    pub fn max_payload_bytes(mut self, bytes: usize) -> Self {
        self.max_payload = bytes;
        self
    }

    /// The default queue capacity per connection, in frames (default: 256).
    pub fn queue_capacity(mut self, frames: usize) -> Self {
        self.queue_capacity = frames.max(1);
        self
    }

    /// The most messages replayed to one reconnecting client; a longer gap is a
    /// `history-gap` (default: 1,000).
    pub fn max_replay(mut self, messages: usize) -> Self {
        self.max_replay = messages;
        self
    }

    /// The largest chunk handed to one write when several frames wait (default: 64 KiB).
    pub fn max_batch_bytes(mut self, bytes: usize) -> Self {
        self.max_batch_bytes = bytes.max(1);
        self
    }

    /// The role [`Hub::notify_admins`] targets (default: `admin`).
    pub fn admin_role(mut self, role: Role) -> Self {
        self.admin_role = role;
        self
    }

    /// The reconnection delay in the `retry:` frame that ends a stream (default: 3 s).
    pub fn reconnect_retry(mut self, retry: Duration) -> Self {
        self.reconnect_retry = retry;
        self
    }

    /// The largest random delay added to the reconnection delay at shutdown (default: 5 s).
    pub fn shutdown_jitter(mut self, jitter: Duration) -> Self {
        self.shutdown_jitter = jitter;
        self
    }

    /// The bytes the persistent-message cache may hold (default: 8 MiB).
    pub fn persistent_cache_bytes(mut self, bytes: usize) -> Self {
        self.persistent_bytes = bytes;
        self
    }

    /// How long a persistent message without a TTL stays cached (default: 24 h).
    pub fn persistent_ttl(mut self, ttl: Duration) -> Self {
        self.persistent_ttl = ttl;
        self
    }

    /// Builds the hub.
    pub fn build(self) -> Hub {
        let backplane = self.backplane.unwrap_or_else(|| {
            Arc::new(InMemoryBackplane::with_clock(
                self.history,
                self.clock.clone(),
            ))
        });
        let stream = backplane.subscribe();
        let shared = stream.is_some();
        Hub {
            inner: Arc::new(HubInner {
                config: HubConfig {
                    max_payload: self.max_payload,
                    queue_capacity: self.queue_capacity,
                    max_replay: self.max_replay,
                    max_batch_bytes: self.max_batch_bytes,
                    admin_role: self.admin_role,
                    reconnect_retry: self.reconnect_retry,
                    shutdown_jitter: self.shutdown_jitter,
                },
                counters: Counters::default(),
                persistent: PersistentCache::new(
                    self.persistent_bytes,
                    self.persistent_ttl,
                    self.clock.clone(),
                ),
                clock: self.clock,
                backplane,
                stream: Mutex::new(stream),
                shared,
                sequencer: tokio::sync::Mutex::new(()),
                registry: RwLock::new(Registry::default()),
                resolver: self.resolver,
                next_connection: AtomicU64::new(0),
                id_prefix: format!("{:016x}", fastrand::u64(..)),
                next_message: AtomicU64::new(0),
                shutting_down: AtomicBool::new(false),
                dispatcher_running: AtomicBool::new(false),
                waiters: Mutex::new(HashMap::new()),
                next_send: AtomicU64::new(0),
                slow_close_retry_ms: millis(self.reconnect_retry),
            }),
        }
    }
}

impl fmt::Debug for HubBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubBuilder")
            .field("backplane", &self.backplane)
            .field("history", &self.history)
            .field("max_payload", &self.max_payload)
            .field("queue_capacity", &self.queue_capacity)
            .field("admin_role", &self.admin_role)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<Hub>();
        assert_send_sync::<Subscription>();
        assert_send_sync::<Envelope>();
        assert_send_sync::<SendReport>();
        assert_send_sync::<HubStats>();
        assert_send_sync::<InMemoryBackplane>();
    }

    #[test]
    fn hub_futures_are_send() {
        let hub = Hub::new();
        assert_send(&hub.send(Message::new(
            Channel::CHAT,
            crate::EventType::Data,
            serde_json::Value::Null,
        )));
        assert_send(&hub.connect(ConnectOptions::new(crate::Identity::anonymous())));
        assert_send(&hub.run_dispatcher());
    }
}
