//! Error types.
//!
//! Each variant says what went wrong and, in its docs, what happens next. `Display` output is
//! lowercase without a trailing period, ready to be embedded in a JSON error body.

use std::borrow::Cow;

use http::StatusCode;

/// A runtime value is not a valid name (channel, event name, role, permission, user or message
/// id).
///
/// Nothing was created; the caller corrects the value. Every variant names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The value is empty.
    #[error("{field} is empty")]
    Empty {
        /// The field, such as `"channel"`.
        field: &'static str,
    },
    /// The value is longer than the field allows.
    #[error("{field} is {len} characters long; the maximum is {max}")]
    TooLong {
        /// The field, such as `"channel"`.
        field: &'static str,
        /// The length of the value, in characters.
        len: usize,
        /// The maximum length, in characters.
        max: usize,
    },
    /// The value holds a character the field does not allow.
    #[error("{field} contains {ch:?} at character {index}; allowed: {allowed}")]
    InvalidChar {
        /// The field, such as `"channel"`.
        field: &'static str,
        /// The offending character.
        ch: char,
        /// Its position, counted in characters from 0.
        index: usize,
        /// The characters the field allows.
        allowed: &'static str,
    },
}

impl NameError {
    /// The field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Empty { field }
            | Self::TooLong { field, .. }
            | Self::InvalidChar { field, .. } => field,
        }
    }
}

/// A frame field would not survive the SSE parser unchanged.
///
/// Nothing was written; the caller corrects the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// An `id:` or `event:` value contains CR, LF or NUL, which would split or void the field.
    #[error("{field} contains {ch:?}, which cannot be sent in an SSE {field} field")]
    InvalidChar {
        /// `"id"` or `"event"`.
        field: &'static str,
        /// The offending character.
        ch: char,
    },
}

/// A message failed validation; it was not sent, and nothing else was affected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// A name field (channel, event, id, user, role or permission) is invalid.
    #[error(transparent)]
    Name(#[from] NameError),
    /// `priority` is above 10.
    #[error("priority is {0}; the maximum is 10")]
    Priority(u8),
    /// `ttl` is zero; omit it for a message that does not expire.
    #[error("ttl is 0; omit ttl for a message that does not expire")]
    ZeroTtl,
    /// The encoded event (the JSON of the `data:` line: the payload and its id, channel, event
    /// and timestamp) and its recipient lists together are larger than the hub's limit.
    #[error("data is too large: the encoded event is {size} bytes; the maximum is {max}")]
    TooLarge {
        /// Encoded size of the `data:` line's JSON plus the recipient lists, in bytes (each
        /// list entry and a separator).
        size: usize,
        /// The configured maximum in bytes.
        max: usize,
    },
    /// The target names no recipients (for example `user-specific` with no `targetUsers`).
    #[error("target {target} needs a non-empty {field}")]
    EmptyTarget {
        /// The target kind, as on the wire.
        target: &'static str,
        /// The list that is empty, as on the wire (`targetUsers`).
        field: &'static str,
    },
    /// A recipient list is given with a target that does not read it: `targetUsers`,
    /// `targetRoles` and `targetPermissions` go with `user-specific`, `role-based` and
    /// `permission-based`. Without this check, a list given without its target would go to
    /// everyone on the channel (the default target is `all`).
    #[error("{field} is only read with target {needs}; target is {target}")]
    TargetMismatch {
        /// The list, as on the wire (`targetUsers`).
        field: &'static str,
        /// The message's target, as on the wire.
        target: &'static str,
        /// The target that reads the list.
        needs: &'static str,
    },
    /// A recipient list (after removing duplicates) is longer than the hub allows
    /// ([`HubBuilder::max_target_list`](crate::HubBuilder::max_target_list)).
    #[error("{field} has {len} entries; the maximum is {max}")]
    TooManyTargets {
        /// The list, as on the wire (`targetUsers`, `excludeUsers`).
        field: &'static str,
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The payload could not be serialised to JSON.
    #[error("data cannot be encoded as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl MessageError {
    /// The wire-format field the error is about (`"priority"`, `"targetUsers"`, `"channel"`).
    pub fn field(&self) -> &'static str {
        match self {
            Self::Name(err) => err.field(),
            Self::Priority(_) => "priority",
            Self::ZeroTtl => "ttl",
            Self::TooLarge { .. } | Self::Json(_) => "data",
            Self::EmptyTarget { field, .. }
            | Self::TargetMismatch { field, .. }
            | Self::TooManyTargets { field, .. } => field,
        }
    }
}

