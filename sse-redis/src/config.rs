//! Settings of a [`RedisBackplane`](crate::RedisBackplane).

use std::time::Duration;

/// Settings of a [`RedisBackplane`](crate::RedisBackplane): which stream, how much history it
/// keeps, and how long Redis may take.
///
/// Every instance of one deployment must use the same [`key`](Self::key): the key *is* the
/// shared log. [`max_len`](Self::max_len) bounds the history that reconnecting clients can
/// replay, cluster-wide.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_redis::RedisConfig;
///
/// let config = RedisConfig::default()
///     .key("myapp:sse")
///     .max_len(50_000)
///     .publish_timeout(Duration::from_millis(500));
/// assert_eq!(config.epoch_key(), "myapp:sse:epoch");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct RedisConfig {
    pub(crate) key: String,
    pub(crate) max_len: usize,
    pub(crate) block: Duration,
    pub(crate) read_count: usize,
    pub(crate) publish_timeout: Duration,
    pub(crate) reconnect_max_delay: Duration,
    pub(crate) control_timeout: Duration,
    pub(crate) stats_interval: Duration,
    pub(crate) stats_ttl: Duration,
    pub(crate) persistent_max: usize,
    pub(crate) persistent_ttl: Duration,
}

impl RedisConfig {
    /// The default stream key.
    pub const DEFAULT_KEY: &'static str = "sse:stream";
    /// The default number of entries the stream keeps (approximately: trimming is `MAXLEN ~`).
    pub const DEFAULT_MAX_LEN: usize = 10_000;
    /// The default time one `XREAD` waits for new entries before it asks again.
    pub const DEFAULT_BLOCK: Duration = Duration::from_secs(1);
    /// The default number of entries one `XREAD` returns at most.
    pub const DEFAULT_READ_COUNT: usize = 256;
    /// The default time a publish or a replay may take before it fails.
    pub const DEFAULT_PUBLISH_TIMEOUT: Duration = Duration::from_secs(2);
    /// The default longest wait between two reconnection attempts.
    pub const DEFAULT_RECONNECT_MAX_DELAY: Duration = Duration::from_secs(1);
    /// The default time a cluster-wide command waits for the other instances' answers.
    pub const DEFAULT_CONTROL_TIMEOUT: Duration = Duration::from_secs(1);
    /// The default interval at which an instance publishes its statistics.
    pub const DEFAULT_STATS_INTERVAL: Duration = Duration::from_secs(5);
    /// The default time an instance's published statistics live (and it counts as alive).
    pub const DEFAULT_STATS_TTL: Duration = Duration::from_secs(15);
    /// The default number of persistent messages kept for instances that start later.
    pub const DEFAULT_PERSISTENT_MAX: usize = 1_000;
    /// The default time a persistent message without a TTL is kept for instances that start
    /// later (the hub's own default).
    pub const DEFAULT_PERSISTENT_TTL: Duration = Duration::from_secs(24 * 3600);

    /// The stream key (default `sse:stream`). The epoch lives beside it at `<key>:epoch`; both
    /// are used together in Lua scripts, so they must be on the same Redis.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// How many entries the stream keeps for replay, cluster-wide (default 10,000). Every
    /// publish trims with `MAXLEN ~`, so Redis may keep somewhat more; at least 1.
    pub fn max_len(mut self, entries: usize) -> Self {
        self.max_len = entries.max(1);
        self
    }

    /// How long one blocking `XREAD` waits for new entries before it asks again (default 1 s;
    /// at least 1 ms, since 0 would block forever). It bounds how stale
    /// [`BackplaneStats::entries`](sse_hub::BackplaneStats::entries) can be when nothing is
    /// published; new entries arrive as soon as they are added either way.
    pub fn block(mut self, block: Duration) -> Self {
        self.block = block.max(Duration::from_millis(1));
        self
    }

    /// How many entries one `XREAD` returns at most (default 256; at least 1).
    pub fn read_count(mut self, entries: usize) -> Self {
        self.read_count = entries.max(1);
        self
    }

