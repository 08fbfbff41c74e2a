//! The frames the system sends by itself: the `connected` event that opens every stream,
//! `heartbeat` events, the `refresh` event of a history gap, and the `retry:` frames that open
//! and end a stream.
//!
//! Events use the same JSON shape as the application's messages (`id`, `channel`, `event`,
//! `data`, `timestamp`) on the `system` channel, so a client handles them like any other event.
//! They carry no SSE `id:` (except a history gap's refresh, see below), so they never move a
//! client's `Last-Event-ID`.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//!
//! assert_eq!(&sse_hub::system::retry(Duration::from_secs(3))[..], b"retry: 3000\n\n");
//! assert_eq!(
//!     &sse_hub::system::heartbeat(1_764_350_000_000)[..],
//!     b"event: heartbeat\ndata: {\"timestamp\":1764350000000}\n\n"
//! );
//! ```

use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;

use crate::{
    Channel, Connected, Cursor, EventType, FrameBuilder,
    wire::{AuthExpiredData, ConnectedData, EventEnvelope, HeartbeatData, HistoryGapData},
};

/// The reason a history-gap `refresh` event gives.
pub const HISTORY_GAP: &str = "history-gap";

/// The `type` of the data of the `refresh` event that tells clients to drop what they cached
/// from a channel ([`Hub::invalidate_client_caches`](crate::Hub::invalidate_client_caches)).
pub const CACHE_INVALIDATION: &str = "cache-invalidation";

/// The event name of a presence join: a user's first connection to a presence channel
/// opened (data `{"userId", "connections": 1}`).
pub const PRESENCE_JOIN: &str = "presence-join";

/// The event name of a presence leave: a user's last connection to a presence channel
/// closed and they did not come back within the debounce time (data `{"userId",
/// "connections": 0}`).
pub const PRESENCE_LEAVE: &str = "presence-leave";

/// The `data.reason` of the `refresh` event that ends a stream whose credentials expired or
/// were revoked.
pub const AUTH_EXPIRED: &str = "auth-expired";

/// The `connected` event that opens every stream: what the connection got (its id, channels,
/// user, whether it resumed) and the heartbeat interval the client can expect.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use sse_hub::{Channel, ConnectOptions, Hub, Identity};
///
/// let hub = Hub::new();
/// let subscription = hub
///     .connect(ConnectOptions::new(Identity::anonymous()).channels([Channel::SYSTEM]))
///     .await?;
/// let frame = sse_hub::system::connected(&subscription.connected(), Duration::from_secs(15), 7);
/// let text = std::str::from_utf8(&frame)?;
/// assert!(text.starts_with("event: connected\ndata: {\"id\":\""));
/// assert!(text.ends_with(",\"heartbeatInterval\":15000},\"timestamp\":7}\n\n"));
/// # Ok(()) }
/// ```
pub fn connected(connected: &Connected, heartbeat_interval: Duration, now_ms: u64) -> Bytes {
    let id = connected.connection_id.to_string();
    event(
        None,
        &EventEnvelope {
            id: &id,
            channel: &Channel::SYSTEM,
            event: &EventType::Connected,
            data: &ConnectedData {
                connected,
                heartbeat_interval: millis(heartbeat_interval),
            },
            timestamp: now_ms,
        },
    )
}

/// A `heartbeat` event carrying the server time in milliseconds since the Unix epoch.
///
/// Its data is only `{"timestamp": ...}`: heartbeats are encoded once per tick for every
/// stream of an endpoint, so they carry nothing about one connection.
pub fn heartbeat(now_ms: u64) -> Bytes {
    FrameBuilder::with_capacity(64)
        .event(EventType::Heartbeat.as_str())
        .expect("event types never contain CR, LF or NUL")
        .json_data(&HeartbeatData { timestamp: now_ms })
        .expect("the heartbeat data always serialises")
        .finish()
}

/// A frame holding only a `retry:` field: how long the client waits before reconnecting. Sent
/// at the start of every stream, and as the last frame of a stream the server ends (a slow
/// client, a disconnect, a shutdown, the end of the connection's lifetime).
pub fn retry(retry: Duration) -> Bytes {
    FrameBuilder::with_capacity(24).retry(retry).finish()
}

