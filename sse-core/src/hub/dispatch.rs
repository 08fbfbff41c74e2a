//! Dispatch: routing each log entry to this instance's connections.

use std::{
    sync::{Arc, atomic::Ordering::Relaxed},
    task::Poll,
};

use super::{Hub, HubInner, Mode, Tally, stats::BackplaneOp};
use crate::{
    Entry, Message,
    cluster::ControlRequest,
    connection::Offered,
    error::BackplaneError,
    ledger::{Dispatch, Outcomes},
    queue::Frame,
    system,
};

/// What dispatching one entry did on this instance.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Dispatched {
    pub(crate) sent: usize,
    pub(crate) shed: usize,
    pub(crate) closed: usize,
}

impl Hub {
    /// Drives a shared backplane: dispatches every entry its stream yields to this instance's
    /// connections, in log order. Returns when the stream ends; at once for a local backplane,
    /// or if another dispatcher already runs.
    ///
    /// Spawn it once per hub when the backplane is shared (the `sse-redis` crate documents
    /// this); sends fail with an error while it is not running.
    pub async fn run_dispatcher(&self) {
        let inner = &*self.inner;
        let Mode::Shared(shared) = &inner.mode else {
            return;
        };
        let Some(mut stream) = shared.stream.lock().take() else {
            return;
        };
        let mut control = shared.control.lock().take();
        inner.load_shared_state().await;
        shared.dispatcher_running.store(true, Relaxed);
        struct Running<'a>(&'a super::Shared);
        impl Drop for Running<'_> {
            fn drop(&mut self) {
                self.0.dispatcher_running.store(false, Relaxed);
                // Pending sends learn that their message will not be dispatched here.
                self.0.waiters.lock().clear();
            }
        }
        let _running = Running(shared);
        enum Next {
            Control(ControlRequest),
            Entry(Option<Result<Entry, BackplaneError>>),
        }
        loop {
            let next = std::future::poll_fn(|cx| {
                if let Some(requests) = control.as_mut() {
                    match requests.as_mut().poll_next(cx) {
                        Poll::Ready(Some(request)) => return Poll::Ready(Next::Control(request)),
                        Poll::Ready(None) => control = None,
                        Poll::Pending => {}
                    }
                }
                stream.as_mut().poll_next(cx).map(Next::Entry)
            })
            .await;
            let item = match next {
                Next::Control(request) => {
                    self.answer(request);
                    continue;
                }
                Next::Entry(None) => break,
                Next::Entry(Some(item)) => item,
            };
            match item {
                Ok(entry) => {
                    let dispatched = inner.dispatch(&entry);
                    let waiter = entry
                        .envelope()
                        .send_token()
                        .and_then(|token| shared.waiters.lock().remove(token));
                    if let Some(waiter) = waiter {
                        let _ = waiter.tx.send((entry.cursor(), dispatched));
                    }
                    *shared.last_dispatched.lock() = Some(entry.cursor());
                    shared.release_skipped(Some(&entry.cursor()));
                }
                Err(BackplaneError::Lost(_)) => {
                    inner.backplane_failed(BackplaneOp::Tail);
                    inner.resynchronise_all();
                    shared.release_skipped(None);
                }
                Err(_) => inner.backplane_failed(BackplaneOp::Tail),
            }
        }
    }
}

impl HubInner {
    /// Counts a backplane error of `op`.
    pub(crate) fn backplane_failed(&self, op: super::stats::BackplaneOp) {
        let counters = &self.roster.counters;
        counters.backplane_errors.fetch_add(1, Relaxed);
        counters.backplane_ops[op.index()].fetch_add(1, Relaxed);
    }

    /// Counts a backplane error of the control path or a shared store.
    pub(crate) fn count_backplane_error(&self) {
        self.backplane_failed(super::stats::BackplaneOp::Control);
    }

    /// Tells every connection to resynchronise: entries were lost on their way to this
    /// instance. Each gets a history-gap refresh after what it has queued; the refresh has no
    /// id, so the client keeps its last one.
    fn resynchronise_all(&self) {
        let roster = &*self.roster;
        let now = roster.clock.now_ms();
        let conns: Vec<_> = roster.registry.read().all().cloned().collect();
        let mut too_slow = Vec::new();
        let mut tally = Tally::default();
        for conn in conns {
            let id = format!("{}-gap-{}", self.ids.prefix, conn.seq);
            let gap = system::HistoryGap {
                id: &id,
                resume_from: None,
                last_event_id: None,
                channels: &conn.channels,
            };
            let refresh = Frame::system(system::history_gap(&gap, now), Message::MAX_PRIORITY);
            roster.counters.history_gaps.fetch_add(1, Relaxed);
            if conn.offer(refresh, now, &mut tally, self.config.reconnect_retry_ms)
                == Offered::ClosedSlow
            {
                too_slow.push(conn);
            }
        }
        tally.apply(&roster.counters);
        if !too_slow.is_empty() {
            roster.remove(too_slow.iter().map(|conn| &**conn));
        }
    }

    /// Routes one log entry to this instance's connections: every recipient's queue gets the
    /// entry's shared frame.
    pub(crate) fn dispatch(&self, entry: &Entry) -> Dispatched {
        let roster = &*self.roster;
        let now = roster.clock.now_ms();
        roster.counters.dispatched.fetch_add(1, Relaxed);
        let envelope = entry.envelope();
        let mut out = Dispatched::default();
        let ledger = roster.counters.ledger.as_ref();
        if envelope.is_expired(now) {
            if let Some(ledger) = ledger {
                let newest = self.ids.next_connection.load(Relaxed);
                ledger.dispatched(entry, newest, true, Outcomes::default());
            }
            return out;
        }
        if envelope.is_persistent() {
            self.persistent.insert(entry);
        }
        let frame = entry.queued();
        let mut too_slow = Vec::new();
        let mut tally = Tally::default();
        let mut outcomes = ledger.map(|_| Outcomes::with_capacity(16));
        let newest = self.ids.next_connection.load(Relaxed);
        let registry = roster.registry.read();
        registry.for_each_recipient(envelope, |conn| {
            let offered = conn.offer(
                Arc::clone(&frame),
                now,
                &mut tally,
                self.config.reconnect_retry_ms,
            );
            let outcome = match offered {
                Offered::Queued => {
                    out.sent += 1;
                    Dispatch::Queued
                }
                // Given by replay or persistent delivery already: it reaches the connection.
                Offered::AlreadyGiven => {
                    out.sent += 1;
                    Dispatch::AlreadyGiven
                }
                Offered::Shed => {
                    out.shed += 1;
                    Dispatch::Shed
                }
                Offered::ClosedSlow => {
                    out.closed += 1;
                    too_slow.push(Arc::clone(conn));
                    Dispatch::ClosedSlow
                }
                Offered::AlreadyClosed => return,
            };
            if let Some(outcomes) = &mut outcomes {
                outcomes.push(conn.seq, outcome);
            }
        });
        drop(registry);
        for conn in &too_slow {
            tracing::info!(
                sse.connection_id = %roster.origin.connection_id(conn.seq),
                sse.message_id = %envelope.id(),
                sse.close_reason = "too-slow",
                "sse stream closed: the client could not keep up"
            );
        }
        if let (Some(ledger), Some(outcomes)) = (ledger, outcomes) {
            ledger.dispatched(entry, newest, false, outcomes);
        }
        tally.apply(&roster.counters);
        if !too_slow.is_empty() {
            roster.remove(too_slow.iter().map(|conn| &**conn));
        }
        out
    }
}
