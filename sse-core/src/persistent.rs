//! The cache of persistent messages, delivered to connections that open later.

use std::{fmt, sync::Arc, time::Duration};

use moka::sync::Cache;

use crate::{Clock, backplane::Entry};

/// A cached persistent message and when it leaves the cache (hub clock, milliseconds).
#[derive(Debug)]
struct Cached {
    entry: Entry,
    until: u64,
    lifetime: Duration,
}

/// Persistent messages by key (their coalescing key, else their id), bounded by bytes and age.
///
/// Eviction is moka's (TinyLFU admission, LRU eviction, per-entry expiry); reads also check the
/// hub's clock so that a message past its TTL is never delivered even before moka evicts it.
pub(crate) struct PersistentCache {
    cache: Cache<String, Arc<Cached>>,
    default_ttl: Duration,
    clock: Clock,
}

impl PersistentCache {
    pub(crate) fn new(max_bytes: u64, default_ttl: Duration, clock: Clock) -> Self {
        let cache = Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|key: &String, value: &Arc<Cached>| {
                u32::try_from(key.len() + value.entry.envelope.heap_size() + 64).unwrap_or(u32::MAX)
            })
            .expire_after(Expiry)
            .build();
        Self {
            cache,
            default_ttl,
            clock,
        }
    }

    /// Keeps `entry`, replacing a cached message with the same key.
    pub(crate) fn insert(&self, entry: &Entry) {
        let now = self.clock.now_ms();
        let default_until =
            now.saturating_add(u64::try_from(self.default_ttl.as_millis()).unwrap_or(u64::MAX));
        let until = entry
            .envelope
            .expires_at()
            .map_or(default_until, |at| at.min(default_until));
        if until <= now {
            return;
        }
        let key = match entry.envelope.coalesce_key() {
            Some(key) => format!("k:{key}"),
            None => format!("i:{}", entry.envelope.id()),
        };
        self.cache.insert(
            key,
            Arc::new(Cached {
                entry: entry.clone(),
                until,
                lifetime: Duration::from_millis(until - now),
            }),
        );
    }

    /// The live cached entries accepted by `keep`, in log order.
    pub(crate) fn entries(&self, mut keep: impl FnMut(&Entry) -> bool) -> Vec<Entry> {
        let now = self.clock.now_ms();
        let mut out: Vec<Entry> = self
            .cache
            .iter()
            .filter(|(_, cached)| cached.until > now && keep(&cached.entry))
            .map(|(_, cached)| cached.entry.clone())
            .collect();
        out.sort_by(|a, b| {
            (a.envelope.timestamp(), a.cursor.position())
                .cmp(&(b.envelope.timestamp(), b.cursor.position()))
        });
        out
    }

    /// Entries and bytes held, after running moka's pending maintenance.
    pub(crate) fn size(&self) -> (u64, u64) {
        self.cache.run_pending_tasks();
        (self.cache.entry_count(), self.cache.weighted_size())
    }
}

impl fmt::Debug for PersistentCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersistentCache")
            .field("entries", &self.cache.entry_count())
            .field("default_ttl", &self.default_ttl)
            .finish()
    }
}

/// Frees memory when a message's time is up; reads check the hub clock as well.
struct Expiry;

impl moka::Expiry<String, Arc<Cached>> for Expiry {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Arc<Cached>,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.lifetime)
    }
}
