//! Connection limits: the per-IP connection rate and caps on concurrent streams.

use std::{
    collections::HashMap,
    fmt,
    hash::Hash,
    net::IpAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};
use parking_lot::Mutex;
use sse_hub::UserId;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{RateLimit, StreamConfig, client_addr::limit_key, error::Rejection};

/// The limits of one endpoint.
pub(crate) struct Limits {
    rate: Option<DefaultKeyedRateLimiter<IpAddr>>,
    checks: AtomicU64,
    global: Option<Arc<Semaphore>>,
    per_ip: Option<KeyedCap<IpAddr>>,
    per_user: Option<KeyedCap<UserId>>,
    retry: Duration,
}

/// What an open stream holds; dropping it (with the body) frees its place at once.
#[derive(Debug, Default)]
pub(crate) struct Permits {
    _global: Option<OwnedSemaphorePermit>,
    _ip: Option<CapGuard<IpAddr>>,
    _user: Option<CapGuard<UserId>>,
}

impl Permits {
    /// Whether the stream holds no place under any limit.
    pub(crate) fn is_empty(&self) -> bool {
        self._global.is_none() && self._ip.is_none() && self._user.is_none()
    }
}

impl Limits {
    pub(crate) fn new(config: &StreamConfig) -> Self {
        Self {
            rate: config
                .rate_limit
                .map(|limit| RateLimiter::keyed(quota(limit))),
            checks: AtomicU64::new(0),
            global: config
                .max_streams
                .map(|max| Arc::new(Semaphore::new(max as usize))),
            per_ip: config.max_streams_per_ip.map(KeyedCap::new),
            per_user: config.max_streams_per_user.map(KeyedCap::new),
            retry: config.retry,
        }
    }

    /// Whether a limit keys on the client address (the rate, or the per-IP cap).
    pub(crate) fn per_address(&self) -> bool {
        self.rate.is_some() || self.per_ip.is_some()
    }

    /// Counts a new connection from `ip` against the rate limit.
    pub(crate) fn check_rate(&self, ip: Option<IpAddr>) -> Result<(), Rejection> {
        let (Some(rate), Some(ip)) = (&self.rate, ip) else {
            return Ok(());
        };
        // Forget idle clients now and then, so the limiter's memory follows active clients.
        if self.checks.fetch_add(1, Relaxed) % 1024 == 1023 {
            rate.retain_recent();
            rate.shrink_to_fit();
        }
        rate.check_key(&limit_key(ip)).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Rejection::too_many_requests(
                format!("too many new connections from {ip}; retry later"),
                wait,
            )
            .because("rate_limited")
        })
    }

    /// Takes the endpoint-wide and per-IP places of a new stream.
    pub(crate) fn acquire(&self, ip: Option<IpAddr>) -> Result<Permits, Rejection> {
        let mut permits = Permits::default();
        if let Some(global) = &self.global {
            permits._global = Some(Arc::clone(global).try_acquire_owned().map_err(|_| {
                Rejection::too_many_requests("this endpoint has too many open streams", self.retry)
                    .because("max_streams")
            })?);
        }
        if let (Some(cap), Some(ip)) = (&self.per_ip, ip) {
            permits._ip = Some(cap.acquire(limit_key(ip)).ok_or_else(|| {
                Rejection::too_many_requests(format!("too many open streams from {ip}"), self.retry)
                    .because("max_streams_per_ip")
            })?);
        }
        Ok(permits)
    }

    /// Takes the per-user place of a new stream.
    pub(crate) fn acquire_user(
        &self,
        permits: &mut Permits,
        user: Option<&UserId>,
    ) -> Result<(), Rejection> {
        if let (Some(cap), Some(user)) = (&self.per_user, user) {
            permits._user = Some(cap.acquire(user.clone()).ok_or_else(|| {
                Rejection::too_many_requests("too many open streams for this user", self.retry)
                    .because("max_streams_per_user")
            })?);
        }
        Ok(())
    }
}

impl fmt::Debug for Limits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limits")
            .field("rate", &self.rate.is_some())
            .field("global", &self.global)
            .field("per_ip", &self.per_ip)
            .field("per_user", &self.per_user)
            .finish()
    }
}

fn quota(limit: RateLimit) -> Quota {
    let period = limit.window / limit.max_connections.get();
    Quota::with_period(period.max(Duration::from_nanos(1)))
        .expect("the period is not zero")
        .allow_burst(limit.max_connections)
}

/// Counts open streams per key; a key leaves the map when its last stream ends.
struct KeyedCap<K: Hash + Eq> {
    max: u32,
    open: Arc<Mutex<HashMap<K, u32>>>,
}

impl<K: Hash + Eq + Clone> KeyedCap<K> {
    fn new(max: u32) -> Self {
        Self {
            max,
            open: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn acquire(&self, key: K) -> Option<CapGuard<K>> {
        let mut open = self.open.lock();
        let count = open.entry(key.clone()).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(CapGuard {
            open: Arc::clone(&self.open),
            key: Some(key),
        })
    }
}

impl<K: Hash + Eq> fmt::Debug for KeyedCap<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedCap")
            .field("max", &self.max)
            .field("keys", &self.open.lock().len())
            .finish()
    }
}

/// One stream's place under a key.
pub(crate) struct CapGuard<K: Hash + Eq> {
    open: Arc<Mutex<HashMap<K, u32>>>,
    key: Option<K>,
}

impl<K: Hash + Eq> Drop for CapGuard<K> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let mut open = self.open.lock();
        if let Some(count) = open.get_mut(&key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&key);
            }
        }
    }
}

impl<K: Hash + Eq> fmt::Debug for CapGuard<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CapGuard")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_cap_releases_on_drop_and_forgets_idle_keys() {
        let cap = KeyedCap::new(2);
        let a = cap.acquire("a").unwrap();
        let b = cap.acquire("a").unwrap();
        assert!(cap.acquire("a").is_none());
        assert!(cap.acquire("b").is_some());
        drop(a);
        let c = cap.acquire("a").unwrap();
        drop((b, c));
        assert!(cap.open.lock().is_empty());
    }
}
