//! The open connections: their indices (by id, channel, user, role and permission) and the
//! roster that connections report to.

use std::{collections::HashMap, hash::Hash, sync::Arc};

use parking_lot::RwLock;
use tokio::sync::mpsc;

use crate::{
    Channel, Clock, ConnectionId, Envelope, InstanceId, Permission, Role, Target, UserId,
    connection::Connection, hub::Counters,
};

/// What a connection's receiving half needs from its hub: the registry to leave when dropped,
/// the counters it updates, the clock and the batch size. The hub holds it too; a
/// [`Subscription`](crate::Subscription) holds nothing else of the hub.
#[derive(Debug)]
pub(crate) struct Roster {
    pub(crate) registry: RwLock<Registry>,
    pub(crate) counters: Counters,
    pub(crate) clock: Clock,
    pub(crate) max_batch_bytes: usize,
    pub(crate) origin: Origin,
    /// Where joins and leaves of presence channels go, when the hub tracks any.
    pub(crate) presence: Option<mpsc::UnboundedSender<PresenceChange>>,
}

/// A user's first connection on a presence channel opened, or their last one closed, on this
/// instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PresenceChange {
    Joined(Channel, UserId),
    /// The last connection closed at this time (milliseconds since the Unix epoch).
    Left(Channel, UserId, u64),
}

/// Where the connections are: the instance, and how their ids and system events are made.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin {
    pub(crate) instance: InstanceId,
    /// Whether connection ids name the instance (on a shared backplane).
    pub(crate) in_ids: bool,
    /// The `retry:` delay that ends a stream, in milliseconds.
    pub(crate) retry_ms: u32,
}

impl Origin {
    /// The id of this instance's `seq`-th connection.
    pub(crate) fn connection_id(&self, seq: u64) -> ConnectionId {
        ConnectionId::new(if self.in_ids { self.instance.get() } else { 0 }, seq)
    }
}

impl Roster {
    pub(crate) fn new(
        clock: Clock,
        max_batch_bytes: usize,
        origin: Origin,
        ledger: Option<crate::ledger::Ledger>,
        presence: Option<(Vec<Channel>, mpsc::UnboundedSender<PresenceChange>)>,
    ) -> Self {
        let (channels, presence) = presence.unzip();
        Self {
            registry: RwLock::new(Registry {
                presence: channels.unwrap_or_default(),
                ..Registry::default()
            }),
            presence,
            counters: Counters {
                ledger,
                ..Counters::default()
            },
            clock,
            max_batch_bytes,
            origin,
        }
    }

    /// Ends a connection whose credentials expired or were revoked: it leaves the indices,
    /// and its stream ends with the `auth-expired` refresh and a final `retry:`. Returns false
    /// if it was already ending.
    pub(crate) fn expire(&self, conn: &Connection) -> bool {
        self.remove([conn]);
        let id = format!("{}-auth-expired-{}", self.origin.instance, conn.seq);
        let refresh = crate::queue::Frame::system(
            crate::system::auth_expired(&id, self.clock.now_ms()),
            crate::Message::MAX_PRIORITY,
        );
        conn.expire(refresh, self.origin.retry_ms, &self.counters)
    }

    /// Takes a connection out of the indices and gives back its queue.
    pub(crate) fn unregister(&self, conn: &Connection) {
        self.remove([conn]);
        conn.release(&self.counters);
        let reason = conn
            .close_reason()
            .unwrap_or(crate::CloseReason::ClientGone);
        self.counters.closed[reason.index()].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Adds a connection to the indices; tells presence where it is its user's first.
    pub(crate) fn insert(&self, conn: &Arc<Connection>) {
        let joined = self.registry.write().insert(conn);
        if let (Some(presence), Some(user)) = (&self.presence, &conn.user) {
            for channel in joined {
                let _ = presence.send(PresenceChange::Joined(channel, user.clone()));
            }
        }
    }

    /// Takes connections out of the indices under one lock; tells the ledger that they ended
    /// (so that the messages they were offered can still be explained for their user) and
    /// presence where each was its user's last.
    pub(crate) fn remove<'a>(&self, conns: impl IntoIterator<Item = &'a Connection>) {
        let mut registry = self.registry.write();
        let removed: Vec<_> = conns
            .into_iter()
            .filter_map(|conn| Some((conn, registry.remove(conn)?)))
            .collect();
        drop(registry);
        for (conn, left) in removed {
            self.ended(conn, left);
        }
    }

