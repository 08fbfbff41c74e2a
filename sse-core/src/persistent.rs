//! The cache of persistent messages, delivered to connections that open later.

use std::{
    collections::{BTreeMap, HashMap},
    fmt,
    time::Duration,
};

use parking_lot::Mutex;

use crate::{Channel, Clock, backplane::Entry};

/// Persistent messages by key (their coalescing key, else their id), bounded by bytes and
/// age, looked up by channel.
///
/// A newer message with the same key replaces the older one; when the cache is over its byte
/// budget the oldest messages leave first. A general-purpose cache does not fit: connections
/// need the messages of their channels in log order (a whole-cache walk per connection was
/// measured at 15 µs with an empty cache), and frequency-based admission may refuse the newest
/// message, which must always win.
pub(crate) struct PersistentCache {
    store: Mutex<Store>,
    max_bytes: usize,
    default_ttl: Duration,
    clock: Clock,
}

#[derive(Default)]
struct Store {
    /// By insertion order, which is dispatch order and so log order.
    entries: BTreeMap<u64, Cached>,
    by_key: HashMap<String, u64>,
    by_channel: HashMap<Channel, Vec<u64>>,
    next: u64,
    bytes: usize,
}

struct Cached {
    key: String,
    entry: Entry,
    until: u64,
    bytes: usize,
}

impl PersistentCache {
    pub(crate) fn new(max_bytes: usize, default_ttl: Duration, clock: Clock) -> Self {
        Self {
            store: Mutex::new(Store::default()),
            max_bytes,
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
            .envelope()
            .expires_at()
            .map_or(default_until, |at| at.min(default_until));
        if until <= now {
            return;
        }
        let key = match entry.envelope().coalesce_key() {
            Some(key) => format!("k:{key}"),
            None => format!("i:{}", entry.envelope().id()),
        };
        let bytes = key.len() + entry.heap_size() + 64;
        let mut store = self.store.lock();
        if let Some(old) = store.by_key.get(&key).copied() {
            store.remove(old);
        }
        store.purge_expired(now);
        let seq = store.next;
        store.next += 1;
        store.by_key.insert(key.clone(), seq);
        store
            .by_channel
            .entry(entry.envelope().channel().clone())
            .or_default()
            .push(seq);
        store.bytes += bytes;
        store.entries.insert(
            seq,
            Cached {
                key,
                entry: entry.clone(),
                until,
                bytes,
            },
        );
        while store.bytes > self.max_bytes {
            let Some(oldest) = store.entries.keys().next().copied() else {
                break;
            };
            store.remove(oldest);
        }
    }

    /// The live cached entries on `channels` accepted by `keep`, in log order.
    pub(crate) fn entries(
        &self,
        channels: &[Channel],
        mut keep: impl FnMut(&Entry) -> bool,
    ) -> Vec<Entry> {
        let now = self.clock.now_ms();
        let store = self.store.lock();
        let mut found: Vec<(u64, Entry)> = channels
            .iter()
            .filter_map(|channel| store.by_channel.get(channel))
            .flatten()
            .filter_map(|seq| Some((*seq, store.entries.get(seq)?)))
            .filter(|(_, cached)| cached.until > now && keep(&cached.entry))
            .map(|(seq, cached)| (seq, cached.entry.clone()))
            .collect();
        drop(store);
        found.sort_unstable_by_key(|(seq, _)| *seq);
        found.into_iter().map(|(_, entry)| entry).collect()
    }

    /// Entries and bytes held (expired entries leave first).
    pub(crate) fn size(&self) -> (u64, usize) {
        let now = self.clock.now_ms();
        let mut store = self.store.lock();
        store.purge_expired(now);
        (store.entries.len() as u64, store.bytes)
    }
}

impl Store {
    fn remove(&mut self, seq: u64) {
        let Some(cached) = self.entries.remove(&seq) else {
            return;
        };
        self.bytes -= cached.bytes;
        self.by_key.remove(&cached.key);
        let channel = cached.entry.envelope().channel();
        if let Some(seqs) = self.by_channel.get_mut(channel) {
            seqs.retain(|s| *s != seq);
            if seqs.is_empty() {
                self.by_channel.remove(channel);
            }
        }
    }

    fn purge_expired(&mut self, now: u64) {
        let expired: Vec<u64> = self
            .entries
            .iter()
            .filter(|(_, cached)| cached.until <= now)
            .map(|(seq, _)| *seq)
            .collect();
        for seq in expired {
            self.remove(seq);
        }
    }
}

impl fmt::Debug for PersistentCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let store = self.store.lock();
        f.debug_struct("PersistentCache")
            .field("entries", &store.entries.len())
            .field("bytes", &store.bytes)
            .field("max_bytes", &self.max_bytes)
            .field("default_ttl", &self.default_ttl)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::{Cursor, EventType, Hub, ManualClock, Message};

    fn entry(hub: &Hub, n: u64, message: Message) -> Entry {
        Entry::new(Cursor::new(1, n, 0), Arc::new(hub.encode(message).unwrap()))
    }

    fn values(entries: &[Entry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| {
                let body = std::str::from_utf8(e.envelope().body()).unwrap();
                let json: serde_json::Value = serde_json::from_str(
                    body.lines().nth(1).unwrap().strip_prefix("data: ").unwrap(),
                )
                .unwrap();
                json["data"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    #[test]
    fn looks_up_by_channel_in_log_order_and_evicts_the_oldest() {
        let clock = ManualClock::new(1_000);
        let hub = Hub::new();
        let message =
            |c: Channel, v: &str| Message::new(c, EventType::Alert, json!(v)).persistent();
        let first = entry(&hub, 1, message(Channel::ALERTS, "a1"));
        let size = first.heap_size() + "i:".len() + first.envelope().id().len() + 64;
        let cache = PersistentCache::new(
            size * 3,
            Duration::from_secs(60),
            Clock::from(clock.clone()),
        );
        cache.insert(&first);
        cache.insert(&entry(&hub, 2, message(Channel::CHAT, "c1")));
        cache.insert(&entry(&hub, 3, message(Channel::ALERTS, "a2")));
        assert_eq!(
            values(&cache.entries(&[Channel::ALERTS], |_| true)),
            ["a1", "a2"]
        );
        assert_eq!(
            values(&cache.entries(&[Channel::CHAT, Channel::ALERTS], |_| true)),
            ["a1", "c1", "a2"]
        );
        assert_eq!(cache.size().0, 3);
        // A fourth message of the same size pushes out the oldest.
        cache.insert(&entry(&hub, 4, message(Channel::ALERTS, "a3")));
        assert_eq!(
            values(&cache.entries(&[Channel::ALERTS, Channel::CHAT], |_| true)),
            ["c1", "a2", "a3"]
        );
        // The default TTL applies to messages without one.
        clock.advance(Duration::from_secs(60));
        assert!(
            cache
                .entries(&[Channel::ALERTS, Channel::CHAT], |_| true)
                .is_empty()
        );
        assert_eq!(cache.size(), (0, 0));
    }
}
