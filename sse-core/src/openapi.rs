//! OpenAPI schemas of the types whose JSON form is written by hand (feature `openapi`): the
//! validated names, ids and cursors are strings with their rules as `pattern` and lengths; the
//! structures derive theirs.

use std::borrow::Cow;

use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        RefOr, Schema,
        schema::{ObjectBuilder, OneOfBuilder, Type},
    },
};

use crate::{
    Channel, CoalesceKey, ConnectionId, Cursor, EventName, EventType, IdempotencyKey, InstanceId,
    MessageId, Permission, Role, UserId,
};

/// A string schema.
fn string(description: &str, max: Option<usize>, pattern: Option<&str>) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .min_length(max.map(|_| 1))
        .max_length(max)
        .pattern(pattern)
}

macro_rules! string_schema {
    ($ty:ty, $name:literal, $description:literal, $max:expr, $pattern:expr) => {
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                string($description, $max, $pattern).into()
            }
        }

        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

string_schema!(
    Channel,
    "Channel",
    "A channel: 1 to 64 characters of a-z 0-9 - _ . :",
    Some(Channel::MAX_LEN),
    Some("^[a-z0-9_.:-]+$")
);
string_schema!(
    EventName,
    "EventName",
    "A custom event name: 1 to 64 characters of A-Z a-z 0-9 - _ . :",
    Some(EventName::MAX_LEN),
    Some("^[A-Za-z0-9_.:-]+$")
);
string_schema!(
    EventType,
    "EventType",
    "The event type: connected, heartbeat, data, update, refresh, toast, alert, notification, \
     broadcast, error, custom, or a custom name (1 to 64 characters of A-Z a-z 0-9 - _ . :)",
    Some(EventName::MAX_LEN),
    Some("^[A-Za-z0-9_.:-]+$")
);
string_schema!(
    Role,
    "Role",
    "A role: 1 to 64 characters of A-Z a-z 0-9 - _ . : /",
    Some(Role::MAX_LEN),
    Some("^[A-Za-z0-9_.:/-]+$")
);
string_schema!(
    Permission,
    "Permission",
    "A permission: 1 to 128 characters of A-Z a-z 0-9 - _ . : /",
    Some(Permission::MAX_LEN),
    Some("^[A-Za-z0-9_.:/-]+$")
);
string_schema!(
    MessageId,
    "MessageId",
    "A message id: 1 to 128 characters, no control characters",
    Some(MessageId::MAX_LEN),
    Some("^[^\\x00-\\x1f\\x7f-\\x9f]+$")
);
string_schema!(
    CoalesceKey,
    "CoalesceKey",
    "A coalescing key: 1 to 256 characters, no control characters; a newer message with the \
     same key replaces a queued one",
    Some(256),
    Some("^[^\\x00-\\x1f\\x7f-\\x9f]+$")
);
string_schema!(
    IdempotencyKey,
    "IdempotencyKey",
    "An idempotency key: 1 to 256 characters, no control characters; a repeat within the \
     idempotency window delivers nothing",
    Some(256),
    Some("^[^\\x00-\\x1f\\x7f-\\x9f]+$")
);
string_schema!(
    Cursor,
    "Cursor",
    "A position in the message log, the SSE event id: epoch-major-minor",
    None,
    Some("^[0-9]+-[0-9]+-[0-9]+$")
);
string_schema!(
    ConnectionId,
    "ConnectionId",
    "A connection id: conn-<n>, or conn-<instance>-<n> on a shared backplane",
    None,
    Some("^conn-([0-9a-f]{16}-)?[0-9]+$")
);
string_schema!(
    InstanceId,
    "InstanceId",
    "A server instance: 16 hexadecimal digits",
    None,
    Some("^[0-9a-f]{16}$")
);

impl PartialSchema for UserId {
    fn schema() -> RefOr<Schema> {
        // Read as a string or an integer; always written as a string.
        OneOfBuilder::new()
            .description(Some(
                "A user id: 1 to 128 characters, no control characters; integers are read as \
                 their decimal string, and ids are always written as strings",
            ))
            .item(string(
                "A user id",
                Some(UserId::MAX_LEN),
                Some("^[^\\x00-\\x1f\\x7f-\\x9f]+$"),
            ))
            .item(ObjectBuilder::new().schema_type(Type::Integer))
            .into()
    }
}

impl ToSchema for UserId {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("UserId")
    }
}

/// A string that is always `value`.
fn literal(value: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([value]))
}

pub(crate) fn history_gap() -> ObjectBuilder {
    literal(crate::system::HISTORY_GAP)
}

pub(crate) fn auth_expired() -> ObjectBuilder {
    literal(crate::system::AUTH_EXPIRED)
}

pub(crate) fn cache_invalidation() -> ObjectBuilder {
    literal(crate::system::CACHE_INVALIDATION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_patterns_agree_with_the_rules() {
        let pattern = |schema: RefOr<Schema>| {
            let json = serde_json::to_value(schema).unwrap();
            json["pattern"].as_str().unwrap().to_owned()
        };
        assert_eq!(pattern(Channel::schema()), "^[a-z0-9_.:-]+$");
        let json = serde_json::to_value(UserId::schema()).unwrap();
        assert_eq!(json["oneOf"][1]["type"], "integer");
        assert_eq!(json["oneOf"][0]["maxLength"], 128);
    }
}
