//! The control plane: kicks, bans, revocations, identity refreshes, listings and statistics
//! that reach every instance (architecture decision 13).

use std::{sync::Arc, time::Duration};

use super::{Hub, HubInner, lifecycle::CloseReason};
use crate::{
    ConnectionId, ConnectionInfo, UserId,
    cluster::{
        Answer, ClusterConnections, ClusterReport, ClusterStats, Command, ControlRequest,
        InstanceStats,
    },
    connection::Connection,
};

/// What every instance answered to one command.
pub(super) struct Gathered {
    pub(super) answers: Vec<(crate::InstanceId, Answer)>,
    pub(super) missing: Vec<crate::InstanceId>,
    pub(super) error: Option<String>,
}

impl Gathered {
    /// The items `pick` takes from every answer, and the instances that answered.
    pub(super) fn collect<T>(
        &mut self,
        mut pick: impl FnMut(Answer) -> Option<Vec<T>>,
    ) -> (Vec<T>, Vec<crate::InstanceId>) {
        let mut items = Vec::new();
        let mut instances = Vec::with_capacity(self.answers.len());
        for (instance, answer) in std::mem::take(&mut self.answers) {
            instances.push(instance);
            items.extend(pick(answer).into_iter().flatten());
        }
        (items, instances)
    }

    fn report(self) -> ClusterReport {
        ClusterReport {
            affected: self.answers.iter().map(|(_, a)| a.count()).sum(),
            instances: self.answers.into_iter().map(|(i, _)| i).collect(),
            missing: self.missing,
            error: self.error,
        }
    }
}

impl Hub {
    /// Ends one connection's stream (after a final `retry:`), on whichever instance holds it.
    ///
    /// An id of this instance (or any id on a process-local backplane) is handled here at
    /// once; an id that names another instance is sent to it on the control path.
    pub async fn kick(&self, id: ConnectionId) -> ClusterReport {
        if self.owns(id) || !self.is_shared() {
            let n = usize::from(self.disconnect(id));
            return Gathered {
                answers: vec![(self.instance(), Answer::Count { n })],
                missing: Vec::new(),
                error: None,
            }
            .report();
        }
        self.everywhere(Command::Disconnect { connection: id })
            .await
            .report()
    }

    /// Ends every stream of one user on every instance (after a final `retry:`; the client
    /// may reconnect at once, see [`ban_user`](Hub::ban_user) for a kick that sticks).
    pub async fn kick_user(&self, user: impl Into<UserId>) -> ClusterReport {
        let user = user.into();
        self.everywhere(Command::DisconnectUser { user })
            .await
            .report()
    }

