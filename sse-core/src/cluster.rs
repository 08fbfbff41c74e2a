//! The control plane: operations that act on connections wherever they are, and what every
//! instance reports (architecture decision 13).
//!
//! A [`Command`] (kick, ban, revoke, refresh, listings, statistics) travels on the backplane's
//! control path to every instance. Each one acts on its own connections and answers; the
//! caller gathers the answers for a bounded time and names the instances that did not answer.
//! On a process-local backplane the hub is the whole cluster and answers itself.
//!
//! The types here are the wire format of that path (JSON, camelCase) and the reports the
//! [`Hub`](crate::Hub)'s cluster-wide methods return.

use std::{collections::BTreeMap, fmt, pin::Pin, str::FromStr};

use futures_core::Stream;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::{Channel, ConnectionId, ConnectionInfo, HubStats, UserId};

/// Identifies one server instance: 16 hexadecimal digits, drawn at random when its hub (or its
/// shared backplane) is made.
///
/// # Examples
///
/// ```
/// let id: sse_hub::InstanceId = "0123456789abcdef".parse().unwrap();
/// assert_eq!(id.to_string(), "0123456789abcdef");
/// assert!("xyz".parse::<sse_hub::InstanceId>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceId(pub(crate) u64);

impl InstanceId {
    /// A new random instance id (never 0).
    pub fn random() -> Self {
        Self(fastrand::u64(1..))
    }

    /// The id as a number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InstanceId({self})")
    }
}

impl FromStr for InstanceId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        u64::from_str_radix(s, 16).map(Self)
    }
}

impl Serialize for InstanceId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for InstanceId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An operation every instance carries out on its own connections.
///
/// # Examples
///
/// ```
/// use sse_hub::{UserId, cluster::Command};
///
/// let ban = Command::Ban { user: UserId::from(3), until: 1_767_225_600_000 };
/// let json = serde_json::to_string(&ban).unwrap();
/// assert_eq!(json, r#"{"op":"ban","user":"3","until":1767225600000}"#);
/// assert_eq!(serde_json::from_str::<Command>(&json).unwrap(), ban);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", rename_all_fields = "camelCase")]
#[non_exhaustive]
pub enum Command {
    /// End one connection's stream. Answers [`Answer::Count`].
    Disconnect {
        /// The connection.
        connection: ConnectionId,
    },
    /// End every stream of a user. Answers [`Answer::Count`].
    DisconnectUser {
        /// The user.
        user: UserId,
    },
    /// Refuse the user's connections until `until` (milliseconds since the Unix epoch) and end
    /// their streams. Answers [`Answer::Count`].
    Ban {
        /// The user.
        user: UserId,
        /// The end of the ban.
        until: u64,
    },
    /// Lift a ban. Answers [`Answer::Count`] (1 where the instance held it).
    Unban {
        /// The user.
        user: UserId,
    },
    /// End the user's streams with the `auth-expired` refresh. Answers [`Answer::Count`].
    Revoke {
        /// The user.
        user: UserId,
    },
    /// Give the user's open connections a new credential expiry (`None`: never). Answers
    /// [`Answer::Count`].
    Refresh {
        /// The user.
        user: UserId,
        /// The new expiry, in milliseconds since the Unix epoch.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at: Option<u64>,
    },
    /// List the open connections, of one user or of all. Answers [`Answer::Connections`].
    Connections {
        /// The user, or `None` for every connection.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<UserId>,
    },
    /// Describe one connection. Answers [`Answer::Connections`] with it, or empty.
    Connection {
        /// The connection.
        connection: ConnectionId,
    },
    /// The instance's statistics. Answers [`Answer::Stats`].
    Stats,
    /// Who is connected to a channel. Answers [`Answer::Presence`].
    Presence {
        /// The channel.
        channel: Channel,
    },
    /// What happened to a message (by cursor or id) at a user's connections. Answers
    /// [`Answer::Explained`].
    Explain {
        /// The message's cursor or id.
        message: String,
        /// The user.
        user: UserId,
    },
}

/// What one instance answers to a [`Command`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[non_exhaustive]
pub enum Answer {
    /// How many connections (or bans) the command acted on.
    Count {
        /// The number.
        n: usize,
    },
    /// Connections.
    Connections {
        /// The connections, ordered by id.
        connections: Vec<ConnectionInfo>,
    },
    /// Statistics.
    Stats {
        /// The instance's statistics.
        stats: Box<HubStats>,
    },
    /// Who is connected to a channel on the instance.
    Presence {
        /// The users, ordered by user id.
        users: Vec<PresentUser>,
        /// Anonymous connections.
        anonymous: usize,
    },
    /// What happened to a message at a user's connections on the instance.
    Explained {
        /// One entry per connection.
        connections: Vec<ConnectionOutcome>,
    },
}

