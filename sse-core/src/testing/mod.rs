//! A test kit for code that publishes or serves events: decode what a client would receive,
//! and assert on it. Enabled by the `test-util` feature; add it to `[dev-dependencies]`:
//!
//! ```toml
//! [dev-dependencies]
//! sse-hub = { version = "0.1", features = ["test-util"] }
//! ```
//!
//! # The model
//!
//! Bytes are decoded by an independent SSE parser (the `sse-stream` crate), then read the way
//! a browser's `EventSource` reads them: a frame with `data:` dispatches an [`Event`] named by
//! its `event:` field (`message` without one), carrying the last event id seen so far. A frame
//! that only sets the reconnection time (`retry:`) dispatches nothing in a browser; it matters
//! to tests all the same, because a stream the server ends on purpose ends with one.
//!
//! - [`decode`] and [`drain`] work without waiting, on bytes or on everything a
//!   [`Subscription`] has queued right now, and list retry-only frames too (as an [`Event`]
//!   whose [`is_retry_only`](Event::is_retry_only) is true).
//! - [`Events`] reads one stream as it arrives (a [`Subscription`], a response body, or any
//!   stream of bytes, such as an HTTP client's) and asserts on what comes next, each wait
//!   bounded ([`Events::wait`], 5 seconds by default). Like a browser, it yields dispatched
//!   events only and keeps the reconnection time apart ([`Events::retry`],
//!   [`Events::expect_end`]).
//! - [`TestClock`] moves the hub's clock and tokio's paused clock together, so that TTLs,
//!   history age and heartbeats can be tested without sleeping.
//! - [`flaky_client`] drops and resumes a connection at random, across instances, to test that
//!   every message arrives once and in order.
//!
//! # Examples
//!
//! Testing an application's own publish code against a real hub:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use serde_json::json;
//! use sse_hub::testing::Events;
//! use sse_hub::error::SendError;
//! use sse_hub::{Channel, ConnectOptions, EventType, Hub, Identity, Message, UserId};
//!
//! // The application's code under test.
//! async fn order_shipped(hub: &Hub, user: u64, order: u64) -> Result<(), SendError> {
//!     let message = Message::new(
//!         Channel::NOTIFICATIONS,
//!         EventType::Notification,
//!         json!({"title": "Your order has shipped", "order": order}),
//!     )
//!     .to_users([user]);
//!     hub.send(message).await.map(|_| ())
//! }
//!
//! let hub = Hub::new();
//! let connect = |user: u64| {
//!     ConnectOptions::new(Identity::user(UserId::from(user))).channels([Channel::NOTIFICATIONS])
//! };
//! let mut buyer = Events::from_subscription(hub.connect(connect(7)).await?);
//! let mut other = Events::from_subscription(hub.connect(connect(8)).await?);
//!
//! order_shipped(&hub, 7, 1042).await?;
//!
//! let event = buyer.expect_event("notification").await;
//! assert_eq!(event.payload(), json!({"title": "Your order has shipped", "order": 1042}));
//! other.expect_no_event_within(std::time::Duration::from_millis(50)).await;
//! # Ok(()) }
//! ```
//!
//! ## Paused time
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use serde_json::json;
//! use sse_hub::testing::{TestClock, drain};
//! use sse_hub::{Channel, ConnectOptions, EventType, Identity, Message};
//!
//! let clock = TestClock::new(1_764_350_000_000);
//! let hub = clock.hub().build();
//! let mut stream = hub
//!     .connect(ConnectOptions::new(Identity::anonymous()).channels([Channel::TOASTS]))
//!     .await?;
//! hub.send(
//!     Message::new(Channel::TOASTS, EventType::Toast, json!("saved")).ttl(Duration::from_secs(5)),
//! )
//! .await?;
//! clock.advance(Duration::from_secs(5)).await;
//! assert!(drain(&mut stream).is_empty(), "the toast expired before it was written");
//! # Ok(()) }
//! ```

mod clock;
mod events;
mod flaky;

use std::{convert::Infallible, fmt, time::Duration};

use bytes::Bytes;
use futures_util::{FutureExt, StreamExt, stream};
use serde_json::Value;
use sse_stream::{Sse, SseByteStream};

pub use clock::TestClock;
pub use events::Events;
pub use flaky::flaky_client;

/// Compiles only if `T` is `Send + Sync`: the check that a public type (a body, a stream, a
/// handle) can cross threads.
pub fn assert_send_sync<T: Send + Sync>() {}

/// Compiles only if `value` is `Send` (typically a future that must be spawnable).
pub fn assert_send<T: Send>(value: &T) {
    let _ = value;
}

use crate::{Subscription, system};

/// One event as a client receives it.
///
/// `id` is the last event id when the event was dispatched, as a browser reports it
/// (`MessageEvent.lastEventId`): a frame without an `id:` field carries the previous one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The last event id (empty before the first `id:` field).
    pub id: String,
    /// The event name: the `event:` field, `message` without one, empty for a retry-only frame.
    pub event: String,
    /// The data lines, joined with LF.
    pub data: String,
    /// The frame's `retry:` field, if it had one.
    pub retry: Option<Duration>,
}

