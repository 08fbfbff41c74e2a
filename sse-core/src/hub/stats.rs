//! Statistics and connection listings.

use std::{
    collections::BTreeMap,
    sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed},
};

use parking_lot::Mutex;
use serde::Serialize;

use super::Hub;
use crate::{BackplaneStats, Channel, ConnectionId, ConnectionInfo, UserId};

impl Hub {
    /// A snapshot of the statistics.
    pub fn stats(&self) -> HubStats {
        let inner = &self.inner;
        let roster = &inner.roster;
        let (total_connections, connections_per_channel) = {
            let registry = roster.registry.read();
            let per_channel: BTreeMap<Channel, usize> = registry
                .channel_counts()
                .map(|(c, n)| (c.clone(), n))
                .collect();
            (registry.len(), per_channel)
        };
        let (persistent_messages, persistent_bytes) = inner.persistent.size();
        let backplane = inner.backplane.stats();
        let c = &roster.counters;
        HubStats {
            total_connections,
            active_channels: connections_per_channel.len(),
            connections_per_channel,
            messages_per_minute: c.minute.count(roster.clock.now_ms()),
            messages_sent: c.sent.load(Relaxed),
            messages_dispatched: c.dispatched.load(Relaxed),
            queued: c.queued.load(Relaxed),
            delivered: c.delivered.load(Relaxed),
            shed: c.shed.load(Relaxed),
            expired: c.expired.load(Relaxed),
            coalesced: c.coalesced.load(Relaxed),
            closed_slow: c.closed_slow.load(Relaxed),
            cleared_slow: c.cleared_slow.load(Relaxed),
            closed: ClosedStats::of(&c.closed),
            backplane_errors_by_op: BackplaneErrors::of(&c.backplane_ops),
            cleared: c.cleared.load(Relaxed),
            replayed: c.replayed.load(Relaxed),
            history_gaps: c.history_gaps.load(Relaxed),
            backplane_errors: c.backplane_errors.load(Relaxed),
            pending_sends: inner.pending_sends(),
            persistent_messages,
            memory: MemoryStats {
                queues: c.queue_bytes.load(Relaxed),
                history: backplane.bytes,
                persistent_cache: persistent_bytes,
                ledger: c.ledger.as_ref().map_or(0, |l| l.size().1),
            },
            backplane,
        }
    }

    /// The number of open connections.
    pub fn connection_count(&self) -> usize {
        self.inner.roster.registry.read().len()
    }

    /// What the hub knows about one connection, or `None` if it is not open.
    pub fn connection_info(&self, id: ConnectionId) -> Option<ConnectionInfo> {
        if !self.owns(id) {
            return None;
        }
        let conn = self.inner.roster.registry.read().get(id).cloned();
        conn.map(|c| c.info(&self.inner.roster.origin))
    }

    /// Every open connection, ordered by id.
    pub fn connections(&self) -> Vec<ConnectionInfo> {
        let conns: Vec<_> = self.inner.roster.registry.read().all().cloned().collect();
        sorted(conns.iter().map(|c| c.info(&self.inner.roster.origin)))
    }

    /// The open connections of one user, ordered by id.
    pub fn connections_of(&self, user: impl Into<UserId>) -> Vec<ConnectionInfo> {
        let user = &user.into();
        let conns: Vec<_> = self
            .inner
            .roster
            .registry
            .read()
            .of_user(user)
            .cloned()
            .collect();
        sorted(conns.iter().map(|c| c.info(&self.inner.roster.origin)))
    }
}

fn sorted(infos: impl Iterator<Item = ConnectionInfo>) -> Vec<ConnectionInfo> {
    let mut all: Vec<ConnectionInfo> = infos.collect();
    all.sort_by_key(|c| c.id);
    all
}