/// What happened to a message at one connection, from [`Hub::explain`](crate::Hub::explain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(description = "What happened to a message at one connection.")
)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Outcome {
    /// Written to the stream.
    Delivered,
    /// Waiting in the connection's queue.
    Queued,
    /// Dropped for more important messages: the queue was full.
    Shed,
    /// Its TTL passed before it was written.
    Expired,
    /// Replaced by a newer message with the same coalescing key.
    Coalesced,
    /// The connection could not keep up and was closed (its client resumes from history).
    SlowClosed,
    /// The stream ended before it was written.
    Closed,
    /// The connection was open but not a recipient; the detail says why.
    NotRecipient,
    /// The connection opened after the message; the detail says whether replay delivered it.
    NotConnected,
    /// The instance has no record of the message (evicted from its ledger, or the ledger is
    /// off).
    Unknown,
}

/// One connection's line of an [`Explanation`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(description = "What happened to the message at one connection.")
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ConnectionOutcome {
    /// The connection.
    pub connection_id: ConnectionId,
    /// The instance that holds (or held) it.
    pub instance: InstanceId,
    /// What happened.
    pub outcome: Outcome,
    /// Why, in words.
    pub detail: String,
}

/// The answer to "why didn't user X get message M?", from
/// [`Hub::explain`](crate::Hub::explain): one line per connection of the user on every
/// instance, those open now and those that ended after being offered the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(
        description = "What happened to a message at each connection of a user, on every instance: those open now and those that ended after being offered the message."
    )
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Explanation {
    /// The message, as asked for (a cursor or an id).
    pub message: String,
    /// The user.
    pub user_id: UserId,
    /// The connections, ordered by instance and id.
    pub connections: Vec<ConnectionOutcome>,
    /// The instances that answered, this one included.
    pub instances: Vec<InstanceId>,
    /// Instances known to be alive that did not answer in time.
    pub missing: Vec<InstanceId>,
    /// Why other instances could not be asked at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Answer {
    /// The count of a [`Answer::Count`], 0 for other answers.
    pub fn count(&self) -> usize {
        match self {
            Answer::Count { n } => *n,
            _ => 0,
        }
    }
}

/// A command that reached this instance on the control path, with the way back to its caller.
///
/// A shared [`Backplane`](crate::Backplane) yields these from
/// [`control`](crate::Backplane::control); the hub's dispatcher carries each out and
/// [`answer`](ControlRequest::answer)s it.
#[derive(Debug)]
pub struct ControlRequest {
    command: Command,
    reply: oneshot::Sender<Answer>,
}

impl ControlRequest {
    /// A request for `command`, and where its answer arrives (nothing arrives if the hub drops
    /// the request unanswered).
    pub fn new(command: Command) -> (Self, oneshot::Receiver<Answer>) {
        let (reply, answer) = oneshot::channel();
        (Self { command, reply }, answer)
    }

    /// The command.
    pub fn command(&self) -> &Command {
        &self.command
    }

    /// Sends the answer back.
    pub fn answer(self, answer: Answer) {
        let _ = self.reply.send(answer);
    }
}

/// The commands that reach this instance, for the hub's dispatcher.
pub type ControlStream = Pin<Box<dyn Stream<Item = ControlRequest> + Send>>;

/// What the other instances answered to a command sent on the control path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers {
    /// The answers, one per instance that answered in time.
    pub answers: Vec<(InstanceId, Answer)>,
    /// Instances known to be alive that did not answer in time.
    pub missing: Vec<InstanceId>,
}

/// What a cluster-wide operation did, from [`Hub::kick_user`](crate::Hub::kick_user) and the
/// like.
///
/// Serialises with camelCase names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ClusterReport {
    /// Connections (or bans) acted on, over every instance that answered.
    pub affected: usize,
    /// The instances that answered, this one included.
    pub instances: Vec<InstanceId>,
    /// Instances known to be alive that did not answer in time.
    pub missing: Vec<InstanceId>,
    /// Why other instances could not be asked at all (the backplane failed); this instance
    /// acted anyway.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Connections gathered from every instance, from
/// [`Hub::cluster_connections`](crate::Hub::cluster_connections).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ClusterConnections {
    /// The connections, ordered by instance and id; each says its instance.
    pub connections: Vec<ConnectionInfo>,
    /// The instances that answered, this one included.
    pub instances: Vec<InstanceId>,
    /// Instances known to be alive that did not answer in time.
    pub missing: Vec<InstanceId>,
    /// Why other instances could not be asked at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One instance's statistics as published on the backplane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InstanceStats {
    /// The instance.
    pub instance: InstanceId,
    /// When the snapshot was taken (milliseconds since the Unix epoch).
    pub updated_at: u64,
    /// The statistics.
    pub stats: HubStats,
}