    /// Tells the ledger that `conn` ended and presence where it was its user's last.
    fn ended(&self, conn: &Connection, left: Vec<Channel>) {
        if let Some(ledger) = &self.counters.ledger {
            ledger.ended(
                conn.seq,
                crate::ledger::Ended {
                    user: conn.user.clone(),
                },
            );
        }
        if let (Some(presence), Some(user)) = (&self.presence, &conn.user) {
            let now = self.clock.now_ms();
            for channel in left {
                let _ = presence.send(PresenceChange::Left(channel, user.clone(), now));
            }
        }
    }

    /// Takes the connections `select` picks out of the indices, under one lock (a connection
    /// that leaves meanwhile is never returned), and returns them.
    pub(crate) fn take(
        &self,
        select: impl FnOnce(&Registry) -> Vec<Arc<Connection>>,
    ) -> Vec<Arc<Connection>> {
        let mut registry = self.registry.write();
        let conns = select(&registry);
        let removed: Vec<_> = conns
            .into_iter()
            .filter_map(|conn| {
                let left = registry.remove(&conn)?;
                Some((conn, left))
            })
            .collect();
        drop(registry);
        removed
            .into_iter()
            .map(|(conn, left)| {
                self.ended(&conn, left);
                conn
            })
            .collect()
    }
}

type Hasher = foldhash::fast::RandomState;
type Index<K> = HashMap<K, ConnSet, Hasher>;

/// Every open connection, indexed so that a targeted send looks up its recipients instead of
/// scanning all connections.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    connections: HashMap<u64, Arc<Connection>, Hasher>,
    by_channel: Index<Channel>,
    by_user: Index<UserId>,
    by_role: Index<Role>,
    by_permission: Index<Permission>,
    /// The channels whose joins and leaves the hub tracks.
    presence: Vec<Channel>,
}

/// The connections under one index key. Most users have a single connection, so one is held
/// inline without a table of its own.
#[derive(Debug)]
enum ConnSet {
    One(Arc<Connection>),
    Many(HashMap<u64, Arc<Connection>, Hasher>),
}

impl ConnSet {
    fn insert(&mut self, conn: &Arc<Connection>) {
        match self {
            Self::One(existing) if existing.seq == conn.seq => {}
            Self::One(existing) => {
                let mut many = HashMap::with_capacity_and_hasher(2, Hasher::default());
                many.insert(existing.seq, Arc::clone(existing));
                many.insert(conn.seq, Arc::clone(conn));
                *self = Self::Many(many);
            }
            Self::Many(many) => {
                many.insert(conn.seq, Arc::clone(conn));
            }
        }
    }

    /// Removes a connection; true when the set is left empty.
    fn remove(&mut self, id: u64) -> bool {
        match self {
            Self::One(existing) => existing.seq == id,
            Self::Many(many) => {
                many.remove(&id);
                match many.len() {
                    0 => true,
                    1 => {
                        let last = many.drain().next().expect("one left").1;
                        *self = Self::One(last);
                        false
                    }
                    _ => false,
                }
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::One(_) => 1,
            Self::Many(many) => many.len(),
        }
    }

    fn iter(&self) -> ConnIter<'_> {
        match self {
            Self::One(one) => ConnIter::One(Some(one)),
            Self::Many(many) => ConnIter::Many(many.values()),
        }
    }
}

