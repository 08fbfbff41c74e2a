//! Ending streams: disconnects and shutdown.

use std::sync::{Arc, atomic::Ordering::Relaxed};

use super::{Hub, HubInner};
use crate::{ConnectionId, UserId, connection::Connection, hub::builder::millis};

/// Why the hub ends a stream (slow clients are ended where their queue overflows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CloseReason {
    Disconnected,
    Banned,
    Shutdown,
}

impl Hub {
    /// Ends one connection's stream on this instance (after a final `retry:`). Returns false
    /// if it is not open here; [`kick`](Hub::kick) finds it on any instance.
    pub fn disconnect(&self, id: ConnectionId) -> bool {
        if !self.owns(id) {
            return false;
        }
        let conns = self
            .inner
            .roster
            .take(|registry| registry.get(id).cloned().into_iter().collect());
        self.inner.close(&conns, CloseReason::Disconnected) > 0
    }

    /// Ends every stream of one user on this instance. Returns how many were ended;
    /// [`kick_user`](Hub::kick_user) ends them on every instance.
    pub fn disconnect_user(&self, user: impl Into<UserId>) -> usize {
        let user = &user.into();
        let conns = self
            .inner
            .roster
            .take(|registry| registry.of_user(user).cloned().collect());
        self.inner.close(&conns, CloseReason::Disconnected)
    }

    /// Refuses new connections and messages, and ends every stream after a final `retry:` with
    /// a jittered delay. Returns how many streams were ended.
    pub fn shutdown(&self) -> usize {
        let inner = &self.inner;
        inner.shutting_down.store(true, Relaxed);
        let conns = inner
            .roster
            .take(|registry| registry.all().cloned().collect());
        inner.close(&conns, CloseReason::Shutdown)
    }
}

impl HubInner {
    /// Ends the streams of connections already taken out of the registry; returns how many
    /// were still open.
    pub(super) fn close(&self, conns: &[Arc<Connection>], reason: CloseReason) -> usize {
        let retry_ms = self.config.reconnect_retry_ms;
        let counters = &self.roster.counters;
        conns
            .iter()
            .filter(|conn| {
                let retry_ms = match reason {
                    // Spread at random, so that clients do not all come back at once.
                    CloseReason::Shutdown => retry_ms
                        .saturating_add(fastrand::u32(0..=millis(self.config.shutdown_jitter))),
                    CloseReason::Disconnected | CloseReason::Banned => retry_ms,
                };
                let reason = match reason {
                    CloseReason::Disconnected => crate::CloseReason::Kicked,
                    CloseReason::Banned => crate::CloseReason::Banned,
                    CloseReason::Shutdown => crate::CloseReason::Shutdown,
                };
                conn.close(retry_ms, reason, counters)
            })
            .count()
    }
}
