//! Messages: what publishers send and what the wire format carries.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    Channel, EventType, Permission, Role, Target, UserId,
    error::NameError,
    name::{Name, Rule, is_id_char, name_from_string, name_type},
};

const ID_RULE: Rule = Rule {
    field: "message id",
    max: MessageId::MAX_LEN,
    allowed: "any character but control characters",
    accepts: is_id_char,
};

const IDEMPOTENCY_RULE: Rule = Rule {
    field: "idempotencyKey",
    max: 256,
    allowed: "any character but control characters",
    accepts: is_id_char,
};

const COALESCE_RULE: Rule = Rule {
    field: "coalesceKey",
    max: 256,
    allowed: "any character but control characters",
    accepts: is_id_char,
};

/// A message id: 1 to 128 characters, no control characters (so never CR, LF or NUL).
///
/// The hub gives every message without an id a unique one when it is sent.
///
/// # Examples
///
/// ```
/// let id: sse_hub::MessageId = "quota-42".parse()?;
/// assert_eq!(id.as_str(), "quota-42");
/// assert!("a\nb".parse::<sse_hub::MessageId>().is_err());
/// # Ok::<(), sse_hub::error::NameError>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId(Name);

name_type!(MessageId, ID_RULE);
name_from_string!(MessageId);

impl MessageId {
    /// The longest message id, in characters.
    pub const MAX_LEN: usize = 128;

    /// Validates a runtime message id.
    ///
    /// # Errors
    ///
    /// [`NameError`] naming the field `message id` for an empty or too long id, or one holding a
    /// control character.
    pub fn new(id: impl AsRef<str>) -> Result<Self, NameError> {
        ID_RULE.parse(id.as_ref()).map(Self)
    }

    pub(crate) fn generated(id: String) -> Self {
        Self(Name::Shared(id.into()))
    }
}

/// A message to send through the [`Hub`](crate::Hub).
///
/// A message goes to the connections subscribed to its `channel` that its `target` selects,
/// minus `excludeUsers` (exclusion always wins) and minus anonymous connections when
/// `requireAuth` is set. Clients receive it as an SSE event named by `event`, whose data is
/// `{"id","channel","event","data","timestamp"}` as JSON.
///
/// Options:
/// - `priority` (0-10, default 5): when a slow connection's queue is full, lower-priority
///   messages are shed first to make room;
/// - `ttl` (seconds): a message older than this is never written, and leaves history and the
///   persistent cache;
/// - `persistent`: kept (until its TTL, or the cache's own limit) and delivered to connections
///   that open later;
/// - `retryable` (default true): kept in history so reconnecting clients get it again; set it to
///   false for ephemeral events such as typing indicators;
/// - `coalesceKey`: a queued message with the same key is replaced by the newer one, so a slow
///   client gets only the latest refresh or cache invalidation.
///
/// The JSON form uses the wire names (what the HTTP publish API and the browser client use);
/// `id` and `timestamp` may be left out and are filled in when the message is sent. User ids
/// may be integers or strings.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use serde_json::json;
/// use sse_hub::{Channel, EventType, Message, Target};
///
/// let built = Message::new(Channel::ALERTS, EventType::Alert, json!({"message": "Important"}))
///     .to_authenticated()
///     .exclude_users([123, 456])
///     .priority(8)
///     .ttl(Duration::from_secs(600))
///     .persistent();
///
/// let parsed: Message = serde_json::from_value(json!({
///     "channel": "alerts",
///     "event": "alert",
///     "data": {"message": "Important"},
///     "target": "authenticated",
///     "excludeUsers": [123, 456],
///     "priority": 8,
///     "ttl": 600,
///     "persistent": true
/// }))?;
/// assert_eq!(parsed, built);
/// assert_eq!(parsed.target(), Target::Authenticated);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(
        description = "A message in the wire format. It goes to the connections subscribed to `channel` that `target` selects, minus `excludeUsers` and, with `requireAuth`, minus anonymous connections. `id` and `timestamp` are filled in when left out. `priority` (0-10, default 5) decides what a full queue sheds first; `ttl` (seconds) drops it unwritten once older; `persistent` keeps it for connections that open later; `retryable` (default true) keeps it in history for replay; `coalesceKey` lets a newer message replace a queued one; `idempotencyKey` makes a repeat deliver nothing."
    )
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Message {
    /// The message id (drawn when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<MessageId>,
    /// The channel it is sent on.
    channel: Channel,
    /// The SSE event name.
    event: EventType,
    /// The payload: any JSON (default `null`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Value))]
    data: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Milliseconds since the Unix epoch (the send time when left out).
    timestamp: Option<u64>,
    /// Who receives it (default `all`).
    #[serde(default)]
    target: Target,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// The recipients of `user-specific` (at most 10,000).
    target_users: Vec<UserId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// The roles of `role-based` (at most 10,000).
    target_roles: Vec<Role>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// The permissions of `permission-based` (at most 10,000).
    target_permissions: Vec<Permission>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// Users who never receive it, whatever the target (at most 10,000).
    exclude_users: Vec<UserId>,
    /// 0 to 10 (default 5): a full queue sheds lower priorities first.
    #[serde(default = "default_priority")]
    #[cfg_attr(feature = "openapi", schema(maximum = 10, default = 5))]
    priority: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Seconds after which it is dropped unwritten, and leaves history.
    ttl: Option<u32>,
    /// Kept for connections that open later (until its TTL).
    #[serde(default)]
    persistent: bool,
    /// Kept in history for clients that reconnect (default true).
    #[serde(default = "default_true")]
    #[cfg_attr(feature = "openapi", schema(default = true))]
    retryable: bool,
    /// Never delivered to anonymous connections.
    #[serde(default)]
    require_auth: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// A newer message with the same key replaces a queued one.
    coalesce_key: Option<CoalesceKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// A repeat with the same key within the idempotency window delivers nothing.
    idempotency_key: Option<IdempotencyKey>,
    /// A presence event of the hub's own: never read from or written to the wire format.
    #[serde(skip)]
    presence: bool,
}