/// A snapshot of the hub's statistics, from [`Hub::stats`](crate::Hub::stats).
///
/// Counters are totals since the hub was built. With a shared backplane every number here is
/// this instance's own, except `backplane.entries`, which counts the shared history.
///
/// Serialises with camelCase names, for a stats endpoint.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use serde_json::json;
/// use sse_hub::{Channel, ConnectOptions, EventType, Hub, Identity};
///
/// let hub = Hub::new();
/// let _stream = hub
///     .connect(ConnectOptions::new(Identity::anonymous()).channels([Channel::SYSTEM]))
///     .await?;
/// hub.broadcast_to_channel(Channel::SYSTEM, EventType::Broadcast, json!("hello")).await?;
///
/// let stats = hub.stats();
/// assert_eq!(stats.total_connections, 1);
/// assert_eq!(stats.connections_per_channel[&Channel::SYSTEM], 1);
/// assert_eq!((stats.messages_sent, stats.queued, stats.delivered), (1, 1, 0));
/// assert!(stats.memory.queues > 0);
/// assert_eq!(serde_json::to_value(&stats)?["totalConnections"], 1);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(description = "One instance's statistics.")
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct HubStats {
    /// Open connections.
    pub total_connections: usize,
    /// Open connections per subscribed channel (a connection counts once per channel).
    pub connections_per_channel: BTreeMap<Channel, usize>,
    /// Channels with at least one subscriber.
    pub active_channels: usize,
    /// Messages sent through this hub in the last 60 seconds.
    pub messages_per_minute: u64,
    /// Messages sent through this hub.
    pub messages_sent: u64,
    /// Messages dispatched on this instance (its own and, with a shared backplane, others').
    pub messages_dispatched: u64,
    /// Frames queued for a connection (one per message and recipient).
    pub queued: u64,
    /// Frames written to connections (handed to the response body).
    pub delivered: u64,
    /// Frames dropped to make room for more important ones.
    pub shed: u64,
    /// Frames dropped because their TTL passed before they were written.
    pub expired: u64,
    /// Frames replaced by a newer frame with the same coalescing key.
    pub coalesced: u64,
    /// Connections closed because they could not keep up.
    pub closed_slow: u64,
    /// Frames dropped unwritten because their connection was closed as too slow (part of
    /// `cleared`).
    #[serde(default)]
    pub cleared_slow: u64,
    /// Streams ended, by why.
    #[serde(default)]
    pub closed: ClosedStats,
    /// Backplane errors (`backplaneErrors`), by operation.
    #[serde(default)]
    pub backplane_errors_by_op: BackplaneErrors,
    /// Frames dropped unwritten because their connection ended: closed by the hub (too slow,
    /// disconnected, shut down) or by its client going away.
    pub cleared: u64,
    /// Frames queued from history or the persistent cache for connections that opened.
    pub replayed: u64,
    /// Connections that resumed with a cursor history no longer covered.
    pub history_gaps: u64,
    /// Errors reported by the backplane.
    pub backplane_errors: u64,
    /// Sends waiting for a shared backplane to hand their message back for dispatch.
    pub pending_sends: usize,
    /// Persistent messages cached for new connections.
    pub persistent_messages: u64,
    /// Bytes held by this process.
    pub memory: MemoryStats,
    /// The backplane's own sizes.
    pub backplane: BackplaneStats,
}

/// Streams ended, by [`CloseReason`](crate::CloseReason).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(description = "Streams ended, by why.")
)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ClosedStats {
    /// The client went away.
    pub client_gone: u64,
    /// Closed as too slow.
    pub too_slow: u64,
    /// Reached their lifetime.
    pub lifetime: u64,
    /// Disconnected or kicked.
    pub kicked: u64,
    /// Their user was banned.
    pub banned: u64,
    /// Their credentials expired or were revoked.
    pub auth_expired: u64,
    /// The hub shut down.
    pub shutdown: u64,
}

impl ClosedStats {
    fn of(counts: &[AtomicU64; 7]) -> Self {
        let n = |reason: crate::CloseReason| counts[reason.index()].load(Relaxed);
        use crate::CloseReason as R;
        Self {
            client_gone: n(R::ClientGone),
            too_slow: n(R::TooSlow),
            lifetime: n(R::Lifetime),
            kicked: n(R::Kicked),
            banned: n(R::Banned),
            auth_expired: n(R::AuthExpired),
            shutdown: n(R::Shutdown),
        }
    }

