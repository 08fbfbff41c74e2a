//! Presence: who is connected to a channel, and joins and leaves for the connections that ask
//! for them.
//!
//! Listing costs nothing while nobody asks: it walks the channel's subscribers in the registry
//! (on every instance, through the control path). Joins and leaves are tracked for the hub's
//! presence channels only: the registry notes a user's first connection to such a channel and
//! their last one, and a driver task ([`Hub::run_presence`]) turns those into `presence-join`
//! and `presence-leave` events, holding each leave for the debounce time so that a reconnect
//! is neither. With a shared backplane the driver asks it to decide cluster-wide.

use std::{
    collections::{BTreeMap, HashSet, VecDeque},
    future::Future,
    pin::Pin,
    task::Poll,
    time::Duration,
};

use parking_lot::Mutex;
use tokio::sync::mpsc;

use super::Hub;
use crate::{
    Channel, EventType, Message, UserId,
    cluster::{Answer, Command, Presence, PresenceUpdate, PresentUser},
    registry::PresenceChange,
    system::{PRESENCE_JOIN, PRESENCE_LEAVE},
    wire::PresenceData,
};

/// What the hub keeps for presence events.
pub(crate) struct PresenceEvents {
    pub(crate) debounce: Duration,
    /// The changes the registry noted, until the driver takes them.
    pub(crate) changes: Mutex<Option<mpsc::UnboundedReceiver<PresenceChange>>>,
}

impl Hub {
    /// Who is connected to `channel`, on every instance: each user with their connection
    /// count and since when, and the number of anonymous connections.
    ///
    /// Presence is only for those who may read the channel: an endpoint that serves it checks
    /// that first (the demo answers 403 otherwise).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use sse_hub::{Channel, ConnectOptions, Hub, Identity, UserId};
    ///
    /// let hub = Hub::new();
    /// let tab = || ConnectOptions::new(Identity::user(UserId::from(3))).channels([Channel::CHAT]);
    /// let _one = hub.connect(tab()).await?;
    /// let _two = hub.connect(tab()).await?;
    /// let _guest = hub
    ///     .connect(ConnectOptions::new(Identity::anonymous()).channels([Channel::CHAT]))
    ///     .await?;
    ///
    /// let here = hub.presence(&Channel::CHAT).await;
    /// assert_eq!(here.users.len(), 1);
    /// assert_eq!(here.users[0].connections, 2);
    /// assert_eq!((here.anonymous, here.total), (1, 3));
    /// # Ok(()) }
    /// ```
    pub async fn presence(&self, channel: &Channel) -> Presence {
        let gathered = self
            .everywhere(Command::Presence {
                channel: channel.clone(),
            })
            .await;
        let mut users: BTreeMap<UserId, PresentUser> = BTreeMap::new();
        let mut anonymous = 0;
        let mut instances = Vec::with_capacity(gathered.answers.len());
        for (instance, answer) in gathered.answers {
            instances.push(instance);
            if let Answer::Presence {
                users: here,
                anonymous: guests,
            } = answer
            {
                anonymous += guests;
                for user in here {
                    users
                        .entry(user.user_id.clone())
                        .and_modify(|known| {
                            known.connections += user.connections;
                            known.since = known.since.min(user.since);
                        })
                        .or_insert(user);
                }
            }
        }
        let users: Vec<PresentUser> = users.into_values().collect();
        let total = anonymous + users.iter().map(|u| u.connections).sum::<usize>();
        Presence {
            channel: channel.clone(),
            users,
            anonymous,
            total,
            instances,
            missing: gathered.missing,
            error: gathered.error,
        }
    }

    /// Whether the hub announces joins and leaves on some channel
    /// ([`HubBuilder::presence_channels`](crate::HubBuilder::presence_channels)): then a
    /// [`run_presence`](Hub::run_presence) driver is needed.
    pub fn announces_presence(&self) -> bool {
        self.inner.presence.is_some()
    }

    /// This instance's part of [`presence`](Hub::presence).
    pub(super) fn presence_answer(&self, channel: &Channel) -> Answer {
        let registry = self.inner.roster.registry.read();
        let mut users: BTreeMap<UserId, PresentUser> = BTreeMap::new();
        let mut anonymous = 0;
        for conn in registry.subscribers(channel) {
            let Some(user) = &conn.user else {
                anonymous += 1;
                continue;
            };
            let since = conn.connected_at();
            users
                .entry(user.clone())
                .and_modify(|known| {
                    known.connections += 1;
                    known.since = known.since.min(since);
                })
                .or_insert_with(|| PresentUser {
                    user_id: user.clone(),
                    connections: 1,
                    since,
                });
        }
        Answer::Presence {
            users: users.into_values().collect(),
            anonymous,
        }
    }

