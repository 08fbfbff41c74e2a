//! A test kit for code that publishes or serves events: decode what a client would receive,
//! and assert on it. Enabled by the `test-util` feature; add it to `[dev-dependencies]`:
//!
//! ```toml
//! [dev-dependencies]
//! sse-core = { version = "0.1", features = ["test-util"] }
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
//!
//! # Examples
//!
//! Testing an application's own publish code against a real hub:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use serde_json::json;
//! use sse_core::testing::Events;
//! use sse_core::{Channel, ConnectOptions, EventType, Hub, Identity, Message, SendError, UserId};
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
//! use sse_core::testing::{TestClock, drain};
//! use sse_core::{Channel, ConnectOptions, EventType, Identity, Message};
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

use std::{convert::Infallible, fmt, pin::Pin, time::Duration};

use bytes::Bytes;
use futures_util::{FutureExt, Stream, StreamExt, stream};
use serde_json::Value;
use sse_stream::{Sse, SseByteStream};

use crate::{Clock, HubBuilder, ManualClock, SendReport, Subscription, system};

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
/// let events = sse_core::testing::decode(b"id: 1-1-0\nevent: toast\ndata: {}\n\nretry: 3000\n\n");
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

type EventStream = Pin<Box<dyn Stream<Item = Result<Event, String>> + Send>>;

/// One stream of events as it arrives, with expectations about what comes next.
///
/// Every wait is bounded by [`wait`](Events::wait) (5 seconds by default) and panics when it
/// runs out, naming what it waited for. Under tokio's paused clock the bound passes as soon as
/// nothing else can run, so expecting nothing costs no real time.
pub struct Events {
    inner: EventStream,
    wait: Duration,
    ignore_heartbeats: bool,
    last_event_id: String,
    /// The latest `retry:` read, and whether it came after the last dispatched event.
    retry: Option<Duration>,
    retry_since_event: bool,
    ended: bool,
}