enum ConnIter<'a> {
    One(Option<&'a Arc<Connection>>),
    Many(std::collections::hash_map::Values<'a, u64, Arc<Connection>>),
}

impl<'a> Iterator for ConnIter<'a> {
    type Item = &'a Arc<Connection>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Self::One(one) => one.take(),
            Self::Many(many) => many.next(),
        }
    }
}

impl Registry {
    /// Adds a connection; returns the presence channels on which it is its user's first.
    pub(crate) fn insert(&mut self, conn: &Arc<Connection>) -> Vec<Channel> {
        self.connections.insert(conn.seq, Arc::clone(conn));
        for channel in &conn.channels {
            add(&mut self.by_channel, channel, conn);
        }
        if let Some(user) = &conn.user {
            add(&mut self.by_user, user, conn);
        }
        for role in &conn.roles {
            add(&mut self.by_role, role, conn);
        }
        for permission in &conn.permissions {
            add(&mut self.by_permission, permission, conn);
        }
        self.presence_of(conn, 1)
    }

    /// The presence channels of `conn` on which its user now has `n` connections.
    fn presence_of(&self, conn: &Connection, n: usize) -> Vec<Channel> {
        let Some(user) = &conn.user else {
            return Vec::new();
        };
        if self.presence.is_empty() {
            return Vec::new();
        }
        conn.channels
            .iter()
            .filter(|channel| self.presence.contains(channel))
            .filter(|channel| self.of_user(user).filter(|c| c.subscribes(channel)).count() == n)
            .cloned()
            .collect()
    }

    /// Removes a connection; `None` if it was not registered, otherwise the presence channels
    /// on which it was its user's last.
    pub(crate) fn remove(&mut self, conn: &Connection) -> Option<Vec<Channel>> {
        let id = conn.seq;
        self.connections.remove(&id)?;
        for channel in &conn.channels {
            remove(&mut self.by_channel, channel, id);
        }
        if let Some(user) = &conn.user {
            remove(&mut self.by_user, user, id);
        }
        for role in &conn.roles {
            remove(&mut self.by_role, role, id);
        }
        for permission in &conn.permissions {
            remove(&mut self.by_permission, permission, id);
        }
        // Give memory back after a wave of connections has left, without reallocating on
        // every removal.
        shrink(&mut self.connections);
        shrink(&mut self.by_user);
        Some(self.presence_of(conn, 0))
    }

    pub(crate) fn len(&self) -> usize {
        self.connections.len()
    }

    /// The connection numbered `id.get()` on this instance (the caller checks that `id`
    /// names this instance).
    pub(crate) fn get(&self, id: ConnectionId) -> Option<&Arc<Connection>> {
        self.connections.get(&id.get())
    }

    pub(crate) fn all(&self) -> impl Iterator<Item = &Arc<Connection>> {
        self.connections.values()
    }

    pub(crate) fn of_user(&self, user: &UserId) -> impl Iterator<Item = &Arc<Connection>> {
        self.by_user.get(user).into_iter().flat_map(ConnSet::iter)
    }

    /// The subscribers of a channel.
    pub(crate) fn subscribers(&self, channel: &Channel) -> impl Iterator<Item = &Arc<Connection>> {
        self.by_channel
            .get(channel)
            .into_iter()
            .flat_map(ConnSet::iter)
    }

    pub(crate) fn channel_counts(&self) -> impl Iterator<Item = (&Channel, usize)> {
        self.by_channel.iter().map(|(c, conns)| (c, conns.len()))
    }