    /// The user's open connections to `channel` on this instance.
    fn local_connections(&self, channel: &Channel, user: &UserId) -> usize {
        self.inner
            .roster
            .registry
            .read()
            .of_user(user)
            .filter(|conn| conn.subscribes(channel))
            .count()
    }

    /// Runs the presence events of the hub's presence channels until the hub is dropped:
    /// sends `presence-join` when a user's first connection to such a channel opens, and
    /// `presence-leave` when their last one closed and they did not come back within the
    /// debounce time. `sleep` is the runtime's timer (`tokio::time::sleep`): the core has
    /// none of its own.
    ///
    /// Returns at once if the hub tracks no presence channel, or if a driver runs already;
    /// `sse-tower` and `sse_redis::hub` start it, so an application spawns it only when it
    /// uses neither.
    pub async fn run_presence<F, Fut>(&self, sleep: F)
    where
        F: Fn(Duration) -> Fut,
        Fut: Future<Output = ()>,
    {
        let Some(events) = &self.inner.presence else {
            return;
        };
        let Some(mut changes) = events.changes.lock().take() else {
            return;
        };
        let debounce = events.debounce;
        let debounce_ms = u64::try_from(debounce.as_millis()).unwrap_or(u64::MAX);
        // Leaves waiting for their time, in the order they come due (the debounce is fixed).
        let mut due: VecDeque<(u64, Channel, UserId)> = VecDeque::new();
        // Leaves this instance holds, for deciding alone.
        let mut pending: HashSet<(Channel, UserId)> = HashSet::new();
        loop {
            if self.is_shutting_down() {
                return;
            }
            let now = self.clock().now_ms();
            if due.front().is_some_and(|(at, _, _)| *at <= now) {
                let (_, channel, user) = due.pop_front().expect("checked above");
                let update = PresenceUpdate::LeaveDue {
                    channel: channel.clone(),
                    user: user.clone(),
                };
                let held = pending.remove(&(channel.clone(), user.clone()));
                let gone = self.local_connections(&channel, &user) == 0;
                let leave = match self.decide(&update).await {
                    Some(leave) => leave,
                    None => held && gone,
                };
                if leave {
                    self.send_presence(&channel, PRESENCE_LEAVE, &user, 0).await;
                }
                continue;
            }
            let mut timer = due
                .front()
                .map(|(at, _, _)| Box::pin(sleep(Duration::from_millis(at.saturating_sub(now)))));
            let change = std::future::poll_fn(|cx| {
                if let Poll::Ready(change) = changes.poll_recv(cx) {
                    return Poll::Ready(Some(change));
                }
                match timer.as_mut().map(|t| Pin::as_mut(t).poll(cx)) {
                    Some(Poll::Ready(())) => Poll::Ready(None),
                    _ => Poll::Pending,
                }
            })
            .await;
            match change {
                // The timer: the loop sends what came due.
                None => {}
                // The registry is gone with the hub.
                Some(None) => return,
                Some(Some(PresenceChange::Joined(channel, user))) => {
                    let update = PresenceUpdate::Joined {
                        channel: channel.clone(),
                        user: user.clone(),
                    };
                    // A leave held here means a reconnect within the debounce: no event.
                    let returned = pending.remove(&(channel.clone(), user.clone()));
                    let join = match self.decide(&update).await {
                        Some(join) => join,
                        None => !returned,
                    };
                    if join {
                        // A join is a first connection; a leave leaves none.
                        self.send_presence(&channel, PRESENCE_JOIN, &user, 1).await;
                    }
                }
                Some(Some(PresenceChange::Left(channel, user, at))) => {
                    let update = PresenceUpdate::Left {
                        channel: channel.clone(),
                        user: user.clone(),
                        debounce,
                    };
                    let hold = self.decide(&update).await.unwrap_or(true);
                    if hold {
                        let at = at.saturating_add(debounce_ms);
                        pending.insert((channel.clone(), user.clone()));
                        due.push_back((at, channel, user));
                    }
                }
            }
        }
    }

    /// The backplane's cluster-wide decision, or `None` to decide alone.
    async fn decide(&self, update: &PresenceUpdate) -> Option<bool> {
        if !self.is_shared() {
            return None;
        }
        match self.inner.backplane.presence_change(update).await {
            Ok(decision) => decision,
            Err(_) => {
                self.inner.count_backplane_error();
                None
            }
        }
    }

    async fn send_presence(
        &self,
        channel: &Channel,
        event: &str,
        user: &UserId,
        connections: usize,
    ) {
        let event = EventType::new(event).expect("presence event names are valid");
        let data = serde_json::to_value(PresenceData {
            user_id: user,
            connections,
        })
        .expect("presence data always serialises");
        // A failed send is counted by the hub; presence events are not retried.
        let _ = self
            .send(Message::presence_event(channel.clone(), event, data))
            .await;
    }
}