/// What a history-gap `refresh` tells a resuming client.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HistoryGap<'a> {
    /// The event's own id (`data.id`).
    pub(crate) id: &'a str,
    /// The SSE id the refresh carries, so that the client resumes from there next time; `None`
    /// when a message at or before the log's head is already queued behind the refresh.
    pub(crate) resume_from: Option<Cursor>,
    /// The cursor the client came back with.
    pub(crate) last_event_id: Option<&'a Cursor>,
    /// The connection's channels.
    pub(crate) channels: &'a [Channel],
}

/// The `refresh` event telling a resuming client that history no longer reaches its cursor:
/// it should reload its state, then carry on with live events.
pub(crate) fn history_gap(gap: &HistoryGap<'_>, now_ms: u64) -> Bytes {
    let last_event_id = gap.last_event_id.map(ToString::to_string);
    event(
        gap.resume_from.as_ref(),
        &EventEnvelope {
            id: gap.id,
            channel: &Channel::SYSTEM,
            event: &EventType::Refresh,
            data: &HistoryGapData {
                reason: HISTORY_GAP,
                last_event_id: last_event_id.as_deref(),
                channels: gap.channels,
            },
            timestamp: now_ms,
        },
    )
}

/// The `refresh` event that ends a stream whose credentials expired or were revoked: `data`
/// is `{"reason":"auth-expired"}`. It carries no SSE id, so the client resumes after the last
/// message it received once it reconnects with fresh credentials.
pub(crate) fn auth_expired(id: &str, now_ms: u64) -> Bytes {
    event(
        None,
        &EventEnvelope {
            id,
            channel: &Channel::SYSTEM,
            event: &EventType::Refresh,
            data: &AuthExpiredData {
                reason: AUTH_EXPIRED,
            },
            timestamp: now_ms,
        },
    )
}

fn event<D: Serialize>(id: Option<&Cursor>, data: &EventEnvelope<'_, D>) -> Bytes {
    let mut frame = FrameBuilder::with_capacity(256);
    if let Some(id) = id {
        frame = frame
            .id(&id.to_string())
            .expect("cursors are digits and dashes");
    }
    let frame = frame
        .event_data(data)
        .expect("system events always serialise")
        .finish();
    // Kept by queues until written: stored in an allocation of its own size.
    Bytes::copy_from_slice(&frame)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ConnectionId;

    fn text(b: &Bytes) -> &str {
        std::str::from_utf8(b).unwrap()
    }

    #[test]
    fn retry_and_heartbeat_helpers() {
        assert_eq!(text(&retry(Duration::from_secs(3))), "retry: 3000\n\n");
        assert_eq!(text(&retry(Duration::ZERO)), "retry: 0\n\n");
        assert_eq!(
            text(&heartbeat(42)),
            "event: heartbeat\ndata: {\"timestamp\":42}\n\n"
        );
    }

    #[test]
    fn exact_bytes_of_the_connected_and_gap_events() {
        let connected = Connected {
            connection_id: ConnectionId::new(0, 3),
            channels: vec![Channel::CHAT],
            user_id: None,
            resumed: false,
            replayed: 0,
            history_gap: true,
        };
        assert_eq!(
            text(&super::connected(&connected, Duration::from_secs(15), 9)),
            "event: connected\ndata: {\"id\":\"conn-3\",\"channel\":\"system\",\
             \"event\":\"connected\",\"data\":{\"connectionId\":\"conn-3\",\
             \"channels\":[\"chat\"],\"userId\":null,\"resumed\":false,\"replayed\":0,\
             \"historyGap\":true,\"heartbeatInterval\":15000},\"timestamp\":9}\n\n"
        );
        let last = Cursor::new(1, 2, 0);
        let gap = HistoryGap {
            id: "p-gap-3",
            resume_from: Some(Cursor::new(5, 0, 0)),
            last_event_id: Some(&last),
            channels: &[Channel::CHAT],
        };
        assert_eq!(
            text(&history_gap(&gap, 9)),
            "id: 5-0-0\nevent: refresh\ndata: {\"id\":\"p-gap-3\",\"channel\":\"system\",\
             \"event\":\"refresh\",\"data\":{\"reason\":\"history-gap\",\
             \"lastEventId\":\"1-2-0\",\"channels\":[\"chat\"]},\"timestamp\":9}\n\n"
        );
    }
}
