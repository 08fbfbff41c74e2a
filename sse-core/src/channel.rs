//! Channel names.

use crate::name::{
    AsciiClass, Name, Rule, check_ascii_literal, is_lower_name_char, name_from_string, name_type,
};

const RULE: Rule = Rule {
    field: "channel",
    max: Channel::MAX_LEN,
    allowed: "a-z 0-9 - _ . :",
    accepts: is_lower_name_char,
};

/// The name of a channel: 1 to 64 characters of `a-z 0-9 - _ . :`.
///
/// Connections subscribe to channels and every [`Message`](crate::Message) is sent on exactly
/// one. The well-known channels of the product are constants; applications add their own with
/// [`Channel::new`] (runtime values, validated) or [`Channel::from_static`] (literals).
///
/// Cloning is cheap: constants borrow a `&'static str`, runtime names share one allocation.
///
/// # Examples
///
/// ```
/// use sse_hub::Channel;
///
/// assert_eq!(Channel::ALERTS.as_str(), "alerts");
///
/// let orders = Channel::new("orders.eu-1")?;
/// assert_eq!(orders, "orders.eu-1");
///
/// let err = Channel::new("Orders").unwrap_err();
/// assert_eq!(err.to_string(), "channel contains 'O' at character 0; allowed: a-z 0-9 - _ . :");
/// # Ok::<(), sse_hub::error::NameError>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Channel(Name);

name_type!(Channel, RULE);
name_from_string!(Channel);

impl Channel {
    /// The longest channel name, in characters.
    pub const MAX_LEN: usize = 64;

    /// Banner alerts and system notifications (maintenance notices, security alerts).
    pub const ALERTS: Self = Self::from_static("alerts");
    /// User-specific notifications (new messages, activity updates).
    pub const NOTIFICATIONS: Self = Self::from_static("notifications");
    /// Temporary feedback messages (success confirmations, error messages).
    pub const TOASTS: Self = Self::from_static("toasts");
    /// Real-time data synchronisation (live dashboards, collaborative editing).
    pub const LIVE_UPDATES: Self = Self::from_static("live-updates");
    /// Admin panel real-time updates (user management, system monitoring).
    pub const ADMIN_ACTIONS: Self = Self::from_static("admin-actions");
    /// Messaging (chat messages, typing indicators).
    pub const CHAT: Self = Self::from_static("chat");
    /// System-wide announcements (server status, maintenance windows).
    pub const SYSTEM: Self = Self::from_static("system");
    /// Application-specific events.
    pub const CUSTOM: Self = Self::from_static("custom");

    /// The eight well-known channels.
    pub const WELL_KNOWN: [Self; 8] = [
        Self::ALERTS,
        Self::NOTIFICATIONS,
        Self::TOASTS,
        Self::LIVE_UPDATES,
        Self::ADMIN_ACTIONS,
        Self::CHAT,
        Self::SYSTEM,
        Self::CUSTOM,
    ];

    /// Validates a runtime channel name.
    ///
    /// # Errors
    ///
    /// [`NameError`](crate::error::NameError) naming the field `channel` when the name is empty,
    /// longer than 64 characters, or holds a character outside `a-z 0-9 - _ . :`.
    ///
    /// # Examples
    ///
    /// ```
    /// let chat = sse_hub::Channel::new("chat")?;
    /// assert_eq!(chat, sse_hub::Channel::CHAT);
    /// # Ok::<(), sse_hub::error::NameError>(())
    /// ```
    pub fn new(name: impl AsRef<str>) -> Result<Self, crate::error::NameError> {
        RULE.parse(name.as_ref()).map(Self)
    }

    /// A channel from a literal, checked at compile time when used in a `const`.
    ///
    /// # Panics
    ///
    /// When the literal is not a valid channel name.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_hub::Channel;
    ///
    /// const ORDERS: Channel = Channel::from_static("orders");
    /// assert_eq!(ORDERS.as_str(), "orders");
    /// ```
    #[track_caller]
    pub const fn from_static(name: &'static str) -> Self {
        check_ascii_literal(name, Self::MAX_LEN, AsciiClass::Lower);
        Self(Name::Static(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::NameError;

    #[test]
    fn well_known_names() {
        let all = Channel::WELL_KNOWN;
        let names: Vec<&str> = all.iter().map(Channel::as_str).collect();
        assert_eq!(
            names,
            [
                "alerts",
                "notifications",
                "toasts",
                "live-updates",
                "admin-actions",
                "chat",
                "system",
                "custom"
            ]
        );
    }

    #[test]
    fn accepts_every_allowed_character() {
        let name = "abc-xyz_0.9:z";
        assert_eq!(Channel::new(name).unwrap().as_str(), name);
        assert_eq!(Channel::new("a".repeat(64)).unwrap().len(), 64);
    }

    #[test]
    fn rejects_bad_names_with_field_and_character() {
        assert_eq!(Channel::new(""), Err(NameError::Empty { field: "channel" }));
        assert_eq!(
            Channel::new("a".repeat(65)),
            Err(NameError::TooLong {
                field: "channel",
                len: 65,
                max: 64
            })
        );
        let err = Channel::new("news\nfeed").unwrap_err();
        assert_eq!(
            err,
            NameError::InvalidChar {
                field: "channel",
                ch: '\n',
                index: 4,
                allowed: "a-z 0-9 - _ . :"
            }
        );
        assert_eq!(
            err.to_string(),
            "channel contains '\\n' at character 4; allowed: a-z 0-9 - _ . :"
        );
        assert!(Channel::new("é").is_err());
        assert!(Channel::new("a b").is_err());
    }

    #[test]
    fn static_and_runtime_names_are_equal_and_hash_alike() {
        use std::collections::HashSet;
        let runtime = Channel::new("alerts").unwrap();
        assert_eq!(runtime, Channel::ALERTS);
        let set: HashSet<Channel> = [Channel::ALERTS, runtime].into_iter().collect();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn serde_round_trip_validates() {
        let json = serde_json::to_string(&Channel::LIVE_UPDATES).unwrap();
        assert_eq!(json, "\"live-updates\"");
        let back: Channel = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Channel::LIVE_UPDATES);
        let err = serde_json::from_str::<Channel>("\"Bad\"").unwrap_err();
        assert!(err.to_string().contains("channel contains 'B'"), "{err}");
    }

    #[test]
    #[should_panic(expected = "name literal contains a character that is not allowed")]
    fn from_static_panics_on_bad_literal() {
        let _ = Channel::from_static("Bad");
    }
}