/// A coalescing key: 1 to 256 characters, no control characters.
///
/// A message with a key replaces a queued, not yet written message with the same key, and a
/// cached persistent message with the same key.
///
/// # Examples
///
/// ```
/// use sse_hub::{Channel, CoalesceKey, EventType, Message};
///
/// let key: CoalesceKey = "dashboard:metrics".parse()?;
/// let message = Message::new(Channel::LIVE_UPDATES, EventType::Update, serde_json::json!({}))
///     .coalesce_key(key);
/// assert_eq!(message.coalescing_key().unwrap().as_str(), "dashboard:metrics");
/// # Ok::<(), sse_hub::error::NameError>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CoalesceKey(Name);

name_type!(CoalesceKey, COALESCE_RULE);
name_from_string!(CoalesceKey);

impl CoalesceKey {
    /// Validates a coalescing key.
    ///
    /// # Errors
    ///
    /// [`NameError`] naming the field `coalesceKey` for an empty or too long key, or one holding
    /// a control character.
    pub fn new(key: impl AsRef<str>) -> Result<Self, NameError> {
        COALESCE_RULE.parse(key.as_ref()).map(Self)
    }
}

/// An idempotency key: 1 to 256 characters, no control characters.
///
/// Within the hub's idempotency window (5 minutes by default,
/// [`HubBuilder::idempotency_window`](crate::HubBuilder::idempotency_window)) a second send of
/// a message with the same key delivers nothing and returns the first send's report, marked
/// [`duplicate`](crate::SendReport::duplicate); with a shared backplane, across every instance.
/// The same key on a different message is refused
/// ([`SendError::IdempotencyConflict`](crate::error::SendError::IdempotencyConflict)).
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use sse_hub::{Channel, EventType, Hub, IdempotencyKey, Message};
///
/// let hub = Hub::new();
/// let key: IdempotencyKey = "order-17-shipped".parse()?;
/// let message = Message::new(Channel::NOTIFICATIONS, EventType::Notification, "shipped".into())
///     .idempotency_key(key);
/// let first = hub.send(message.clone()).await?;
/// let again = hub.send(message).await?;
/// assert!(!first.duplicate && again.duplicate);
/// assert_eq!((again.id, again.cursor), (first.id, first.cursor));
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IdempotencyKey(Name);

name_type!(IdempotencyKey, IDEMPOTENCY_RULE);
name_from_string!(IdempotencyKey);

impl IdempotencyKey {
    /// Validates an idempotency key.
    ///
    /// # Errors
    ///
    /// [`NameError`] naming the field `idempotencyKey` for an empty or too long key, or one
    /// holding a control character.
    pub fn new(key: impl AsRef<str>) -> Result<Self, NameError> {
        IDEMPOTENCY_RULE.parse(key.as_ref()).map(Self)
    }
}

fn default_priority() -> u8 {
    Message::DEFAULT_PRIORITY
}

fn default_true() -> bool {
    true
}

