//! Connecting: registering a connection and queueing what it missed, or what persists.

use std::{
    collections::HashSet,
    sync::{Arc, atomic::Ordering::Relaxed},
};

use super::{Counters, Hub, HubInner};
use crate::{
    ConnectOptions, ConnectionId, Cursor, Entry, Message, Replay, Subscription,
    connection::Connection,
    error::ConnectError,
    queue::Frame,
    system::{self, HistoryGap},
};

/// What a new connection receives before live messages.
struct Earlier {
    entries: Vec<Entry>,
    /// When the client's cursor fell into a gap: the log's head then, if it has one.
    gap: Option<Option<Cursor>>,
}

impl Hub {
    /// Opens a connection: registers it, queues what it missed (or the persistent messages it
    /// is entitled to) and returns its receiving half.
    ///
    /// # Errors
    ///
    /// [`ConnectError::ShuttingDown`] after [`shutdown`](Hub::shutdown),
    /// [`ConnectError::NoChannels`] when no channel is given, and [`ConnectError::Auth`] when the
    /// permission resolver refuses.
    pub async fn connect(&self, options: ConnectOptions) -> Result<Subscription, ConnectError> {
        let inner = &self.inner;
        if inner.shutting_down.load(Relaxed) {
            return Err(ConnectError::ShuttingDown);
        }
        let mut channels = Vec::with_capacity(options.channels.len());
        for channel in options.channels {
            if !channels.contains(&channel) {
                channels.push(channel);
            }
        }
        if channels.is_empty() {
            return Err(ConnectError::NoChannels);
        }
        channels.shrink_to_fit();
        let mut permissions = match options.permissions {
            Some(permissions) => permissions,
            None => inner.resolver.resolve(&options.identity).await?,
        };
        let mut seen = HashSet::with_capacity(permissions.len());
        permissions.retain(|p| seen.insert(p.clone()));
        permissions.shrink_to_fit();
        let roster = &inner.roster;
        let now = roster.clock.now_ms();
        let id = ConnectionId(inner.ids.next_connection.fetch_add(1, Relaxed) + 1);
        let conn = Arc::new(Connection::new(
            id,
            options.identity,
            permissions,
            channels,
            options.client_addr,
            options
                .queue_capacity
                .unwrap_or(inner.config.queue_capacity),
            now,
        ));
        roster.registry.write().insert(&conn);
        // Dropping the subscription on any early return unregisters the connection.
        let mut subscription = Subscription {
            conn: Arc::clone(&conn),
            roster: Arc::clone(roster),
            replayed: 0,
            resumed: false,
            history_gap: false,
            done: false,
        };
        if inner.shutting_down.load(Relaxed) {
            return Err(ConnectError::ShuttingDown);
        }
        let last_event_id = options.last_event_id;
        let earlier = inner.earlier(&conn, last_event_id.as_ref()).await;
        let frames = earlier.entries.iter().map(Entry::queued).collect();
        let gap = earlier.gap.map(|head| {
            let gap_id = format!("{}-gap-{}", inner.ids.prefix, conn.id.0);
            let channels = &conn.channels;
            move |first_live: Option<&Cursor>| {
                // The refresh may carry the head as its id only if no message up to the head
                // is queued behind it: a client that left right after the refresh would skip
                // those.
                let resume_from = head.filter(|head| first_live.is_none_or(|live| live > head));
                let gap = HistoryGap {
                    id: &gap_id,
                    resume_from,
                    last_event_id: last_event_id.as_ref(),
                    channels,
                };
                Frame::system(system::history_gap(&gap, now), Message::MAX_PRIORITY)
            }
        });
        let replayed = conn.open(frames, gap, &roster.counters);
        if earlier.gap.is_some() {
            roster.counters.history_gaps.fetch_add(1, Relaxed);
        }
        let replayed = u32::try_from(replayed).unwrap_or(u32::MAX);
        Counters::add(&roster.counters.replayed, replayed);
        subscription.resumed = last_event_id.is_some() && earlier.gap.is_none();
        subscription.replayed = replayed;
        subscription.history_gap = earlier.gap.is_some();
        Ok(subscription)
    }
}

impl HubInner {
    /// What a new connection receives before live messages: after a cursor, the retryable
    /// messages it missed and the persistent ones it has not seen; otherwise the persistent
    /// messages it is entitled to.
    async fn earlier(&self, conn: &Connection, last_event_id: Option<&Cursor>) -> Earlier {
        let now = self.roster.clock.now_ms();
        let recipient = conn.recipient();
        let admitted = |e: &Entry| e.envelope().admits(&recipient) && !e.envelope().is_expired(now);
        let Some(after) = last_event_id else {
            return Earlier {
                entries: self.persistent.entries(&conn.channels, admitted),
                gap: None,
            };
        };
        let (mut entries, gap) = match self.backplane.replay(after, self.config.max_replay).await {
            // A shared log keeps every message for fan-out; only retryable ones are replayed.
            Ok(Replay::Entries(entries)) => (
                entries
                    .into_iter()
                    .filter(|e| e.envelope().is_retryable() && admitted(e))
                    .collect(),
                None,
            ),
            Ok(Replay::Gap { head }) => (Vec::new(), Some(head)),
            Err(_) => {
                self.roster.counters.backplane_errors.fetch_add(1, Relaxed);
                (Vec::new(), Some(None))
            }
        };
        // Persistent messages the client has not seen and history did not return (not
        // retryable, or beyond a gap). Other epochs: all are new to the client.
        let unseen = |e: &Entry| match e.cursor().partial_cmp(after) {
            Some(order) => order.is_gt(),
            None => true,
        };
        let extra = self
            .persistent
            .entries(&conn.channels, |e| admitted(e) && unseen(e));
        if !extra.is_empty() {
            for e in extra {
                if !entries.iter().any(|x: &Entry| x.cursor() == e.cursor()) {
                    entries.push(e);
                }
            }
            entries.sort_by(|a, b| {
                (a.envelope().received_at(), a.cursor().position())
                    .cmp(&(b.envelope().received_at(), b.cursor().position()))
            });
        }
        Earlier { entries, gap }
    }
}
