//! Time for tests: the hub's clock and tokio's paused clock, moved together.

use std::time::Duration;

use crate::{Clock, HubBuilder, ManualClock};

/// A clock for tests: moves the hub's clock and tokio's clock together.
///
/// Hand [`clock`](TestClock::clock) to the hub (or build one with [`hub`](TestClock::hub)), and
/// run the test with tokio's clock paused (`#[tokio::test(start_paused = true)]`): timestamps,
/// TTLs and history age follow the hub's clock, heartbeats and lifetimes follow tokio's, and
/// [`advance`](TestClock::advance) moves both.
#[derive(Debug, Clone)]
pub struct TestClock {
    manual: ManualClock,
}

impl TestClock {
    /// A clock standing at `now_ms` milliseconds since the Unix epoch.
    pub fn new(now_ms: u64) -> Self {
        Self {
            manual: ManualClock::new(now_ms),
        }
    }

    /// The clock to give a hub.
    pub fn clock(&self) -> Clock {
        Clock::from(self.manual.clone())
    }

    /// A hub builder on this clock.
    pub fn hub(&self) -> HubBuilder {
        crate::Hub::builder().clock(self.clock())
    }

    /// The current reading, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> u64 {
        self.manual.now_ms()
    }

    /// Moves the hub's clock, then tokio's (running the timers that come due).
    ///
    /// # Panics
    ///
    /// When tokio's clock is not paused.
    pub async fn advance(&self, by: Duration) {
        self.manual.advance(by);
        tokio::time::advance(by).await;
    }
}