    /// The count of one reason.
    pub fn get(&self, reason: crate::CloseReason) -> u64 {
        use crate::CloseReason as R;
        match reason {
            R::ClientGone => self.client_gone,
            R::TooSlow => self.too_slow,
            R::Lifetime => self.lifetime,
            R::Kicked => self.kicked,
            R::Banned => self.banned,
            R::AuthExpired => self.auth_expired,
            R::Shutdown => self.shutdown,
        }
    }
}

/// What failed when the backplane failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackplaneOp {
    /// Appending a message.
    Publish,
    /// Reading history for a resuming client.
    Replay,
    /// The stream of entries to dispatch (a tail that lost its way or lost entries).
    Tail,
    /// The control path and the shared stores (commands, statistics, bans, idempotency keys,
    /// presence, persistent messages).
    Control,
}

impl BackplaneOp {
    /// Every operation, in a fixed order.
    pub const ALL: [BackplaneOp; 4] = [Self::Publish, Self::Replay, Self::Tail, Self::Control];

    /// The operation's name in metrics: `publish`, `replay`, `tail`, `control`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Publish => "publish",
            Self::Replay => "replay",
            Self::Tail => "tail",
            Self::Control => "control",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Backplane errors, by [`BackplaneOp`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(description = "Backplane errors, by operation.")
)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct BackplaneErrors {
    /// Appending messages.
    pub publish: u64,
    /// Reading history.
    pub replay: u64,
    /// The entry stream.
    pub tail: u64,
    /// The control path and shared stores.
    pub control: u64,
}

impl BackplaneErrors {
    fn of(counts: &[AtomicU64; 4]) -> Self {
        let n = |op: BackplaneOp| counts[op.index()].load(Relaxed);
        Self {
            publish: n(BackplaneOp::Publish),
            replay: n(BackplaneOp::Replay),
            tail: n(BackplaneOp::Tail),
            control: n(BackplaneOp::Control),
        }
    }

    /// The count of one operation.
    pub fn get(&self, op: BackplaneOp) -> u64 {
        match op {
            BackplaneOp::Publish => self.publish,
            BackplaneOp::Replay => self.replay,
            BackplaneOp::Tail => self.tail,
            BackplaneOp::Control => self.control,
        }
    }
}

/// Bytes the hub holds, by purpose.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MemoryStats {
    /// Bytes of the frames waiting in connection queues, counted once per queue. A frame is
    /// encoded once and shared by every queue that holds it (and by the history), so this is
    /// the backlog's size rather than memory of its own.
    pub queues: usize,
    /// Replay history held in this process.
    pub history: usize,
    /// The persistent-message cache.
    pub persistent_cache: usize,
    /// The delivery ledger behind `Hub::explain` (`GET /explain`).
    #[serde(default)]
    pub ledger: usize,
}

impl MemoryStats {
    /// The sum of all parts.
    pub fn total(&self) -> usize {
        self.queues + self.history + self.persistent_cache + self.ledger
    }
}

/// The hub's running counters.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) sent: AtomicU64,
    pub(crate) dispatched: AtomicU64,
    pub(crate) queued: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) shed: AtomicU64,
    pub(crate) expired: AtomicU64,
    pub(crate) coalesced: AtomicU64,
    pub(crate) closed_slow: AtomicU64,
    pub(crate) cleared_slow: AtomicU64,
    /// Streams ended, by [`CloseReason::index`](crate::CloseReason).
    pub(crate) closed: [AtomicU64; 7],
    /// Backplane errors, by [`BackplaneOp`].
    pub(crate) backplane_ops: [AtomicU64; 4],
    pub(crate) cleared: AtomicU64,
    pub(crate) replayed: AtomicU64,
    pub(crate) history_gaps: AtomicU64,
    pub(crate) backplane_errors: AtomicU64,
    pub(crate) queue_bytes: AtomicUsize,
    pub(crate) minute: MinuteWindow,
    /// What happened to each recent message at each connection, unless switched off.
    pub(crate) ledger: Option<crate::ledger::Ledger>,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u32) {
        if n > 0 {
            counter.fetch_add(u64::from(n), Relaxed);
        }
    }

    /// Records frames of connection `seq` dropped before they were written.
    pub(crate) fn lost(&self, seq: u64, lost: &[(crate::Cursor, crate::ledger::Lost)]) {
        if let (Some(ledger), false) = (&self.ledger, lost.is_empty()) {
            ledger.lost(seq, lost);
        }
    }

    /// Applies a change of queued bytes.
    pub(crate) fn queue_bytes_changed(&self, before: usize, after: usize) {
        if after > before {
            self.queue_bytes.fetch_add(after - before, Relaxed);
        } else if before > after {
            self.queue_bytes.fetch_sub(before - after, Relaxed);
        }
    }
}