impl Message {
    /// The priority of a message that sets none.
    pub const DEFAULT_PRIORITY: u8 = 5;
    /// The highest priority.
    pub const MAX_PRIORITY: u8 = 10;

    /// A message whose data is any serialisable value (a struct of the application's, say),
    /// to everyone subscribed to `channel`, with default options.
    ///
    /// # Errors
    ///
    /// The serialisation's error, for a value that does not serialise to JSON (a map with
    /// non-string keys, a serializer that fails).
    ///
    /// # Examples
    ///
    /// ```
    /// use serde::Serialize;
    /// use sse_hub::{Channel, EventType, Message};
    ///
    /// #[derive(Serialize)]
    /// #[serde(rename_all = "camelCase")]
    /// struct Shipped { order_id: u64, carrier: &'static str }
    ///
    /// let message = Message::json(
    ///     Channel::NOTIFICATIONS,
    ///     EventType::Notification,
    ///     &Shipped { order_id: 17, carrier: "post" },
    /// )?
    /// .to_users([3]);
    /// assert_eq!(message.data()["orderId"], 17);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn json<T: Serialize + ?Sized>(
        channel: Channel,
        event: EventType,
        data: &T,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self::new(channel, event, serde_json::to_value(data)?))
    }

    /// A message to everyone subscribed to `channel`, with default options.
    pub fn new(channel: Channel, event: EventType, data: Value) -> Self {
        Self {
            id: None,
            channel,
            event,
            data,
            timestamp: None,
            target: Target::All,
            target_users: Vec::new(),
            target_roles: Vec::new(),
            target_permissions: Vec::new(),
            exclude_users: Vec::new(),
            priority: Self::DEFAULT_PRIORITY,
            ttl: None,
            persistent: false,
            retryable: true,
            require_auth: false,
            coalesce_key: None,
            idempotency_key: None,
            presence: false,
        }
    }

    /// Sets the message id (otherwise the hub assigns a unique one).
    #[must_use]
    pub fn id(mut self, id: MessageId) -> Self {
        self.id = Some(id);
        self
    }

    /// Sets the timestamp clients see, in milliseconds since the Unix epoch (otherwise the time
    /// the hub receives the message). It is data only: TTL expiry, history age and replay
    /// order follow the hub's own clock.
    #[must_use]
    pub fn timestamp(mut self, timestamp_ms: u64) -> Self {
        self.timestamp = Some(timestamp_ms);
        self
    }

    /// Targets every subscriber of the channel (the default).
    #[must_use]
    pub fn to_all(self) -> Self {
        self.retarget(Target::All)
    }

    /// Targets every authenticated subscriber of the channel.
    #[must_use]
    pub fn to_authenticated(self) -> Self {
        self.retarget(Target::Authenticated)
    }

    /// Targets the given users.
    #[must_use]
    pub fn to_users<U: Into<UserId>>(mut self, users: impl IntoIterator<Item = U>) -> Self {
        self = self.retarget(Target::UserSpecific);
        self.target_users = users.into_iter().map(Into::into).collect();
        self
    }

    /// Targets connections holding any of the given roles.
    #[must_use]
    pub fn to_roles(mut self, roles: impl IntoIterator<Item = Role>) -> Self {
        self = self.retarget(Target::RoleBased);
        self.target_roles = roles.into_iter().collect();
        self
    }

    /// Targets connections holding any of the given permissions.
    #[must_use]
    pub fn to_permissions(mut self, permissions: impl IntoIterator<Item = Permission>) -> Self {
        self = self.retarget(Target::PermissionBased);
        self.target_permissions = permissions.into_iter().collect();
        self
    }

    /// Never delivers to these users, whatever the target.
    #[must_use]
    pub fn exclude_users<U: Into<UserId>>(mut self, users: impl IntoIterator<Item = U>) -> Self {
        self.exclude_users.extend(users.into_iter().map(Into::into));
        self
    }

    /// Sets the priority, 0 to 10 (checked when the message is sent).
    #[must_use]
    pub fn priority(mut self, priority: u8) -> Self {
        self.priority = priority;
        self
    }

    /// Sets the time to live, in whole seconds (rounded up; zero is rejected when sent).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        let secs = ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0);
        self.ttl = Some(u32::try_from(secs).unwrap_or(u32::MAX));
        self
    }

    /// Keeps the message for connections that open later.
    #[must_use]
    pub fn persistent(mut self) -> Self {
        self.persistent = true;
        self
    }

    /// Whether reconnecting clients get the message again from history (default true).
    #[must_use]
    pub fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// Drops anonymous connections from the recipients.
    #[must_use]
    pub fn require_auth(mut self) -> Self {
        self.require_auth = true;
        self
    }

    /// Sets the coalescing key: a queued message with the same key is replaced by this one.
    #[must_use]
    pub fn coalesce_key(mut self, key: CoalesceKey) -> Self {
        self.coalesce_key = Some(key);
        self
    }

    /// Sends the message at most once within the hub's idempotency window: see
    /// [`IdempotencyKey`].
    #[must_use]
    pub fn idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }

    /// The idempotency key, if any.
    pub fn idempotency(&self) -> Option<&IdempotencyKey> {
        self.idempotency_key.as_ref()
    }

    /// A fingerprint of what the message says (everything but its timestamp and idempotency
    /// key), stable across processes and versions: a key reused with another fingerprint is a
    /// conflict.
    pub(crate) fn fingerprint(&self) -> u64 {
        use std::hash::Hasher;
        let mut what = self.clone();
        what.timestamp = None;
        what.idempotency_key = None;
        let json = serde_json::to_vec(&what).expect("a message always serialises");
        let mut hasher = fnv::FnvHasher::default();
        hasher.write(&json);
        hasher.finish()
    }

    /// A presence event (`presence-join` or `presence-leave`) on `channel`, for the
    /// connections that asked for them; never replayed.
    pub(crate) fn presence_event(channel: Channel, event: EventType, data: Value) -> Self {
        let mut message = Self::new(channel, event, data).retryable(false);
        message.presence = true;
        message
    }

    fn retarget(mut self, target: Target) -> Self {
        self.target = target;
        self.target_users.clear();
        self.target_roles.clear();
        self.target_permissions.clear();
        self
    }

    /// The message id, if one was set.
    pub fn message_id(&self) -> Option<&MessageId> {
        self.id.as_ref()
    }

    /// The channel.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// The event type.
    pub fn event(&self) -> &EventType {
        &self.event
    }

    /// The payload.
    pub fn data(&self) -> &Value {
        &self.data
    }

    /// The creation time, if one was set.
    pub fn created_at(&self) -> Option<u64> {
        self.timestamp
    }

    /// The target kind.
    pub fn target(&self) -> Target {
        self.target
    }

    /// The users of a `user-specific` target.
    pub fn target_users(&self) -> &[UserId] {
        &self.target_users
    }

    /// The roles of a `role-based` target.
    pub fn target_roles(&self) -> &[Role] {
        &self.target_roles
    }

    /// The permissions of a `permission-based` target.
    pub fn target_permissions(&self) -> &[Permission] {
        &self.target_permissions
    }

    /// The excluded users.
    pub fn excluded_users(&self) -> &[UserId] {
        &self.exclude_users
    }

    /// The priority.
    pub fn message_priority(&self) -> u8 {
        self.priority
    }

    /// The time to live in seconds, if any.
    pub fn ttl_secs(&self) -> Option<u32> {
        self.ttl
    }

    /// Whether the message is kept for connections that open later.
    pub fn is_persistent(&self) -> bool {
        self.persistent
    }

    /// Whether the message is kept in history for reconnecting clients.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// Whether anonymous connections are excluded.
    pub fn requires_auth(&self) -> bool {
        self.require_auth
    }

    /// The coalescing key, if any.
    pub fn coalescing_key(&self) -> Option<&CoalesceKey> {
        self.coalesce_key.as_ref()
    }

    pub(crate) fn into_parts(self) -> MessageParts {
        MessageParts {
            id: self.id,
            channel: self.channel,
            event: self.event,
            data: self.data,
            timestamp: self.timestamp,
            target: self.target,
            target_users: self.target_users,
            target_roles: self.target_roles,
            target_permissions: self.target_permissions,
            exclude_users: self.exclude_users,
            priority: self.priority,
            ttl: self.ttl,
            persistent: self.persistent,
            retryable: self.retryable,
            require_auth: self.require_auth,
            coalesce_key: self.coalesce_key,
            presence: self.presence,
        }
    }
}