impl InstanceStats {
    /// A snapshot of `stats` for `instance`, taken at `updated_at`.
    pub fn new(instance: InstanceId, updated_at: u64, stats: HubStats) -> Self {
        Self {
            instance,
            updated_at,
            stats,
        }
    }
}

/// Statistics of every live instance and their totals, from
/// [`Hub::cluster_stats`](crate::Hub::cluster_stats).
///
/// Every instance that answers in time is counted as it is now; an instance that does not is
/// counted from the snapshot it last published (each instance publishes one periodically with
/// a time to live), and one that stopped (or died) drops out when that snapshot expires.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(
        description = "Statistics of every live instance and their totals. An instance that does not answer in time is counted from its last snapshot, until that expires."
    )
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ClusterStats {
    /// One entry per live instance, ordered by instance id.
    pub instances: Vec<InstanceStats>,
    /// Open connections on every instance.
    pub total_connections: usize,
    /// Open connections per channel on every instance.
    pub connections_per_channel: BTreeMap<Channel, usize>,
    /// Messages sent through any instance in the last 60 seconds.
    pub messages_per_minute: u64,
    /// Messages sent through any instance.
    pub messages_sent: u64,
    /// Frames queued for connections, on every instance.
    pub queued: u64,
    /// Frames written to connections, on every instance.
    pub delivered: u64,
    /// Frames shed, expired or coalesced, on every instance.
    pub dropped: u64,
    /// Connections closed as too slow, on every instance.
    pub closed_slow: u64,
    /// Backplane errors, on every instance.
    pub backplane_errors: u64,
    /// Why the other instances' snapshots could not be read (the backplane failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ClusterStats {
    /// The totals of `instances`.
    pub(crate) fn of(mut instances: Vec<InstanceStats>, error: Option<String>) -> Self {
        instances.sort_by_key(|i| i.instance);
        let mut total = Self {
            error,
            ..Self::default()
        };
        for InstanceStats { stats: s, .. } in &instances {
            total.total_connections += s.total_connections;
            for (channel, n) in &s.connections_per_channel {
                *total
                    .connections_per_channel
                    .entry(channel.clone())
                    .or_default() += n;
            }
            total.messages_per_minute += s.messages_per_minute;
            total.messages_sent += s.messages_sent;
            total.queued += s.queued;
            total.delivered += s.delivered;
            total.dropped += s.shed + s.expired + s.coalesced;
            total.closed_slow += s.closed_slow;
            total.backplane_errors += s.backplane_errors;
        }
        total.instances = instances;
        total
    }
}

/// A user connected to a channel, from [`Hub::presence`](crate::Hub::presence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(description = "A user connected to a channel.")
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PresentUser {
    /// The user.
    pub user_id: UserId,
    /// Their open connections to the channel.
    pub connections: usize,
    /// Since when they are connected: the opening of their oldest open connection
    /// (milliseconds since the Unix epoch).
    pub since: u64,
}

/// Who is connected to a channel, on every instance, from
/// [`Hub::presence`](crate::Hub::presence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(description = "Who is connected to a channel, on every instance.")
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Presence {
    /// The channel.
    pub channel: Channel,
    /// The users, ordered by user id.
    pub users: Vec<PresentUser>,
    /// Anonymous connections (they are counted, never named).
    pub anonymous: usize,
    /// Every connection to the channel: the users' and the anonymous ones.
    pub total: usize,
    /// The instances that answered, this one included.
    pub instances: Vec<InstanceId>,
    /// Instances known to be alive that did not answer in time.
    pub missing: Vec<InstanceId>,
    /// Why other instances could not be asked at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A change of a user's presence on a channel, as an instance sees it, for a shared
/// [`Backplane`](crate::Backplane) to decide cluster-wide
/// ([`Backplane::presence_change`](crate::Backplane::presence_change)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PresenceUpdate {
    /// The user's first connection to the channel on this instance opened. Decide: is it
    /// their first in the cluster (and no leave of theirs is pending)? Then a
    /// `presence-join` is sent.
    Joined {
        /// The channel.
        channel: Channel,
        /// The user.
        user: UserId,
    },
    /// The user's last connection to the channel on this instance closed. Decide: was it
    /// their last in the cluster? Then a leave is pending for the debounce time.
    Left {
        /// The channel.
        channel: Channel,
        /// The user.
        user: UserId,
        /// How long the leave stays pending.
        debounce: std::time::Duration,
    },
    /// A pending leave's time came. Decide: is the user still gone (and is the leave still
    /// this instance's to send)? Then a `presence-leave` is sent.
    LeaveDue {
        /// The channel.
        channel: Channel,
        /// The user.
        user: UserId,
    },
}
