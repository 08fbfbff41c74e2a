//! One heartbeat timer per endpoint, however many streams it serves.

use std::{
    fmt,
    sync::{
        Arc, Weak,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use parking_lot::Mutex;
use sse_hub::{Clock, system};
use tokio::sync::Notify;

/// The shared heartbeat of an endpoint: one task ticks at the interval, encodes the
/// `heartbeat` frame once, and wakes every idle stream, which writes that same frame. No stream
/// has a timer or task of its own.
pub(crate) struct Heartbeat {
    pub(crate) interval: Duration,
    pub(crate) notify: Arc<Notify>,
    /// Ticks so far, counted before each wake-up: a stream that saw no new tick since it last
    /// registered for one need not register again (which takes the `Notify`'s lock).
    ticks: AtomicU64,
    frame: Mutex<Bytes>,
    started: AtomicBool,
    clock: Clock,
}

impl Heartbeat {
    pub(crate) fn new(interval: Duration, clock: Clock) -> Self {
        Self {
            interval,
            notify: Arc::new(Notify::new()),
            ticks: AtomicU64::new(0),
            frame: Mutex::new(system::heartbeat(clock.now_ms())),
            started: AtomicBool::new(false),
            clock,
        }
    }

    /// Ticks so far.
    pub(crate) fn ticks(&self) -> u64 {
        self.ticks.load(Ordering::Acquire)
    }

    /// The frame of the last tick.
    pub(crate) fn frame(&self) -> Bytes {
        self.frame.lock().clone()
    }

    /// Starts the ticker on the current tokio runtime, once. It stops when the endpoint and
    /// all its streams are gone.
    pub(crate) fn ensure_started(self: &Arc<Self>) {
        if self.started.swap(true, Ordering::Relaxed) {
            return;
        }
        let weak: Weak<Self> = Arc::downgrade(self);
        let period = self.interval;
        tokio::spawn(async move {
            let start = tokio::time::Instant::now() + period;
            let mut ticks = tokio::time::interval_at(start, period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(heartbeat) = weak.upgrade() else {
                    break;
                };
                *heartbeat.frame.lock() = system::heartbeat(heartbeat.clock.now_ms());
                heartbeat.ticks.fetch_add(1, Ordering::Release);
                heartbeat.notify.notify_waiters();
            }
        });
    }
}

impl fmt::Debug for Heartbeat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Heartbeat")
            .field("interval", &self.interval)
            .field("started", &self.started.load(Ordering::Relaxed))
            .finish()
    }
}
