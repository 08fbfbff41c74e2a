//! The indices of open connections: by id, channel, user, role and permission.

use std::{collections::HashMap, hash::Hash, sync::Arc};

use crate::{
    Channel, ConnectionId, Envelope, Permission, Role, Target, UserId, connection::Connection,
};

type Hasher = foldhash::fast::RandomState;
type Conns = HashMap<u64, Arc<Connection>, Hasher>;
type Index<K> = HashMap<K, Conns, Hasher>;

/// Every open connection, indexed so that a targeted send looks up its recipients instead of
/// scanning all connections.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    connections: Conns,
    by_channel: Index<Channel>,
    by_user: Index<UserId>,
    by_role: Index<Role>,
    by_permission: Index<Permission>,
}

impl Registry {
    pub(crate) fn insert(&mut self, conn: &Arc<Connection>) {
        let id = conn.id.0;
        self.connections.insert(id, Arc::clone(conn));
        for channel in &conn.channels {
            add(&mut self.by_channel, channel, id, conn);
        }
        if let Some(user) = conn.identity.user_id() {
            add(&mut self.by_user, user, id, conn);
        }
        for role in conn.identity.roles() {
            add(&mut self.by_role, role, id, conn);
        }
        for permission in &conn.permissions {
            add(&mut self.by_permission, permission, id, conn);
        }
    }

    /// Removes a connection; false if it was not registered.
    pub(crate) fn remove(&mut self, conn: &Connection) -> bool {
        let id = conn.id.0;
        if self.connections.remove(&id).is_none() {
            return false;
        }
        for channel in &conn.channels {
            remove(&mut self.by_channel, channel, id);
        }
        if let Some(user) = conn.identity.user_id() {
            remove(&mut self.by_user, user, id);
        }
        for role in conn.identity.roles() {
            remove(&mut self.by_role, role, id);
        }
        for permission in &conn.permissions {
            remove(&mut self.by_permission, permission, id);
        }
        true
    }

    pub(crate) fn len(&self) -> usize {
        self.connections.len()
    }

    pub(crate) fn get(&self, id: ConnectionId) -> Option<&Arc<Connection>> {
        self.connections.get(&id.0)
    }

    pub(crate) fn all(&self) -> impl Iterator<Item = &Arc<Connection>> {
        self.connections.values()
    }

    pub(crate) fn of_user(&self, user: &UserId) -> impl Iterator<Item = &Arc<Connection>> {
        self.by_user.get(user).into_iter().flat_map(HashMap::values)
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
        let walk_channel = |f: &mut dyn FnMut(&Arc<Connection>)| {
            for conn in subscribers.values() {
                if envelope.admits_identity(&conn.recipient()) {
                    f(conn);
                }
            }
        };
        match routing.target {
            Target::All | Target::Authenticated => walk_channel(&mut f),
            Target::UserSpecific => {
                // Target users are deduplicated when the envelope is encoded.
                for user in &routing.target_users {
                    for conn in self.by_user.get(user).into_iter().flat_map(HashMap::values) {
                        if conn.subscribes(&routing.channel)
                            && envelope.admits_identity(&conn.recipient())
                        {
                            f(conn);
                        }
                    }
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
                        |conn| conn.identity.roles(),
                        |conn| {
                            if conn.subscribes(&routing.channel)
                                && envelope.admits_identity(&conn.recipient())
                            {
                                f(conn);
                            }
                        },
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
                        |conn| {
                            if conn.subscribes(&routing.channel)
                                && envelope.admits_identity(&conn.recipient())
                            {
                                f(conn);
                            }
                        },
                    );
                }
            }
        }
    }
}

fn add<K: Hash + Eq + Clone>(index: &mut Index<K>, key: &K, id: u64, conn: &Arc<Connection>) {
    index
        .entry(key.clone())
        .or_default()
        .insert(id, Arc::clone(conn));
}

fn remove<K: Hash + Eq>(index: &mut Index<K>, key: &K, id: u64) {
    if let Some(conns) = index.get_mut(key) {
        conns.remove(&id);
        if conns.is_empty() {
            index.remove(key);
        }
    }
}

fn indexed_size<K: Hash + Eq>(index: &Index<K>, keys: &[K]) -> usize {
    keys.iter()
        .filter_map(|k| index.get(k))
        .map(HashMap::len)
        .sum()
}

/// Visits every connection holding any of `grants` once: a connection found under the i-th
/// grant is skipped if it also holds an earlier one, where it was already visited.
fn for_each_granted<K: Hash + Eq>(
    index: &Index<K>,
    grants: &[K],
    held: impl Fn(&Connection) -> &[K],
    mut f: impl FnMut(&Arc<Connection>),
) {
    for (i, grant) in grants.iter().enumerate() {
        let Some(conns) = index.get(grant) else {
            continue;
        };
        for conn in conns.values() {
            let holds = held(conn);
            if grants[..i].iter().any(|earlier| holds.contains(earlier)) {
                continue;
            }
            f(conn);
        }
    }
}