    /// Calls `f` once for every connection `envelope` goes to.
    ///
    /// Broadcasts walk the channel's subscribers. User targets look up each user. Role and
    /// permission targets look up each grant, unless the channel has fewer subscribers than
    /// those grants hold, in which case walking the channel is cheaper.
    pub(crate) fn for_each_recipient(
        &self,
        envelope: &Envelope,
        mut f: impl FnMut(&Arc<Connection>),
    ) {
        let routing = envelope.routing();
        let Some(subscribers) = self.by_channel.get(&routing.channel) else {
            return;
        };
        // Every subscriber of the channel is a recipient: a broadcast checks no one.
        let everyone = routing.target == Target::All
            && !routing.require_auth
            && !routing.presence
            && routing.exclude_users.is_empty();
        if everyone {
            subscribers.iter().for_each(f);
            return;
        }
        // The channel's subscribers need only the identity check.
        let walk_channel = |f: &mut dyn FnMut(&Arc<Connection>)| {
            for conn in subscribers.iter() {
                if envelope.admits_identity(&conn.recipient()) {
                    f(conn);
                }
            }
        };
        // Connections found through another index need the channel check too.
        let admit = |conn: &Arc<Connection>, f: &mut dyn FnMut(&Arc<Connection>)| {
            if conn.subscribes(&routing.channel) && envelope.admits_identity(&conn.recipient()) {
                f(conn);
            }
        };
        match routing.target {
            Target::All | Target::Authenticated => walk_channel(&mut f),
            Target::UserSpecific => {
                // Target users are deduplicated when the envelope is encoded.
                for user in &routing.target_users {
                    self.by_user
                        .get(user)
                        .into_iter()
                        .flat_map(ConnSet::iter)
                        .for_each(|conn| admit(conn, &mut f));
                }
            }
            Target::RoleBased => {
                let grants = &routing.target_roles;
                if indexed_size(&self.by_role, grants) > subscribers.len() {
                    walk_channel(&mut f);
                } else {
                    for_each_granted(
                        &self.by_role,
                        grants,
                        |conn| &conn.roles,
                        |conn| admit(conn, &mut f),
                    );
                }
            }
            Target::PermissionBased => {
                let grants = &routing.target_permissions;
                if indexed_size(&self.by_permission, grants) > subscribers.len() {
                    walk_channel(&mut f);
                } else {
                    for_each_granted(
                        &self.by_permission,
                        grants,
                        |conn| &conn.permissions,
                        |conn| admit(conn, &mut f),
                    );
                }
            }
        }
    }
}

fn add<K: Hash + Eq + Clone>(index: &mut Index<K>, key: &K, conn: &Arc<Connection>) {
    match index.get_mut(key) {
        Some(set) => set.insert(conn),
        None => {
            index.insert(key.clone(), ConnSet::One(Arc::clone(conn)));
        }
    }
}

fn remove<K: Hash + Eq>(index: &mut Index<K>, key: &K, id: u64) {
    if let Some(set) = index.get_mut(key) {
        if set.remove(id) {
            index.remove(key);
        }
    }
}

fn shrink<K: Hash + Eq, V>(map: &mut HashMap<K, V, Hasher>) {
    if map.capacity() > 1024 && map.len() < map.capacity() / 4 {
        map.shrink_to(map.len() * 2);
    }
}

fn indexed_size<K: Hash + Eq>(index: &Index<K>, keys: &[K]) -> usize {
    keys.iter()
        .filter_map(|k| index.get(k))
        .map(ConnSet::len)
        .sum()
}

/// Visits every connection holding any of `grants` once: a connection found under a grant is
/// skipped if it also holds an earlier one, where it was already visited. `grants` is sorted
/// (the envelope sorts its lists), so the earlier grants are those that compare less, found
/// by a binary search for each of the connection's own few grants.
fn for_each_granted<K: Hash + Ord>(
    index: &Index<K>,
    grants: &[K],
    held: impl Fn(&Connection) -> &[K],
    mut f: impl FnMut(&Arc<Connection>),
) {
    for grant in grants {
        let Some(conns) = index.get(grant) else {
            continue;
        };
        for conn in conns.iter() {
            let earlier = held(conn)
                .iter()
                .any(|h| h < grant && grants.binary_search(h).is_ok());
            if !earlier {
                f(conn);
            }
        }
    }
}
