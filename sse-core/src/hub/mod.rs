//! The hub: registry, routing, queues, history, persistent cache and statistics.
//!
//! One file per job: [`builder`] makes a hub, [`publish`] validates, encodes and appends
//! messages, [`dispatch`] routes log entries to connections, [`connect`] opens connections and
//! replays what they missed, [`lifecycle`] ends them, and [`stats`] counts and lists.

mod builder;
mod cluster;
mod connect;
mod dispatch;
mod explain;
mod idempotency;
mod lifecycle;
mod presence;
mod publish;
mod stats;

use std::{
    collections::HashMap,
    fmt,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use parking_lot::Mutex;
use tokio::sync::oneshot;

pub use builder::HubBuilder;
pub use idempotency::{Claim, IdempotencyRecord};
pub use publish::SendReport;
pub use stats::{BackplaneErrors, BackplaneOp, ClosedStats, HubStats, MemoryStats};
pub(crate) use stats::{Counters, Tally};

use crate::{
    Backplane, Clock, Cursor, EntryStream, InstanceId, MessageId, PermissionResolver, Role, UserId,
    cluster::ControlStream, envelope::Limits, persistent::PersistentCache, registry::Roster,
};
use dispatch::Dispatched;

/// The hub: the product's "SSE manager". It registers connections, routes every message to the
/// connections it targets through per-connection bounded queues, keeps history for replay and
/// persistent messages for new connections, and counts everything.
///
/// `Hub` is a cheap handle: clone it into every handler that publishes.
///
/// # The model
///
/// - **Channels.** A connection subscribes to channels; a [`Message`](crate::Message) is sent on one. Only the
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
/// use sse_hub::{Channel, ConnectOptions, EventType, Hub, Identity, Message, UserId};
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
    /// The open connections, shared with their subscriptions.
    roster: Arc<Roster>,
    config: HubConfig,
    backplane: Arc<dyn Backplane>,
    mode: Mode,
    persistent: PersistentCache,
    resolver: Arc<dyn PermissionResolver>,
    /// Banned users and the end of their ban (milliseconds since the Unix epoch).
    bans: Mutex<HashMap<UserId, u64>>,
    /// Idempotency keys, when the backplane keeps none.
    idempotency: idempotency::LocalKeys,
    /// Joins and leaves of the presence channels, when there are any.
    presence: Option<presence::PresenceEvents>,
    ids: Ids,
    shutting_down: AtomicBool,
}

/// The settings a hub keeps after it is built.
#[derive(Debug, Clone)]
pub(crate) struct HubConfig {
    pub(crate) limits: Limits,
    pub(crate) queue_capacity: usize,
    pub(crate) max_replay: usize,
    pub(crate) admin_role: Role,
    pub(crate) reconnect_retry: Duration,
    /// The `retry:` delay that ends a stream, in milliseconds.
    pub(crate) reconnect_retry_ms: u32,
    pub(crate) shutdown_jitter: Duration,
}

/// How messages reach this instance's connections, which depends on the backplane.
enum Mode {
    /// A process-local backplane: the hub dispatches each message right after appending it,
    /// one at a time, so that delivery follows cursor order.
    Local { sequencer: tokio::sync::Mutex<()> },
    /// A shared backplane: the hub dispatches what the backplane's stream yields, its own
    /// messages included, and a send waits for its own message to come back.
    Shared(Shared),
}

struct Shared {
    /// The backplane's entry stream, until the dispatcher takes it.
    stream: Mutex<Option<EntryStream>>,
    /// The backplane's control stream, until the dispatcher takes it.
    control: Mutex<Option<ControlStream>>,
    dispatcher_running: AtomicBool,
    /// Sends waiting for their message to come back, by send token.
    waiters: Mutex<HashMap<String, Waiter>>,
    next_send: AtomicU64,
    /// The cursor of the last entry dispatched: a send whose entry is older and was not handed
    /// back was skipped, and waits no longer.
    last_dispatched: Mutex<Option<Cursor>>,
}

/// A send waiting for its message to come back.
struct Waiter {
    tx: oneshot::Sender<(Cursor, Dispatched)>,
    /// Where the log put the message, once the append returned.
    cursor: Option<Cursor>,
}

impl Shared {
    /// Ends the wait of every send whose message is in the log at or before `through` (all of
    /// them with `None`) and was not handed back: it was skipped or lost on its way here, so
    /// nothing was delivered on this instance.
    fn release_skipped(&self, through: Option<&Cursor>) {
        self.waiters.lock().retain(|_, waiter| {
            let skipped = waiter.cursor.is_some_and(|cursor| {
                through.is_none_or(|through| cursor.partial_cmp(through).is_some_and(|o| o.is_lt()))
            });
            if skipped {
                let cursor = waiter.cursor.expect("checked above");
                // The waiter is replaced so that it can be moved out.
                let (tx, _) = oneshot::channel();
                let waiter = std::mem::replace(&mut waiter.tx, tx);
                let _ = waiter.send((cursor, Dispatched::default()));
            }
            !skipped
        });
    }
}

/// Ids this hub gives out: connection ids, and message ids and send tokens under a random
/// per-instance prefix.
struct Ids {
    prefix: String,
    next_connection: AtomicU64,
    next_message: AtomicU64,
}

impl HubInner {
    /// Sends waiting for their message to come back from a shared backplane.
    fn pending_sends(&self) -> usize {
        match &self.mode {
            Mode::Shared(shared) => shared.waiters.lock().len(),
            Mode::Local { .. } => 0,
        }
    }
}

impl Ids {
    fn message(&self) -> MessageId {
        MessageId::generated(self.next(&self.next_message))
    }

    /// `<prefix>-<n>` with the next `n` of `counter`, without the formatting machinery (it is
    /// on the path of every send).
    fn next(&self, counter: &AtomicU64) -> String {
        let mut digits = itoa::Buffer::new();
        let n = digits.format(counter.fetch_add(1, Relaxed) + 1);
        let mut id = String::with_capacity(self.prefix.len() + 1 + n.len());
        id.push_str(&self.prefix);
        id.push('-');
        id.push_str(n);
        id
    }
}

impl Hub {
    /// A hub with default settings on an [`InMemoryBackplane`](crate::InMemoryBackplane).
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder for a hub with custom settings.
    pub fn builder() -> HubBuilder {
        HubBuilder::default()
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
        &self.inner.roster.clock
    }

    /// This instance's id: its shared backplane's, or drawn at random.
    pub fn instance(&self) -> InstanceId {
        self.inner.roster.origin.instance
    }

    /// Whether the backplane is shared between instances.
    pub fn is_shared(&self) -> bool {
        matches!(self.inner.mode, Mode::Shared(_))
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
            .field("shared", &matches!(self.inner.mode, Mode::Shared(_)))
            .field("shutting_down", &self.is_shutting_down())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_send, assert_send_sync};
    use crate::{Channel, ConnectOptions, Envelope, Message, Subscription};

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<Hub>();
        assert_send_sync::<Subscription>();
        assert_send_sync::<Envelope>();
        assert_send_sync::<SendReport>();
        assert_send_sync::<HubStats>();
        assert_send_sync::<crate::InMemoryBackplane>();
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