impl Events {
    /// Decodes a stream of bytes, such as an HTTP client's response body stream.
    pub fn new<S, E>(bytes: S) -> Self
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        let mut reader = Reader::default();
        let events = SseByteStream::new(bytes).filter_map(move |frame| {
            std::future::ready(match frame {
                Ok(frame) => reader.read(frame).map(Ok),
                Err(err) => Some(Err(err.to_string())),
            })
        });
        Self::from_decoded(events)
    }

    /// The events a subscription's frames decode to.
    pub fn from_subscription(subscription: Subscription) -> Self {
        Self::new(subscription.map(Ok::<_, Infallible>))
    }

    /// The events of a response body (such as `sse_tower::SseBody`).
    pub fn from_body<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + Unpin + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let data = stream::unfold(body, |mut body| async move {
            loop {
                let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await?;
                match frame.map(http_body::Frame::into_data) {
                    Ok(Ok(data)) => return Some((Ok(data), body)),
                    // Trailers carry no events.
                    Ok(Err(_)) => {}
                    Err(err) => return Some((Err(err), body)),
                }
            }
        });
        Self::new(data)
    }

    /// Events another client already decoded (for example a third-party `EventSource`
    /// client), to use the same expectations on them. An `Err` is a failure of that client.
    pub fn from_decoded(
        events: impl Stream<Item = Result<Event, String>> + Send + 'static,
    ) -> Self {
        Self {
            inner: Box::pin(events),
            wait: Duration::from_secs(5),
            ignore_heartbeats: false,
            last_event_id: String::new(),
            retry: None,
            retry_since_event: false,
            ended: false,
        }
    }

    /// Bounds every wait (default: 5 seconds).
    #[must_use]
    pub fn wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// Skips `heartbeat` events from now on.
    #[must_use]
    pub fn ignore_heartbeats(mut self) -> Self {
        self.ignore_heartbeats = true;
        self
    }

    /// The id of the last event received, as a client sends it back in `Last-Event-ID`.
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The reconnection time the server set last (its latest `retry:` field).
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    /// The next event; `None` when the stream ended.
    ///
    /// # Panics
    ///
    /// When nothing arrives within the wait, or the stream fails.
    pub async fn next(&mut self) -> Option<Event> {
        let wait = self.wait;
        match tokio::time::timeout(wait, self.pull()).await {
            Ok(next) => next,
            Err(_) => panic!("no event and no end of the stream within {wait:?}"),
        }
    }

    /// The next event if one is ready now, without waiting.
    ///
    /// # Panics
    ///
    /// When the stream fails.
    #[track_caller]
    pub fn try_next(&mut self) -> Option<Event> {
        self.pull().now_or_never().flatten()
    }

    /// The next `n` events.
    ///
    /// # Panics
    ///
    /// When the stream ends before, or an event does not arrive within the wait.
    pub async fn take(&mut self, n: usize) -> Vec<Event> {
        let mut events = Vec::with_capacity(n);
        while events.len() < n {
            match self.next().await {
                Some(event) => events.push(event),
                None => panic!(
                    "the stream ended after {} of {n} events: {events:?}",
                    events.len()
                ),
            }
        }
        events
    }

    /// The next event, which must be named `event`.
    ///
    /// # Panics
    ///
    /// When another event comes first, the stream ends, or nothing arrives within the wait.
    pub async fn expect_event(&mut self, event: &str) -> Event {
        match self.next().await {
            Some(next) if next.event == event => next,
            Some(other) => panic!("expected a {event:?} event, got {other}"),
            None => panic!("expected a {event:?} event, but the stream ended"),
        }
    }

    /// The next event, which must be the message `report` describes, as `event` with `data`:
    /// its SSE id is the message's cursor, and its JSON has the message's id, event name and
    /// data.
    ///
    /// # Panics
    ///
    /// When the next event differs in any of these, or does not arrive.
    pub async fn expect_message(
        &mut self,
        report: &SendReport,
        event: &str,
        data: &Value,
    ) -> Event {
        let next = self.expect_event(event).await;
        assert_eq!(next.id, report.cursor.to_string(), "the SSE id of {next}");
        let json = next.json();
        assert_eq!(json["id"], report.id.as_str(), "the message id of {next}");
        assert_eq!(json["event"], event, "the event of {next}");
        assert_eq!(&json["data"], data, "the data of {next}");
        next
    }

    /// The next event, which must be a history-gap `refresh`.
    ///
    /// # Panics
    ///
    /// When another event comes first, or none arrives.
    pub async fn expect_history_gap(&mut self) -> Event {
        let next = self.expect_event("refresh").await;
        assert!(next.is_history_gap(), "expected a history gap, got {next}");
        next
    }

    /// Waits `within` and asserts that no event arrived and the stream is still open.
    ///
    /// # Panics
    ///
    /// When an event arrives or the stream ends.
    pub async fn expect_no_event_within(&mut self, within: Duration) {
        if let Ok(next) = tokio::time::timeout(within, self.pull()).await {
            match next {
                Some(event) => panic!("expected no event within {within:?}, got {event}"),
                None => panic!("expected no event within {within:?}, but the stream ended"),
            }
        }
    }

    /// Asserts that the stream ends next; returns the reconnection time the server set after
    /// the last event (the final `retry:` of a stream it ended on purpose), if any.
    ///
    /// # Panics
    ///
    /// When an event comes, or the stream does not end within the wait.
    pub async fn expect_end(&mut self) -> Option<Duration> {
        match self.next().await {
            None => self.retry.filter(|_| self.retry_since_event),
            Some(event) => panic!("expected the end of the stream, got {event}"),
        }
    }

    async fn pull(&mut self) -> Option<Event> {
        if self.ended {
            return None;
        }
        loop {
            match self.inner.next().await {
                Some(Ok(event)) => {
                    if event.retry.is_some() {
                        self.retry = event.retry;
                    }
                    self.retry_since_event = event.is_retry_only();
                    if event.is_retry_only() || (self.ignore_heartbeats && event.is_heartbeat()) {
                        continue;
                    }
                    if !event.id.is_empty() {
                        self.last_event_id.clone_from(&event.id);
                    }
                    return Some(event);
                }
                Some(Err(err)) => panic!("the stream failed: {err}"),
                None => {
                    self.ended = true;
                    return None;
                }
            }
        }
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events")
            .field("wait", &self.wait)
            .field("ignore_heartbeats", &self.ignore_heartbeats)
            .field("last_event_id", &self.last_event_id)
            .field("retry", &self.retry)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

/// A clock for tests: moves the hub's clock and tokio's clock together.
///
/// Hand [`clock`](TestClock::clock) to the hub (or build one with [`hub`](TestClock::hub)), and
/// run the test with tokio's clock paused (`#[tokio::test(start_paused = true)]`): timestamps,
/// TTLs and history age follow the hub's clock, heartbeats and lifetimes follow tokio's, and
/// [`advance`](TestClock::advance) moves both.
#[derive(Debug, Clone)]
pub struct TestClock {
    manual: ManualClock,
}

impl TestClock {
    /// A clock standing at `now_ms` milliseconds since the Unix epoch.
    pub fn new(now_ms: u64) -> Self {
        Self {
            manual: ManualClock::new(now_ms),
        }
    }

    /// The clock to give a hub.
    pub fn clock(&self) -> Clock {
        Clock::from(self.manual.clone())
    }

    /// A hub builder on this clock.
    pub fn hub(&self) -> HubBuilder {
        crate::Hub::builder().clock(self.clock())
    }

    /// The current reading, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> u64 {
        self.manual.now_ms()
    }

    /// Moves the hub's clock, then tokio's (running the timers that come due).
    ///
    /// # Panics
    ///
    /// When tokio's clock is not paused.
    pub async fn advance(&self, by: Duration) {
        self.manual.advance(by);
        tokio::time::advance(by).await;
    }
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

    fn events(bytes: &'static [u8]) -> Events {
        Events::new(stream::iter([Ok::<_, Infallible>(Bytes::from_static(
            bytes,
        ))]))
    }

    #[tokio::test]
    async fn events_keep_the_reconnection_time_apart() {
        let mut events =
            events(b"retry: 3000\n\nevent: a\ndata: 1\n\nid: 9\ndata: 2\n\nretry: 7\n\n");
        assert_eq!(events.expect_event("a").await.data, "1");
        assert_eq!(events.retry(), Some(Duration::from_millis(3000)));
        assert_eq!(events.expect_event("message").await.id, "9");
        assert_eq!(events.last_event_id(), "9");
        assert_eq!(events.expect_end().await, Some(Duration::from_millis(7)));
        assert_eq!(events.next().await, None);
    }

    #[tokio::test]
    #[should_panic(expected = "expected the end of the stream, got event \"b\" (id \"\"): 2")]
    async fn expect_end_fails_on_an_event() {
        let mut events = events(b"event: a\ndata: 1\n\nevent: b\ndata: 2\n\n");
        events.expect_event("a").await;
        events.expect_end().await;
    }

    #[tokio::test(start_paused = true)]
    #[should_panic(expected = "expected no event within 1s, got event \"a\"")]
    async fn expect_no_event_within_fails_on_an_event() {
        events(b"event: a\ndata: 1\n\n")
            .expect_no_event_within(Duration::from_secs(1))
            .await;
    }
}