/// A [`Cursor`](crate::Cursor) string (an SSE `Last-Event-ID`) could not be parsed.
///
/// The request carrying it should be answered with 400 Bad Request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cursor {value:?}: expected <epoch>-<major>-<minor> in decimal")]
pub struct CursorError {
    /// The rejected value, cut to 64 characters.
    pub value: String,
}

/// The backplane could not publish or replay.
///
/// For a publish, the message was not sent: the caller may retry or fall back (for example to
/// a stored notification). For a replay, the connection is told to resynchronise with a
/// `history-gap` refresh.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackplaneError {
    /// The backend is unreachable or answered with an error.
    #[error("backplane unavailable: {0}")]
    Unavailable(Cow<'static, str>),
    /// Entries were lost on their way from the log to this instance (trimmed before its tail
    /// read them, or the log was replaced): the hub tells every connection to resynchronise
    /// with a history-gap refresh.
    #[error("backplane lost entries: {0}")]
    Lost(Cow<'static, str>),
    /// The backend did not answer in time.
    #[error("backplane timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// An entry read back from the backend could not be decoded.
    #[error("backplane entry is corrupt: {0}")]
    Corrupt(Cow<'static, str>),
    /// The backplane has been closed.
    #[error("backplane closed")]
    Closed,
    /// Any other backend error.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

/// [`Hub::send`](crate::Hub::send) failed; the message reached nobody.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The message is invalid; correct it and send again.
    #[error("invalid message: {0}")]
    Invalid(#[from] MessageError),
    /// The backplane failed; retry later or fall back.
    #[error(transparent)]
    Backplane(#[from] BackplaneError),
    /// The hub is shutting down and accepts no more messages.
    #[error("hub is shutting down")]
    ShuttingDown,
    /// The idempotency key was used, within the window, for a message that says something
    /// else; answer 409 Conflict. Nothing was sent.
    #[error("idempotency key {key:?} was used for a different message")]
    IdempotencyConflict {
        /// The key.
        key: String,
    },
}

/// [`Hub::connect`](crate::Hub::connect) refused a connection.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The hub is shutting down; answer 503 Service Unavailable.
    #[error("hub is shutting down")]
    ShuttingDown,
    /// The connection names no channel; answer 400 Bad Request.
    #[error("no channel to subscribe to")]
    NoChannels,
    /// The permission resolver failed; answer with the error's status.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The user is banned until `until` (milliseconds since the Unix epoch), by
    /// [`Hub::ban_user`](crate::Hub::ban_user); answer 403 Forbidden (a browser's
    /// `EventSource` does not retry after it).
    #[error("user is banned")]
    Banned {
        /// The end of the ban.
        until: u64,
    },
    /// The identity's credentials expired already
    /// ([`Identity::with_expiry`](crate::Identity::with_expiry)); answer 401 Unauthorized.
    #[error("credentials expired")]
    CredentialsExpired,
}

/// Authentication or authorisation failed, with its HTTP meaning.
///
/// The request is answered with [`status`](AuthError::status) and a JSON body
/// `{"error": code, "message": message}`; nothing else is affected.
///
/// # Examples
///
/// ```
/// use http::StatusCode;
/// use sse_hub::error::AuthError;
///
/// let err = AuthError::unauthorized("missing bearer token");
/// assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
/// assert_eq!(err.code(), "unauthorized");
/// assert_eq!(err.to_string(), "missing bearer token");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AuthError {
    status: StatusCode,
    code: Cow<'static, str>,
    message: Cow<'static, str>,
}

impl AuthError {
    /// An error with an explicit status, machine-readable code and message.
    ///
    /// # Examples
    ///
    /// ```
    /// use http::StatusCode;
    /// use sse_hub::error::AuthError;
    ///
    /// let err = AuthError::new(StatusCode::SERVICE_UNAVAILABLE, "auth_unavailable", "try later");
    /// assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
    /// ```
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    /// 401 Unauthorized with code `unauthorized`: no valid credentials.
    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403 Forbidden with code `forbidden`: valid credentials, not allowed.
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// The HTTP status to answer with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The machine-readable code (the `error` field of the JSON body).
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The human-readable message (the `message` field of the JSON body).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The status, code and message, moved out (for error types that wrap them without
    /// copying).
    pub fn into_parts(self) -> (StatusCode, Cow<'static, str>, Cow<'static, str>) {
        (self.status, self.code, self.message)
    }
}