    /// How long a publish or a replay may take, and how long [`RedisBackplane::connect`]
    /// waits for Redis (default 2 s). A publish that takes longer fails with
    /// [`BackplaneError::Timeout`](sse_hub::error::BackplaneError::Timeout), so that sends
    /// never hang while Redis is down.
    ///
    /// [`RedisBackplane::connect`]: crate::RedisBackplane::connect
    pub fn publish_timeout(mut self, timeout: Duration) -> Self {
        self.publish_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The longest wait between two attempts to reach Redis again after a failure (default
    /// 1 s). Attempts start quickly and back off up to this delay.
    pub fn reconnect_max_delay(mut self, delay: Duration) -> Self {
        self.reconnect_max_delay = delay.max(Duration::from_millis(1));
        self
    }

    /// How long a cluster-wide command ([`Hub::kick_user`](sse_hub::Hub::kick_user),
    /// [`Hub::ban_user`](sse_hub::Hub::ban_user), listings, ...) waits for the other
    /// instances' answers (default 1 s; at least 1 ms). It stops waiting as soon as every
    /// instance subscribed to the control channel has answered; a live instance that did not
    /// answer in time is named in the report's `missing`.
    pub fn control_timeout(mut self, timeout: Duration) -> Self {
        self.control_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How often the instance publishes its statistics for
    /// [`Hub::cluster_stats`](sse_hub::Hub::cluster_stats), and how long they live (default
    /// every 5 s, for 15 s). An instance counts as alive while its last snapshot lives, so one
    /// that dies drops out of the cluster's statistics within `ttl`. The interval is at least
    /// 1 ms and the time to live at least the interval.
    pub fn stats(mut self, interval: Duration, ttl: Duration) -> Self {
        self.stats_interval = interval.max(Duration::from_millis(1));
        self.stats_ttl = ttl.max(self.stats_interval);
        self
    }

    /// How many persistent messages Redis keeps for instances that start later, and for how
    /// long when a message has no TTL of its own (default 1,000, for 24 h; at least 1). Past
    /// the count, the messages closest to their end go first.
    pub fn persistent(mut self, max: usize, ttl: Duration) -> Self {
        self.persistent_max = max.max(1);
        self.persistent_ttl = ttl;
        self
    }

    /// The pub/sub channel of the control path: `<key>:control`. Answers go to
    /// `<key>:control:<instance>`.
    pub fn control_channel(&self) -> String {
        format!("{}:control", self.key)
    }

    /// The key of the epoch beside the stream: `<key>:epoch`.
    pub fn epoch_key(&self) -> String {
        format!("{}:epoch", self.key)
    }
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            key: Self::DEFAULT_KEY.to_owned(),
            max_len: Self::DEFAULT_MAX_LEN,
            block: Self::DEFAULT_BLOCK,
            read_count: Self::DEFAULT_READ_COUNT,
            publish_timeout: Self::DEFAULT_PUBLISH_TIMEOUT,
            reconnect_max_delay: Self::DEFAULT_RECONNECT_MAX_DELAY,
            control_timeout: Self::DEFAULT_CONTROL_TIMEOUT,
            stats_interval: Self::DEFAULT_STATS_INTERVAL,
            stats_ttl: Self::DEFAULT_STATS_TTL,
            persistent_max: Self::DEFAULT_PERSISTENT_MAX,
            persistent_ttl: Self::DEFAULT_PERSISTENT_TTL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = RedisConfig::default();
        assert_eq!(c.key, "sse:stream");
        assert_eq!(c.epoch_key(), "sse:stream:epoch");
        assert_eq!(c.max_len, 10_000);
        assert_eq!(c.block, Duration::from_secs(1));
        assert_eq!(c.read_count, 256);
        assert_eq!(c.publish_timeout, Duration::from_secs(2));
        assert_eq!(c.reconnect_max_delay, Duration::from_secs(1));
        assert_eq!(c.control_timeout, Duration::from_secs(1));
        assert_eq!(c.control_channel(), "sse:stream:control");
        assert_eq!(
            (c.stats_interval, c.stats_ttl),
            (Duration::from_secs(5), Duration::from_secs(15))
        );
        assert_eq!(
            (c.persistent_max, c.persistent_ttl),
            (1_000, Duration::from_secs(86_400))
        );
    }

    #[test]
    fn values_that_would_misbehave_are_raised_to_their_minimum() {
        let c = RedisConfig::default()
            .max_len(0)
            .block(Duration::ZERO)
            .read_count(0)
            .publish_timeout(Duration::ZERO)
            .reconnect_max_delay(Duration::ZERO);
        assert_eq!(c.max_len, 1);
        // `BLOCK 0` would wait forever.
        assert_eq!(c.block, Duration::from_millis(1));
        assert_eq!(c.read_count, 1);
        assert_eq!(c.publish_timeout, Duration::from_millis(1));
        assert_eq!(c.reconnect_max_delay, Duration::from_millis(1));
    }
}
