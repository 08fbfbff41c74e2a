//! Building a hub.

use std::{
    collections::HashMap,
    fmt,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64},
    },
    time::Duration,
};

use parking_lot::Mutex;

use super::{
    Hub, HubConfig, HubInner, Ids, Mode, Shared, idempotency::LocalKeys, presence::PresenceEvents,
};
use crate::{
    Backplane, Channel, Clock, HistoryConfig, IdentityPermissions, InMemoryBackplane, InstanceId,
    PermissionResolver, Role,
    envelope::Limits,
    ledger::Ledger,
    persistent::PersistentCache,
    registry::{Origin, Roster},
};

/// Builds a [`Hub`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_hub::{HistoryConfig, Hub, Permission, Role, RolePermissions};
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
    max_list: usize,
    queue_capacity: usize,
    max_replay: usize,
    max_batch_bytes: usize,
    admin_role: Role,
    reconnect_retry: Duration,
    shutdown_jitter: Duration,
    persistent_bytes: usize,
    persistent_ttl: Duration,
    idempotency_window: Duration,
    idempotency_keys: usize,
    ledger: Option<(usize, usize)>,
    presence_channels: Vec<Channel>,
    presence_debounce: Duration,
}

impl Default for HubBuilder {
    fn default() -> Self {
        Self {
            backplane: None,
            history: HistoryConfig::default(),
            clock: Clock::system(),
            resolver: Arc::new(IdentityPermissions),
            max_payload: 64 * 1024,
            max_list: 10_000,
            queue_capacity: 256,
            max_replay: 1_000,
            max_batch_bytes: 64 * 1024,
            admin_role: Role::from_static("admin"),
            reconnect_retry: Duration::from_secs(3),
            shutdown_jitter: Duration::from_secs(5),
            persistent_bytes: 8 * 1024 * 1024,
            persistent_ttl: Duration::from_secs(24 * 60 * 60),
            idempotency_window: Duration::from_secs(5 * 60),
            idempotency_keys: 100_000,
            ledger: Some((1_000, 16 * 1024 * 1024)),
            presence_channels: Vec::new(),
            presence_debounce: Duration::from_secs(5),
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

    /// The largest message accepted: its encoded `data:` payload plus its recipient lists
    /// (default: 64 KiB).
    pub fn max_payload_bytes(mut self, bytes: usize) -> Self {
        self.max_payload = bytes;
        self
    }

    /// The most entries one recipient list (`targetUsers`, `targetRoles`,
    /// `targetPermissions`, `excludeUsers`) may hold, after duplicates are removed (default:
    /// 10,000). Longer lists are refused with
    /// [`MessageError::TooManyTargets`](crate::error::MessageError::TooManyTargets).
    pub fn max_target_list(mut self, entries: usize) -> Self {
        self.max_list = entries;
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

    /// How long an idempotency key is remembered (default: 5 minutes): within it, a second
    /// send of a message with the same key delivers nothing and returns the first report.
    pub fn idempotency_window(mut self, window: Duration) -> Self {
        self.idempotency_window = window;
        self
    }

    /// How many idempotency keys the hub remembers itself (default: 100,000), when the
    /// backplane keeps none; past it, the keys closest to their end are forgotten first.
    pub fn idempotency_keys(mut self, keys: usize) -> Self {
        self.idempotency_keys = keys;
        self
    }

    /// The delivery ledger behind [`Hub::explain`](crate::Hub::explain): what happened to
    /// each of the last `messages` messages at each connection it was offered to, within
    /// `bytes` (default: 1,000 messages, 16 MiB; a broadcast costs 8 bytes per recipient).
    pub fn delivery_ledger(mut self, messages: usize, bytes: usize) -> Self {
        self.ledger = Some((messages, bytes));
        self
    }

    /// Switches the delivery ledger off: [`Hub::explain`](crate::Hub::explain) then knows
    /// only who was not a recipient, and why.
    pub fn without_delivery_ledger(mut self) -> Self {
        self.ledger = None;
        self
    }

    /// The channels whose joins and leaves the hub announces to the connections that ask for
    /// them ([`ConnectOptions::presence`](crate::ConnectOptions::presence)): `presence-join`
    /// when a user's first connection opens, `presence-leave` when their last one closed and
    /// they did not come back within [`presence_debounce`](Self::presence_debounce). Default:
    /// none. [`Hub::presence`] lists any channel's users either way.
    pub fn presence_channels(mut self, channels: impl IntoIterator<Item = Channel>) -> Self {
        self.presence_channels = channels.into_iter().collect();
        self
    }

    /// How long a leave waits for the user to come back before it is announced (default:
    /// 5 s), so that a reconnect is neither a leave nor a join.
    pub fn presence_debounce(mut self, debounce: Duration) -> Self {
        self.presence_debounce = debounce;
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
        let instance = backplane.instance().unwrap_or_else(InstanceId::random);
        let (presence, presence_tx) = if self.presence_channels.is_empty() {
            (None, None)
        } else {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            (
                Some(PresenceEvents {
                    debounce: self.presence_debounce,
                    changes: Mutex::new(Some(rx)),
                }),
                Some((self.presence_channels, tx)),
            )
        };
        let mode = match backplane.subscribe() {
            None => Mode::Local {
                sequencer: tokio::sync::Mutex::new(()),
            },
            Some(stream) => Mode::Shared(Shared {
                stream: Mutex::new(Some(stream)),
                control: Mutex::new(backplane.control()),
                dispatcher_running: AtomicBool::new(false),
                waiters: Mutex::new(HashMap::new()),
                next_send: AtomicU64::new(0),
                last_dispatched: Mutex::new(None),
            }),
        };
        Hub {
            inner: Arc::new(HubInner {
                roster: Arc::new(Roster::new(
                    self.clock.clone(),
                    self.max_batch_bytes,
                    Origin {
                        instance,
                        // Connection ids name their instance only where there are several.
                        in_ids: matches!(mode, Mode::Shared(_)),
                        retry_ms: millis(self.reconnect_retry),
                    },
                    self.ledger
                        .map(|(messages, bytes)| Ledger::new(messages, bytes)),
                    presence_tx,
                )),
                config: HubConfig {
                    limits: Limits {
                        max_payload: self.max_payload,
                        max_list: self.max_list,
                    },
                    queue_capacity: self.queue_capacity,
                    max_replay: self.max_replay,
                    admin_role: self.admin_role,
                    reconnect_retry: self.reconnect_retry,
                    reconnect_retry_ms: millis(self.reconnect_retry),
                    shutdown_jitter: self.shutdown_jitter,
                },
                persistent: PersistentCache::new(
                    self.persistent_bytes,
                    self.persistent_ttl,
                    self.clock,
                ),
                backplane,
                mode,
                resolver: self.resolver,
                bans: Mutex::new(HashMap::new()),
                idempotency: LocalKeys::new(self.idempotency_window, self.idempotency_keys),
                presence,
                ids: Ids {
                    prefix: instance.to_string(),
                    next_connection: AtomicU64::new(0),
                    next_message: AtomicU64::new(0),
                },
                shutting_down: AtomicBool::new(false),
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

/// A duration in whole milliseconds, saturating.
pub(crate) fn millis(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)
}
