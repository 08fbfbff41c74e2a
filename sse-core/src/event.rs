//! Event types: the SSE `event:` field.

use std::fmt;

use crate::{
    error::NameError,
    name::{
        AsciiClass, Name, Rule, check_ascii_literal, is_name_char, name_from_string, name_type,
    },
};

const RULE: Rule = Rule {
    field: "event",
    max: EventName::MAX_LEN,
    allowed: "A-Z a-z 0-9 - _ . :",
    accepts: is_name_char,
};

/// The type of an event, sent as the SSE `event:` field so that clients can listen per type
/// (`addEventListener('toast', ...)`).
///
/// The eleven event types of the product have variants; applications add their own names with
/// [`EventType::Named`]. Parsing a known name always yields its variant, so
/// `"toast".parse::<EventType>()` is `EventType::Toast`, never a custom name.
///
/// # Examples
///
/// ```
/// use sse_hub::EventType;
///
/// assert_eq!("toast".parse::<EventType>()?, EventType::Toast);
/// let custom: EventType = "user-online".parse()?;
/// assert_eq!(custom.as_str(), "user-online");
/// assert!(matches!(custom, EventType::Named(_)));
/// assert!("bad\nname".parse::<EventType>().is_err());
/// # Ok::<(), sse_hub::error::NameError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum EventType {
    /// The first event of every stream: connection id, channels, user, heartbeat interval.
    Connected,
    /// Keep-alive ping, so clients detect a dead connection.
    Heartbeat,
    /// Generic data.
    Data,
    /// A data update.
    Update,
    /// A request to refresh or reload (cache invalidation, history gaps).
    Refresh,
    /// A toast notification.
    Toast,
    /// An alert or banner message.
    Alert,
    /// A user notification.
    Notification,
    /// A system broadcast.
    Broadcast,
    /// An error.
    Error,
    /// The generic custom event (`custom`), for payloads that carry their own type.
    Custom,
    /// An application-defined event name, such as `user-online`.
    Named(EventName),
}

impl EventType {
    /// The name sent in the `event:` field.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Connected => "connected",
            Self::Heartbeat => "heartbeat",
            Self::Data => "data",
            Self::Update => "update",
            Self::Refresh => "refresh",
            Self::Toast => "toast",
            Self::Alert => "alert",
            Self::Notification => "notification",
            Self::Broadcast => "broadcast",
            Self::Error => "error",
            Self::Custom => "custom",
            Self::Named(name) => name.as_str(),
        }
    }

    /// Parses a name: a known event type, or a validated custom name.
    ///
    /// # Errors
    ///
    /// [`NameError`] naming the field `event` when a custom name is empty, longer than 64
    /// characters or holds a character outside `A-Z a-z 0-9 - _ . :`.
    pub fn new(name: impl AsRef<str>) -> Result<Self, NameError> {
        let name = name.as_ref();
        Ok(match name {
            "connected" => Self::Connected,
            "heartbeat" => Self::Heartbeat,
            "data" => Self::Data,
            "update" => Self::Update,
            "refresh" => Self::Refresh,
            "toast" => Self::Toast,
            "alert" => Self::Alert,
            "notification" => Self::Notification,
            "broadcast" => Self::Broadcast,
            "error" => Self::Error,
            "custom" => Self::Custom,
            other => Self::Named(EventName(RULE.parse(other)?)),
        })
    }
}

impl std::str::FromStr for EventType {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventType({:?})", self.as_str())
    }
}

impl From<EventName> for EventType {
    fn from(name: EventName) -> Self {
        Self::new(name.as_str()).unwrap_or(Self::Named(name))
    }
}

impl serde::Serialize for EventType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for EventType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Self::new(&*s).map_err(serde::de::Error::custom)
    }
}

/// A validated custom event name: 1 to 64 characters of `A-Z a-z 0-9 - _ . :`.
///
/// # Examples
///
/// ```
/// use sse_hub::{EventName, EventType};
///
/// const TYPING: EventName = EventName::from_static("typing-indicator");
/// assert_eq!(EventType::from(TYPING).as_str(), "typing-indicator");
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventName(Name);

name_type!(EventName, RULE);
name_from_string!(EventName);

impl EventName {
    /// The longest event name, in characters.
    pub const MAX_LEN: usize = 64;

    /// Validates a runtime event name.
    ///
    /// # Errors
    ///
    /// [`NameError`] naming the field `event` for an empty, too long or badly formed name.
    pub fn new(name: impl AsRef<str>) -> Result<Self, NameError> {
        RULE.parse(name.as_ref()).map(Self)
    }

    /// An event name from a literal, checked at compile time when used in a `const`.
    ///
    /// # Panics
    ///
    /// When the literal is not a valid event name.
    #[track_caller]
    pub const fn from_static(name: &'static str) -> Self {
        check_ascii_literal(name, Self::MAX_LEN, AsciiClass::Name);
        Self(Name::Static(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_round_trip_to_their_variant() {
        let all = [
            EventType::Connected,
            EventType::Heartbeat,
            EventType::Data,
            EventType::Update,
            EventType::Refresh,
            EventType::Toast,
            EventType::Alert,
            EventType::Notification,
            EventType::Broadcast,
            EventType::Error,
            EventType::Custom,
        ];
        let names: Vec<&str> = all.iter().map(EventType::as_str).collect();
        assert_eq!(
            names,
            [
                "connected",
                "heartbeat",
                "data",
                "update",
                "refresh",
                "toast",
                "alert",
                "notification",
                "broadcast",
                "error",
                "custom"
            ]
        );
        for event in all {
            assert_eq!(EventType::new(event.as_str()).unwrap(), event);
        }
        assert_eq!(
            EventType::from(EventName::from_static("toast")),
            EventType::Toast
        );
    }

    #[test]
    fn custom_names_are_validated() {
        assert_eq!(
            EventType::new("file-uploaded").unwrap(),
            EventType::Named(EventName::from_static("file-uploaded"))
        );
        for (bad, ch, index) in [
            ("a\rb", '\r', 1),
            ("a\nb", '\n', 1),
            ("\0", '\0', 0),
            ("x y", ' ', 1),
        ] {
            assert_eq!(
                EventType::new(bad).unwrap_err(),
                NameError::InvalidChar {
                    field: "event",
                    ch,
                    index,
                    allowed: "A-Z a-z 0-9 - _ . :"
                }
            );
        }
        assert_eq!(
            EventType::new("").unwrap_err(),
            NameError::Empty { field: "event" }
        );
    }

    #[test]
    fn serde_uses_the_plain_name() {
        assert_eq!(
            serde_json::to_string(&EventType::Toast).unwrap(),
            "\"toast\""
        );
        let custom: EventType = serde_json::from_str("\"user-online\"").unwrap();
        assert_eq!(custom.as_str(), "user-online");
        assert!(serde_json::from_str::<EventType>("\"a b\"").is_err());
    }
}