    /// Bans a user for `duration`: their streams end everywhere, and their connections are
    /// refused with [`ConnectError::Banned`](crate::error::ConnectError::Banned) (403) on
    /// every instance until the ban ends, on instances that start later too (the ban is
    /// stored on a shared backplane). A later ban replaces an earlier one.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use sse_hub::{Channel, ConnectOptions, Hub, Identity, UserId, error::ConnectError};
    ///
    /// let hub = Hub::new();
    /// let options = ConnectOptions::new(Identity::user(UserId::from(3))).channels([Channel::CHAT]);
    /// let _stream = hub.connect(options.clone()).await?;
    ///
    /// let report = hub.ban_user(UserId::from(3), Duration::from_secs(60)).await;
    /// assert_eq!(report.affected, 1);
    /// assert!(matches!(hub.connect(options.clone()).await, Err(ConnectError::Banned { .. })));
    ///
    /// hub.unban_user(UserId::from(3)).await;
    /// assert!(hub.connect(options).await.is_ok());
    /// # Ok(()) }
    /// ```
    pub async fn ban_user(&self, user: impl Into<UserId>, duration: Duration) -> ClusterReport {
        let user = &user.into();
        let until = self
            .clock()
            .now_ms()
            .saturating_add(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX));
        let stored = self.inner.backplane.store_ban(user, Some(until)).await;
        let mut gathered = self
            .everywhere(Command::Ban {
                user: user.clone(),
                until,
            })
            .await;
        if let Err(err) = stored {
            self.inner.count_backplane_error();
            gathered.error.get_or_insert(err.to_string());
        }
        gathered.report()
    }

    /// Lifts a user's ban on every instance. `affected` counts the instances that held it.
    pub async fn unban_user(&self, user: impl Into<UserId>) -> ClusterReport {
        let user = &user.into();
        let stored = self.inner.backplane.store_ban(user, None).await;
        let mut gathered = self.everywhere(Command::Unban { user: user.clone() }).await;
        if let Err(err) = stored {
            self.inner.count_backplane_error();
            gathered.error.get_or_insert(err.to_string());
        }
        gathered.report()
    }

    /// The end of a user's ban on this instance (milliseconds since the Unix epoch), if they
    /// are banned.
    pub fn banned_until(&self, user: impl Into<UserId>) -> Option<u64> {
        let user = &user.into();
        self.inner.banned_until(user, self.clock().now_ms())
    }

    /// Ends a user's streams on every instance at once, as if their credentials had expired:
    /// each ends with a `refresh` event whose `data.reason` is `auth-expired` (what was queued
    /// is dropped; the client resumes from its last id with fresh credentials), then a final
    /// `retry:`.
    pub async fn revoke_user(&self, user: impl Into<UserId>) -> ClusterReport {
        let user = user.into();
        self.everywhere(Command::Revoke { user }).await.report()
    }

    /// Gives a user's open connections on every instance a new credential expiry
    /// (milliseconds since the Unix epoch; `None` for never), for example after the client
    /// renewed its token: streams that would have ended at the old expiry go on.
    pub async fn refresh_user(
        &self,
        user: impl Into<UserId>,
        expires_at: Option<u64>,
    ) -> ClusterReport {
        let user = user.into();
        self.everywhere(Command::Refresh { user, expires_at })
            .await
            .report()
    }

    /// The open connections on every instance (of one user, or all), each with its instance.
    pub async fn cluster_connections(&self, user: Option<&UserId>) -> ClusterConnections {
        let mut gathered = self
            .everywhere(Command::Connections {
                user: user.cloned(),
            })
            .await;
        let (mut connections, instances): (Vec<ConnectionInfo>, _) =
            gathered.collect(|answer| match answer {
                Answer::Connections { connections } => Some(connections),
                _ => None,
            });
        connections.sort_by_key(|c| (c.instance, c.id));
        ClusterConnections {
            connections,
            instances,
            missing: gathered.missing,
            error: gathered.error,
        }
    }

    /// What the instance that holds a connection knows about it, or `None` if no instance that
    /// answered holds it.
    pub async fn cluster_connection_info(&self, id: ConnectionId) -> Option<ConnectionInfo> {
        if self.owns(id) || !self.is_shared() {
            return self.connection_info(id);
        }
        self.everywhere(Command::Connection { connection: id })
            .await
            .answers
            .into_iter()
            .find_map(|(_, answer)| match answer {
                Answer::Connections { connections } => connections.into_iter().next(),
                _ => None,
            })
    }

    /// The statistics of every live instance and their totals.
    ///
    /// Every instance is asked for its statistics now, on the control path; an instance that
    /// does not answer in time is represented by the snapshot it last published on a shared
    /// backplane (its `updatedAt` tells how old), and one that stopped (or died) drops out
    /// when that snapshot's time to live ends.
    pub async fn cluster_stats(&self) -> ClusterStats {
        let gathered = self.everywhere(Command::Stats).await;
        let now = self.clock().now_ms();
        let mut instances: Vec<InstanceStats> = gathered
            .answers
            .into_iter()
            .filter_map(|(instance, answer)| match answer {
                Answer::Stats { stats } => Some(InstanceStats::new(instance, now, *stats)),
                _ => None,
            })
            .collect();
        let mut error = gathered.error;
        if self.is_shared() {
            match self.inner.backplane.cluster_stats().await {
                Ok(snapshots) => {
                    for snapshot in snapshots {
                        if !instances.iter().any(|i| i.instance == snapshot.instance) {
                            instances.push(snapshot);
                        }
                    }
                }
                Err(err) => {
                    self.inner.count_backplane_error();
                    error.get_or_insert(err.to_string());
                }
            }
        }
        ClusterStats::of(instances, error)
    }

    /// Carries out a command that reached this instance on the control path and answers it.
    pub(crate) fn answer(&self, request: ControlRequest) {
        let answer = self.execute(request.command());
        request.answer(answer);
    }

    /// Whether `id` is a connection id of this instance.
    pub(super) fn owns(&self, id: ConnectionId) -> bool {
        self.inner.roster.origin.connection_id(id.get()) == id
    }

    /// Carries out `command` here, then on every other instance.
    pub(super) async fn everywhere(&self, command: Command) -> Gathered {
        let here = self.execute(&command);
        let mut gathered = Gathered {
            answers: vec![(self.instance(), here)],
            missing: Vec::new(),
            error: None,
        };
        if self.is_shared() {
            match self.inner.backplane.command(&command).await {
                Ok(others) => {
                    gathered.answers.extend(
                        others
                            .answers
                            .into_iter()
                            .filter(|(i, _)| *i != self.instance()),
                    );
                    gathered.missing = others.missing;
                }
                Err(err) => {
                    self.inner.count_backplane_error();
                    gathered.error = Some(err.to_string());
                }
            }
        }
        gathered
    }

    /// Carries out `command` on this instance's connections.
    fn execute(&self, command: &Command) -> Answer {
        let inner = &*self.inner;
        let count = |n: usize| Answer::Count { n };
        match command {
            Command::Disconnect { connection } => count(usize::from(
                self.owns(*connection) && self.disconnect(*connection),
            )),
            Command::DisconnectUser { user } => count(self.disconnect_user(user)),
            Command::Ban { user, until } => {
                inner.bans.lock().insert(user.clone(), *until);
                let conns = inner.take_user(user);
                count(inner.close(&conns, CloseReason::Banned))
            }
            Command::Unban { user } => count(usize::from(inner.bans.lock().remove(user).is_some())),
            Command::Revoke { user } => {
                let conns = inner.take_user(user);
                count(
                    conns
                        .iter()
                        .filter(|conn| inner.roster.expire(conn))
                        .count(),
                )
            }
            Command::Refresh { user, expires_at } => {
                let conns: Vec<Arc<Connection>> = inner
                    .roster
                    .registry
                    .read()
                    .of_user(user)
                    .cloned()
                    .collect();
                for conn in &conns {
                    conn.set_expiry(*expires_at);
                }
                count(conns.len())
            }
            Command::Connections { user } => Answer::Connections {
                connections: match user {
                    Some(user) => self.connections_of(user),
                    None => self.connections(),
                },
            },
            Command::Connection { connection } => Answer::Connections {
                connections: self
                    .owns(*connection)
                    .then(|| self.connection_info(*connection))
                    .flatten()
                    .into_iter()
                    .collect(),
            },
            Command::Stats => Answer::Stats {
                stats: Box::new(self.stats()),
            },
            Command::Explain { message, user } => self.explain_answer(message, user),
            Command::Presence { channel } => self.presence_answer(channel),
        }
    }
}