/// The fields of a message, moved out for encoding.
pub(crate) struct MessageParts {
    pub(crate) id: Option<MessageId>,
    pub(crate) channel: Channel,
    pub(crate) event: EventType,
    pub(crate) data: Value,
    pub(crate) timestamp: Option<u64>,
    pub(crate) target: Target,
    pub(crate) target_users: Vec<UserId>,
    pub(crate) target_roles: Vec<Role>,
    pub(crate) target_permissions: Vec<Permission>,
    pub(crate) exclude_users: Vec<UserId>,
    pub(crate) priority: u8,
    pub(crate) ttl: Option<u32>,
    pub(crate) persistent: bool,
    pub(crate) retryable: bool,
    pub(crate) require_auth: bool,
    pub(crate) coalesce_key: Option<CoalesceKey>,
    pub(crate) presence: bool,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn wire_format_examples_deserialize_unchanged() {
        let role_based: Message = serde_json::from_value(json!({
            "channel": "admin-actions",
            "event": "alert",
            "data": { "message": "Security alert detected" },
            "target": "role-based",
            "targetRoles": ["admin", "security_officer"]
        }))
        .unwrap();
        assert_eq!(role_based.target(), Target::RoleBased);
        assert_eq!(role_based.target_roles().len(), 2);
        assert_eq!(role_based.message_priority(), 5);
        assert!(role_based.is_retryable());

        let permission_based: Message = serde_json::from_value(json!({
            "channel": "live-updates",
            "event": "data",
            "data": { "type": "metrics-update", "metrics": {} },
            "target": "permission-based",
            "targetPermissions": ["dashboard.view"]
        }))
        .unwrap();
        assert_eq!(permission_based.target_permissions()[0], "dashboard.view");

        let custom: Message = serde_json::from_value(json!({
            "channel": "custom",
            "event": "custom",
            "data": { "customType": "user-online", "userId": 123, "status": "online" },
            "target": "user-specific",
            "targetUsers": [456, 789]
        }))
        .unwrap();
        assert_eq!(custom.event(), &EventType::Custom);
        assert_eq!(custom.target_users()[1], "789");

        let full: Message = serde_json::from_value(json!({
            "id": "m-1",
            "channel": "toasts",
            "event": "toast",
            "data": null,
            "timestamp": 1764350000000u64,
            "target": "all",
            "priority": 0,
            "ttl": 5,
            "persistent": false,
            "retryable": false,
            "requireAuth": true,
            "excludeUsers": ["x"]
        }))
        .unwrap();
        assert_eq!(full.message_id().unwrap(), "m-1");
        assert_eq!(full.created_at(), Some(1_764_350_000_000));
        assert!(full.requires_auth());
        assert!(!full.is_retryable());
    }

