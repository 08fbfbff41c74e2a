//! The JSON the server writes on a stream: the envelope on the `data:` line of every event and
//! the data of the events the hub sends by itself.
//!
//! These are the types the hub serialises, so the wire format is written down once. Their
//! documentation is written for every reader of the wire format, not only Rust ones: with the
//! `openapi` feature they derive `utoipa::ToSchema`, `sse-axum`'s API document carries their
//! schemas, and the browser client's TypeScript types are generated from that document.
//!
//! # Examples
//!
//! ```
//! use sse_hub::{Channel, EventType, wire::EventEnvelope};
//!
//! let envelope = EventEnvelope {
//!     id: "m1",
//!     channel: &Channel::ALERTS,
//!     event: &EventType::Alert,
//!     data: &serde_json::json!({"message": "Disk almost full"}),
//!     timestamp: 1_764_350_000_000,
//! };
//! assert_eq!(
//!     serde_json::to_string(&envelope)?,
//!     r#"{"id":"m1","channel":"alerts","event":"alert","data":{"message":"Disk almost full"},"timestamp":1764350000000}"#
//! );
//! # Ok::<(), serde_json::Error>(())
//! ```

use serde::Serialize;

use crate::{Channel, Connected, EventType, ToastKind, UserId};

/// The JSON object on the `data:` line of every event: the application's messages and the
/// events the system sends by itself have the same shape. (A heartbeat's data is
/// `HeartbeatData` alone.)
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(bound = ""))]
pub struct EventEnvelope<'a, D: ?Sized> {
    /// The message id: the publisher's, or one the hub generated (a `connected` event's is
    /// the connection id).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::MessageId))]
    pub id: &'a str,
    /// The channel the message was published on (`system` for the system's events).
    #[cfg_attr(feature = "openapi", schema(value_type = Channel))]
    pub channel: &'a Channel,
    /// The event type; the same as the SSE `event:` field.
    #[cfg_attr(feature = "openapi", schema(value_type = EventType))]
    pub event: &'a EventType,
    /// The payload: any JSON the publisher sent, or a `*Data` object of a system event.
    #[cfg_attr(feature = "openapi", schema(value_type = serde_json::Value))]
    pub data: &'a D,
    /// The publisher's timestamp, or when the hub received the message: milliseconds since
    /// the Unix epoch.
    pub timestamp: u64,
}

/// The data of the `connected` event that opens every stream.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConnectedData<'a> {
    /// What the connection got.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(value_type = Connected))]
    pub connected: &'a Connected,
    /// Milliseconds between heartbeats on an idle stream.
    pub heartbeat_interval: u64,
}

/// The data of a `heartbeat` event. A heartbeat has no envelope: its `data:` line is this
/// object alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeartbeatData {
    /// Server time, milliseconds since the Unix epoch.
    pub timestamp: u64,
}

/// The data of the `refresh` event that tells a resuming client that the history no longer
/// reaches its cursor: it missed messages and should reload its state.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct HistoryGapData<'a> {
    /// Always `history-gap`.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::history_gap))]
    pub reason: &'static str,
    /// The cursor the client resumed from.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<crate::Cursor>, required = true)
    )]
    pub last_event_id: Option<&'a str>,
    /// The connection's channels: the state to reload.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Channel>))]
    pub channels: &'a [Channel],
}

/// The data of the `refresh` event that ends a stream whose credentials expired or were
/// revoked: the client reconnects with fresh credentials and resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthExpiredData {
    /// Always `auth-expired`.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::auth_expired))]
    pub reason: &'static str,
}

/// The data of a `presence-join` or `presence-leave` event on a presence channel.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PresenceData<'a> {
    /// The user who joined or left.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub user_id: &'a UserId,
    /// The user's connections to the channel on every instance: 1 on a join, 0 on a leave.
    pub connections: usize,
}

/// The data of the `toast` event that `Hub::send_toast` sends on `toasts`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ToastData {
    /// The text to show.
    pub message: String,
    /// How the toast looks.
    #[serde(rename = "type")]
    pub kind: ToastKind,
    /// How long it shows, in milliseconds.
    pub duration: u64,
    /// Whether the user can dismiss it.
    pub dismissible: bool,
}

/// The data of the `refresh` event that `Hub::invalidate_client_caches` sends on each
/// channel whose cached state clients should drop.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CacheInvalidationData<'a> {
    /// Always `cache-invalidation`.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::cache_invalidation))]
    pub kind: &'static str,
    /// The channel whose state to reload.
    #[cfg_attr(feature = "openapi", schema(value_type = Channel))]
    pub channel: &'a Channel,
}

/// The data of the `refresh` event that `Hub::trigger_refresh` sends: the client should
/// reload a resource.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResourceRefreshData<'a> {
    /// The resource to reload.
    pub resource: &'a str,
    /// Why, in the application's words (`null` when it gave none).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub reason: Option<&'a str>,
}
