//! Reading one stream as it arrives, with expectations about what comes next.

use std::{convert::Infallible, fmt, pin::Pin, time::Duration};

use bytes::Bytes;
use futures_util::{FutureExt, Stream, StreamExt, stream};
use serde_json::Value;
use sse_stream::SseByteStream;

use super::{Event, Reader};
use crate::{SendReport, Subscription};

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

#[cfg(test)]
mod tests {
    use super::*;

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