impl Event {
    /// The data as JSON.
    ///
    /// # Panics
    ///
    /// When the data is not JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|err| panic!("the data of {self} is not JSON: {err}"))
    }

    /// The message's own data: `data` inside the event's JSON (`{"id", "channel", "event",
    /// "data", "timestamp"}`).
    ///
    /// # Panics
    ///
    /// When the data is not JSON.
    #[track_caller]
    pub fn payload(&self) -> Value {
        self.json()["data"].take()
    }

    /// Whether this is a `heartbeat` event.
    pub fn is_heartbeat(&self) -> bool {
        self.event == "heartbeat"
    }

    /// Whether this frame only set the reconnection time (a browser dispatches nothing for
    /// it): the `retry:` that ends a stream the server closed.
    pub fn is_retry_only(&self) -> bool {
        self.event.is_empty()
    }

    /// Whether this is the `refresh` event that ends a stream whose credentials expired or were
    /// revoked.
    pub fn is_auth_expired(&self) -> bool {
        self.event == "refresh"
            && serde_json::from_str::<Value>(&self.data)
                .is_ok_and(|json| json["data"]["reason"] == system::AUTH_EXPIRED)
    }

    /// Whether this is the `refresh` event telling a resuming client that history no longer
    /// reaches its cursor.
    pub fn is_history_gap(&self) -> bool {
        self.event == "refresh"
            && serde_json::from_str::<Value>(&self.data)
                .is_ok_and(|json| json["data"]["reason"] == system::HISTORY_GAP)
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_retry_only() {
            return write!(f, "retry: {:?}", self.retry);
        }
        write!(
            f,
            "event {:?} (id {:?}): {}",
            self.event, self.id, self.data
        )
    }
}

/// The WHATWG reading of raw frames: dispatch, event names and the last event id.
#[derive(Debug, Default)]
struct Reader {
    last_event_id: String,
}

impl Reader {
    fn read(&mut self, frame: Sse) -> Option<Event> {
        if let Some(id) = frame.id {
            self.last_event_id = id;
        }
        let retry = frame.retry.map(Duration::from_millis);
        match frame.data {
            Some(data) => Some(Event {
                id: self.last_event_id.clone(),
                event: frame
                    .event
                    .filter(|e| !e.is_empty())
                    .unwrap_or_else(|| "message".to_owned()),
                data,
                retry,
            }),
            None => retry.map(|retry| Event {
                id: self.last_event_id.clone(),
                event: String::new(),
                data: String::new(),
                retry: Some(retry),
            }),
        }
    }
}

/// Decodes the bytes of a stream, without waiting.
///
/// # Panics
///
/// When the bytes are not a valid event stream (invalid UTF-8 in a field).
///
/// # Examples
///
/// ```
/// let events = sse_hub::testing::decode(b"id: 1-1-0\nevent: toast\ndata: {}\n\nretry: 3000\n\n");
/// assert_eq!((events[0].id.as_str(), events[0].event.as_str()), ("1-1-0", "toast"));
/// assert!(events[1].is_retry_only());
/// ```
#[track_caller]
pub fn decode(bytes: &[u8]) -> Vec<Event> {
    let chunk = Bytes::copy_from_slice(bytes);
    let frames = SseByteStream::new(stream::iter([Ok::<_, Infallible>(chunk)]));
    let mut reader = Reader::default();
    frames
        .collect::<Vec<_>>()
        .now_or_never()
        .expect("an in-memory stream is always ready")
        .into_iter()
        .filter_map(|frame| reader.read(frame.expect("a valid event stream")))
        .collect()
}

/// Everything `subscription` has queued right now, decoded; never waits. When the hub ended
/// the stream, the last item is its retry-only frame.
///
/// Frames carry their own `id:`, so ids are exact however the frames were drained.
#[track_caller]
pub fn drain(subscription: &mut Subscription) -> Vec<Event> {
    let mut bytes = Vec::new();
    while let Some(Some(chunk)) = subscription.recv().now_or_never() {
        bytes.extend_from_slice(&chunk);
    }
    decode(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_reads_frames_as_a_browser_does() {
        let events = decode(
            b"retry: 3000\n\nevent: connected\ndata: {}\n\nid: 1-1-0\ndata: a\ndata: b\n\n\
              event: heartbeat\ndata: 1\n\nretry: 500\n\n",
        );
        let event = |id: &str, name: &str, data: &str, retry: Option<u64>| Event {
            id: id.to_owned(),
            event: name.to_owned(),
            data: data.to_owned(),
            retry: retry.map(Duration::from_millis),
        };
        assert_eq!(
            events,
            [
                event("", "", "", Some(3000)),
                event("", "connected", "{}", None),
                event("1-1-0", "message", "a\nb", None),
                event("1-1-0", "heartbeat", "1", None),
                event("1-1-0", "", "", Some(500)),
            ]
        );
        assert!(events[0].is_retry_only() && events[3].is_heartbeat());
    }
}