/// What offering one message to its recipients did, summed there and applied to the
/// [`Counters`] once: counters every connection shares are touched once per message, not once
/// per recipient (a cache line that every core writes is slow to write).
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) queued: u64,
    pub(crate) shed: u64,
    pub(crate) expired: u64,
    pub(crate) coalesced: u64,
    pub(crate) cleared: u64,
    pub(crate) closed_slow: u64,
    pub(crate) cleared_slow: u64,
    queue_bytes_added: usize,
    queue_bytes_removed: usize,
    /// Frames dropped from queues, for the ledger: connection number, cursor, why.
    pub(crate) lost: Vec<(u64, crate::Cursor, crate::ledger::Lost)>,
}

impl Tally {
    /// Records a change of queued bytes.
    pub(crate) fn queue_bytes_changed(&mut self, before: usize, after: usize) {
        if after > before {
            self.queue_bytes_added += after - before;
        } else {
            self.queue_bytes_removed += before - after;
        }
    }

    /// Adds what was tallied to the hub's counters (and what was dropped to the ledger).
    pub(crate) fn apply(self, counters: &Counters) {
        if let (Some(ledger), false) = (&counters.ledger, self.lost.is_empty()) {
            ledger.lost_by(&self.lost);
        }
        for (counter, n) in [
            (&counters.queued, self.queued),
            (&counters.shed, self.shed),
            (&counters.expired, self.expired),
            (&counters.coalesced, self.coalesced),
            (&counters.cleared, self.cleared),
            (&counters.closed_slow, self.closed_slow),
            (&counters.cleared_slow, self.cleared_slow),
        ] {
            if n > 0 {
                counter.fetch_add(n, Relaxed);
            }
        }
        counters.queue_bytes_changed(self.queue_bytes_removed, self.queue_bytes_added);
    }
}

/// Counts events in the last 60 seconds, in one-second buckets.
#[derive(Debug)]
pub(crate) struct MinuteWindow {
    buckets: Mutex<[(u64, u64); 60]>,
}

impl Default for MinuteWindow {
    fn default() -> Self {
        Self {
            buckets: Mutex::new([(0, 0); 60]),
        }
    }
}

impl MinuteWindow {
    pub(crate) fn record(&self, now_ms: u64) {
        let second = now_ms / 1000;
        let mut buckets = self.buckets.lock();
        let bucket = &mut buckets[usize::try_from(second % 60).expect("below 60")];
        if bucket.0 != second {
            *bucket = (second, 0);
        }
        bucket.1 += 1;
    }

    /// Events in the 60 seconds ending at `now_ms` (the current second included).
    pub(crate) fn count(&self, now_ms: u64) -> u64 {
        let second = now_ms / 1000;
        self.buckets
            .lock()
            .iter()
            .filter(|(s, _)| *s + 60 > second && *s <= second)
            .map(|(_, n)| n)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minute_window_slides() {
        let w = MinuteWindow::default();
        w.record(0);
        w.record(500);
        w.record(30_000);
        assert_eq!(w.count(30_000), 3);
        assert_eq!(w.count(59_999), 3);
        assert_eq!(w.count(60_000), 1);
        w.record(61_000);
        assert_eq!(w.count(61_000), 2);
        assert_eq!(w.count(200_000), 0);
    }
}
