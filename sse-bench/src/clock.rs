//! The benchmark clock: monotonic nanoseconds shared by the publisher and the receivers.

use std::{sync::OnceLock, time::Instant};

static START: OnceLock<Instant> = OnceLock::new();

/// Nanoseconds since this process first read the clock.
///
/// The publisher stamps every payload with this clock and the receivers read it again on
/// arrival; both run in the generator process, so a monotonic per-process clock is exact and
/// immune to wall-clock steps.
///
/// # Examples
///
/// ```
/// let a = sse_bench::now_nanos();
/// let b = sse_bench::now_nanos();
/// assert!(b >= a);
/// ```
pub fn now_nanos() -> u64 {
    u64::try_from(START.get_or_init(Instant::now).elapsed().as_nanos()).unwrap_or(u64::MAX)
}