    #[test]
    fn unknown_fields_and_bad_values_name_the_field() {
        let err = serde_json::from_value::<Message>(json!({
            "channel": "alerts", "event": "alert", "targetUser": [1]
        }))
        .unwrap_err();
        assert!(
            err.to_string().contains("unknown field `targetUser`"),
            "{err}"
        );

        let err = serde_json::from_value::<Message>(json!({
            "channel": "alerts", "event": "alert", "target": "everyone"
        }))
        .unwrap_err();
        assert!(
            err.to_string().contains("unknown variant `everyone`"),
            "{err}"
        );

        let err = serde_json::from_value::<Message>(json!({
            "channel": "Alerts", "event": "alert"
        }))
        .unwrap_err();
        assert!(err.to_string().contains("channel contains 'A'"), "{err}");
    }

    #[test]
    fn serialises_with_wire_names() {
        let msg = Message::new(Channel::TOASTS, EventType::Toast, json!({"message": "hi"}))
            .to_users([7])
            .require_auth()
            .timestamp(1);
        assert_eq!(
            serde_json::to_value(&msg).unwrap(),
            json!({
                "channel": "toasts",
                "event": "toast",
                "data": {"message": "hi"},
                "timestamp": 1,
                "target": "user-specific",
                "targetUsers": ["7"],
                "priority": 5,
                "persistent": false,
                "retryable": true,
                "requireAuth": true
            })
        );
    }

    #[test]
    fn retargeting_clears_the_previous_lists() {
        let msg = Message::new(Channel::CHAT, EventType::Data, Value::Null)
            .to_users([1, 2])
            .to_roles([Role::from_static("admin")]);
        assert_eq!(msg.target(), Target::RoleBased);
        assert!(msg.target_users().is_empty());
    }

    #[test]
    fn ttl_rounds_up_to_whole_seconds() {
        let msg = Message::new(Channel::CHAT, EventType::Data, Value::Null);
        assert_eq!(
            msg.clone().ttl(Duration::from_millis(1)).ttl_secs(),
            Some(1)
        );
        assert_eq!(msg.clone().ttl(Duration::from_secs(2)).ttl_secs(), Some(2));
        assert_eq!(msg.ttl(Duration::ZERO).ttl_secs(), Some(0));
    }
}
