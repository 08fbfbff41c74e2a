//! Connecting: registering a connection and queueing what it missed, or what persists.

use std::{
    collections::HashSet,
    sync::{Arc, atomic::Ordering::Relaxed},
};

use super::{Counters, Hub, HubInner};
use crate::{
    ConnectOptions, Cursor, Entry, Message, Replay, Subscription,
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
    /// [`ConnectError::NoChannels`] when no channel is given, [`ConnectError::Banned`] for a
    /// user banned by [`ban_user`](Hub::ban_user), [`ConnectError::CredentialsExpired`] for an
    /// identity past its expiry, and [`ConnectError::Auth`] when the permission resolver
    /// refuses.
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
        let now = inner.roster.clock.now_ms();
        if options.identity.is_expired(now) {
            return Err(ConnectError::CredentialsExpired);
        }
        if let Some(user) = options.identity.user_id() {
            if let Some(until) = inner.banned_until(user, now) {
                return Err(ConnectError::Banned { until });
            }
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
        let seq = inner.ids.next_connection.fetch_add(1, Relaxed) + 1;
        let conn = Arc::new(
            Connection::new(
                seq,
                options.identity,
                permissions,
                channels,
                options.client_addr,
                options
                    .queue_capacity
                    .unwrap_or(inner.config.queue_capacity),
                now,
            )
            .resuming_after(options.last_event_id)
            .guarded(options.guard)
            .with_presence(options.presence),
        );
        roster.insert(&conn);
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
        let gap_id = format!("{}-gap-{}", inner.ids.prefix, conn.seq);
        let refresh = |resume_from: Option<Cursor>| {
            let gap = HistoryGap {
                id: &gap_id,
                resume_from,
                last_event_id: last_event_id.as_ref(),
                channels: &conn.channels,
            };
            Frame::system(system::history_gap(&gap, now), Message::MAX_PRIORITY)
        };
        let opened = conn.open(frames, earlier.gap, refresh, &roster.counters);
        if let (Some(ledger), true) = (&roster.counters.ledger, opened.replayed > 0) {
            ledger.replayed(conn.seq, earlier.entries.iter().map(Entry::cursor));
        }
        if opened.gap {
            roster.counters.history_gaps.fetch_add(1, Relaxed);
        }
        let replayed = u32::try_from(opened.replayed).unwrap_or(u32::MAX);
        #[cfg(feature = "metrics")]
        if last_event_id.is_some() {
            metrics::histogram!("sse_replay_length").record(f64::from(replayed));
        }
        Counters::add(&roster.counters.replayed, replayed);
        subscription.resumed = last_event_id.is_some() && !opened.gap;
        subscription.replayed = replayed;
        subscription.history_gap = opened.gap;
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
                self.backplane_failed(super::stats::BackplaneOp::Replay);
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

#[cfg(test)]
mod tests {
    //! Each test makes one interleaving of a send and a connecting client happen in a fixed
    //! order, by calling the hub's own steps (append, cache, dispatch) one at a time.

    use serde_json::json;

    use super::*;
    use crate::{Channel, EventType, Identity, Message, UserId, hub::Tally, testing::drain};

    fn message(n: u64) -> Message {
        Message::new(Channel::CHAT, EventType::Data, json!(n))
    }

    fn options() -> ConnectOptions {
        ConnectOptions::new(Identity::user(UserId::from(1_u64))).channels([Channel::CHAT])
    }

    /// Appends a message to the log without dispatching it, as a send does before it
    /// dispatches (in memory) or before this instance's dispatcher reads it (shared log).
    async fn appended(hub: &Hub, message: Message) -> Entry {
        let envelope = Arc::new(hub.encode(message).unwrap());
        hub.inner.append(envelope).await.unwrap()
    }

    fn payloads(subscription: &mut Subscription) -> Vec<serde_json::Value> {
        drain(subscription)
            .iter()
            .map(crate::testing::Event::payload)
            .collect()
    }

    #[tokio::test]
    async fn a_message_replayed_before_its_dispatch_is_delivered_once() {
        let hub = Hub::new();
        let first = hub.send(message(1)).await.unwrap();
        let second = appended(&hub, message(2)).await;
        // The client resumes while the second message is in the log but not yet dispatched:
        // replay returns it.
        let mut resumed = hub
            .connect(options().last_event_id(first.cursor))
            .await
            .unwrap();
        assert_eq!(resumed.connected().replayed, 1);
        // Then its dispatch offers it again.
        hub.inner.dispatch(&second);
        hub.send(message(3)).await.unwrap();
        assert_eq!(payloads(&mut resumed), [json!(2), json!(3)]);
    }

    #[tokio::test]
    async fn a_message_dispatched_while_its_replay_is_merged_is_delivered_once() {
        let hub = Hub::new();
        let first = hub.send(message(1)).await.unwrap();
        let second = appended(&hub, message(2)).await;
        let third = appended(&hub, message(3).retryable(false)).await;
        let fourth = appended(&hub, message(4)).await;
        let conn = Arc::new(Connection::new(
            99,
            Identity::user(UserId::from(1_u64)),
            Vec::new(),
            vec![Channel::CHAT],
            None,
            16,
            0,
        ));
        let counters = &hub.inner.roster.counters;
        // Live frames offered while the connection opens: the ephemeral third (not in the
        // replay) and the fourth (also in the replay).
        let mut tally = Tally::default();
        conn.offer(third.queued(), 0, &mut tally, 0);
        conn.offer(fourth.queued(), 0, &mut tally, 0);
        let replay = vec![second.queued(), fourth.queued()];
        let opened = conn.open(replay, None, |_| unreachable!("no gap"), counters);
        // The fourth was queued live already: only the second is new.
        assert_eq!((opened.replayed, opened.gap), (1, false));
        // The fourth's dispatch reaching it late changes nothing.
        conn.offer(fourth.queued(), 0, &mut tally, 0);
        tally.apply(counters);
        let mut subscription = Subscription {
            conn,
            roster: Arc::clone(&hub.inner.roster),
            replayed: 1,
            resumed: true,
            history_gap: false,
            done: false,
        };
        assert_eq!(
            payloads(&mut subscription),
            [json!(2), json!(3), json!(4)],
            "in log order, each once (after {})",
            first.cursor
        );
    }

    #[tokio::test]
    async fn a_message_read_from_history_is_not_redelivered_by_its_late_dispatch() {
        let hub = Hub::new();
        let first = hub.send(message(1)).await.unwrap();
        let second = appended(&hub, message(2)).await;
        // The client reads the second message from history, then reconnects after it, before
        // this instance has dispatched it.
        let mut early = hub
            .connect(options().last_event_id(first.cursor))
            .await
            .unwrap();
        assert_eq!(payloads(&mut early), [json!(2)]);
        drop(early);
        let mut later = hub
            .connect(options().last_event_id(second.cursor()))
            .await
            .unwrap();
        hub.inner.dispatch(&second);
        hub.send(message(3)).await.unwrap();
        assert_eq!(payloads(&mut later), [json!(3)]);
    }

    #[tokio::test]
    async fn a_persistent_message_cached_before_the_connection_registered_is_delivered_once() {
        let hub = Hub::new();
        let banner = appended(&hub, message(1).persistent()).await;
        // Dispatch caches a persistent message before it looks up the recipients; a client
        // that connects in between finds it in the cache.
        hub.inner.persistent.insert(&banner);
        let mut fresh = hub.connect(options()).await.unwrap();
        assert_eq!(fresh.connected().replayed, 1);
        hub.inner.dispatch(&banner);
        assert_eq!(payloads(&mut fresh), [json!(1)]);
    }
}
