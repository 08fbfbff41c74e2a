//! The bounded in-memory log behind [`InMemoryBackplane`](crate::InMemoryBackplane).

use std::{collections::VecDeque, sync::Arc, time::Duration};

use crate::{Cursor, Envelope, backplane::Entry};

/// How much history the in-memory log keeps for replay after reconnects.
///
/// Entries leave when there are more than `capacity` of them, when they hold more than
/// `max_bytes`, or when they are older than `max_age`, whichever comes first. Only retryable
/// messages are kept.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_hub::HistoryConfig;
///
/// let config = HistoryConfig::default().capacity(5_000).max_age(Duration::from_secs(600));
/// # let _ = config;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct HistoryConfig {
    capacity: usize,
    max_bytes: usize,
    max_age: Duration,
}

impl HistoryConfig {
    /// Default number of entries kept.
    pub const DEFAULT_CAPACITY: usize = 10_000;
    /// Default age limit.
    pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
    /// Default byte budget: 64 MiB.
    pub const DEFAULT_MAX_BYTES: usize = 64 * 1024 * 1024;

    /// Keeps at most `max_bytes` of encoded messages.
    pub fn max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// Keeps at most `capacity` entries (0 disables replay).
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// Drops entries older than `max_age`.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }
}

impl Default for HistoryConfig {
    fn default() -> Self {
        Self {
            capacity: Self::DEFAULT_CAPACITY,
            max_bytes: Self::DEFAULT_MAX_BYTES,
            max_age: Self::DEFAULT_MAX_AGE,
        }
    }
}

/// A ring of recent entries with dense sequence numbers.
#[derive(Debug)]
pub(crate) struct History {
    config: HistoryConfig,
    epoch: u64,
    /// Sequence of the last entry appended (0 before the first).
    head: u64,
    /// Highest sequence that left the ring by trimming; replay after an older cursor is a gap.
    trimmed_through: u64,
    entries: VecDeque<Entry>,
    bytes: usize,
}

/// The outcome of a replay lookup.
#[derive(Debug)]
pub(crate) enum Lookup {
    Entries(Vec<Entry>),
    Gap { head: Option<Cursor> },
}

impl History {
    pub(crate) fn new(config: HistoryConfig, epoch: u64) -> Self {
        Self {
            config,
            epoch,
            head: 0,
            trimmed_through: 0,
            entries: VecDeque::new(),
            bytes: 0,
        }
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    pub(crate) fn head(&self) -> Cursor {
        Cursor::new(self.epoch, self.head, 0)
    }

    /// Assigns the next cursor, makes the entry, and keeps it if it is retryable.
    pub(crate) fn append(&mut self, envelope: &Arc<Envelope>, now_ms: u64) -> Entry {
        self.head += 1;
        let entry = Entry::new(Cursor::new(self.epoch, self.head, 0), Arc::clone(envelope));
        if envelope.is_retryable() && self.config.capacity > 0 {
            self.bytes += entry.heap_size();
            self.entries.push_back(entry.clone());
        }
        self.trim(now_ms);
        entry
    }

    /// The retained entries after `after`, or a gap when history no longer reaches back that
    /// far, the cursor is from another epoch, or it lies in the future.
    pub(crate) fn after(&mut self, after: &Cursor, now_ms: u64, max: usize) -> Lookup {
        self.trim(now_ms);
        if after.epoch() != self.epoch || after.minor() != 0 || after.major() > self.head {
            return self.gap();
        }
        if after.major() < self.trimmed_through {
            return self.gap();
        }
        let start = self
            .entries
            .partition_point(|e| e.cursor().major() <= after.major());
        if self.entries.len() - start > max {
            return self.gap();
        }
        Lookup::Entries(self.entries.range(start..).cloned().collect())
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// A gap, with the head (`<epoch>-0-0` before the first message) so that a client resumes
    /// from the current epoch next time instead of meeting the same gap again.
    fn gap(&self) -> Lookup {
        Lookup::Gap {
            head: Some(self.head()),
        }
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    fn trim(&mut self, now_ms: u64) {
        let max_age = u64::try_from(self.config.max_age.as_millis()).unwrap_or(u64::MAX);
        let oldest_kept = now_ms.saturating_sub(max_age);
        while let Some(front) = self.entries.front() {
            let too_many =
                self.entries.len() > self.config.capacity || self.bytes > self.config.max_bytes;
            let too_old = front.envelope().received_at() < oldest_kept;
            if !too_many && !too_old {
                break;
            }
            let e = self.entries.pop_front().expect("front exists");
            self.bytes -= e.heap_size();
            self.trimmed_through = e.cursor().major();
        }
        if self.config.capacity == 0 {
            self.trimmed_through = self.head;
        }
    }
}
