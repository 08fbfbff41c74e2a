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
    /// [`BackplaneStats::entries`](sse_core::BackplaneStats::entries) can be when nothing is
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
    /// [`BackplaneError::Timeout`](sse_core::error::BackplaneError::Timeout), so that sends
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