impl HubInner {
    /// The end of a user's ban, if it has not ended at `now`; a ban that ended is forgotten.
    pub(crate) fn banned_until(&self, user: &UserId, now: u64) -> Option<u64> {
        let mut bans = self.bans.lock();
        if bans.is_empty() {
            return None;
        }
        match bans.get(user).copied() {
            Some(until) if until > now => Some(until),
            Some(_) => {
                bans.remove(user);
                None
            }
            None => None,
        }
    }

    /// Takes a user's connections out of the indices.
    fn take_user(&self, user: &UserId) -> Vec<Arc<Connection>> {
        self.roster
            .take(|registry| registry.of_user(user).cloned().collect())
    }

    /// Reads what a shared store keeps for instances that start later: bans and persistent
    /// messages.
    pub(crate) async fn load_shared_state(&self) {
        let now = self.roster.clock.now_ms();
        match self.backplane.bans().await {
            Ok(bans) => {
                let mut held = self.bans.lock();
                for (user, until) in bans {
                    if until > now {
                        let until = held.get(&user).map_or(until, |u| (*u).max(until));
                        held.insert(user, until);
                    }
                }
            }
            Err(_) => self.count_backplane_error(),
        }
        match self.backplane.persistent().await {
            Ok(entries) => {
                for entry in &entries {
                    if !entry.envelope().is_expired(now) {
                        self.persistent.insert(entry);
                    }
                }
            }
            Err(_) => self.count_backplane_error(),
        }
    }
}
