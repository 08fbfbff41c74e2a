//! The response body: one `http_body::Body` for every framework.

use std::{
    convert::Infallible,
    fmt,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, Waker},
    time::Duration,
};

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use sse_hub::{Clock, ConnectionId, Subscription, system};
use tokio::sync::futures::OwnedNotified;

use crate::{heartbeat::Heartbeat, observe::Tracker};

/// The body of an SSE response: the stream's frames, or the JSON body of a refusal.
///
/// A stream yields the `retry:` hint and the `connected` event, then what the hub queued for
/// the connection (replayed messages first), one chunk per write however many frames wait,
/// with `heartbeat` events when it has been idle for a heartbeat interval. It ends after a
/// final `retry:` when the hub closes the connection, when the connection's lifetime is up, or
/// when the hub shuts down.
///
/// Dropping the body (the client went away) unregisters the connection at once. Its places
/// under the connection limits are freed then, or as soon as the hub ends the stream, whichever
/// comes first.
///
/// The body is `Send + Sync + Unpin` and its data is [`Bytes`], so every framework can carry it.
pub struct SseBody {
    kind: Kind,
}

enum Kind {
    Full(Option<Bytes>),
    Stream(Pin<Box<StreamState>>),
}

pin_project! {
    /// The state of an open stream, in one allocation that also pins the heartbeat waiter.
    #[project = StreamProjection]
    struct StreamState {
        #[pin]
        tick: OwnedNotified,
        // The heartbeat's tick count read before `tick` was last polled, and the waker it was
        // polled with: while both still hold, polling it again is useless.
        tick_seen: u64,
        tick_waker: Option<Waker>,
        preamble: Option<Bytes>,
        subscription: Subscription,
        heartbeat: Arc<Heartbeat>,
        deadline: Option<tokio::time::Instant>,
        // The credentials' expiry the timer is armed for, and the timer; only for streams
        // whose credentials expire.
        expiry: Option<(u64, Pin<Box<tokio::time::Sleep>>)>,
        clock: Clock,
        retry: Duration,
        wrote_since_tick: bool,
        ended: bool,
        _tracker: Tracker,
    }
}

impl SseBody {
    /// A complete body, for refusals.
    pub(crate) fn full(bytes: Bytes) -> Self {
        Self {
            kind: Kind::Full(Some(bytes)),
        }
    }

    /// The body of an open stream.
    pub(crate) fn stream(
        preamble: Bytes,
        subscription: Subscription,
        heartbeat: Arc<Heartbeat>,
        timeout: Option<Duration>,
        retry: Duration,
        tracker: Tracker,
        clock: Clock,
    ) -> Self {
        let tick = Arc::clone(&heartbeat.notify).notified_owned();
        Self {
            kind: Kind::Stream(Box::pin(StreamState {
                tick,
                tick_seen: 0,
                tick_waker: None,
                preamble: Some(preamble),
                subscription,
                heartbeat,
                // A lifetime too long for the clock is no limit.
                deadline: timeout.and_then(|t| tokio::time::Instant::now().checked_add(t)),
                expiry: None,
                clock,
                retry,
                // The preamble does not count: the first tick always writes a heartbeat, so a
                // stream is never silent for more than two intervals.
                wrote_since_tick: false,
                ended: false,
                _tracker: tracker,
            })),
        }
    }

    /// The id of the connection behind a stream body.
    pub fn connection_id(&self) -> Option<ConnectionId> {
        match &self.kind {
            Kind::Stream(state) => Some(state.subscription.id()),
            Kind::Full(_) => None,
        }
    }
}

impl Drop for SseBody {
    fn drop(&mut self) {
        if let Kind::Stream(state) = &mut self.kind {
            let state = state.as_mut().project();
            state._tracker.ended(state.subscription.close_reason());
        }
    }
}

impl From<Bytes> for SseBody {
    fn from(bytes: Bytes) -> Self {
        Self::full(bytes)
    }
}

impl Body for SseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut self.get_mut().kind {
            Kind::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Kind::Stream(state) => {
                poll_stream(state.as_mut(), cx).map(|chunk| chunk.map(|b| Ok(Frame::data(b))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(bytes) => bytes.is_none(),
            Kind::Stream(state) => state.ended,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Stream(_) => SizeHint::default(),
        }
    }
}

fn poll_stream(state: Pin<&mut StreamState>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
    let mut state = state.project();
    if *state.ended {
        return Poll::Ready(None);
    }
    if let Some(preamble) = state.preamble.take() {
        // The first write carries the preamble and whatever is already queued (replay).
        if let Poll::Ready(Some(batch)) = state.subscription.poll_recv(cx) {
            let mut buf = BytesMut::with_capacity(preamble.len() + batch.len());
            buf.extend_from_slice(&preamble);
            buf.extend_from_slice(&batch);
            return Poll::Ready(Some(buf.freeze()));
        }
        return Poll::Ready(Some(preamble));
    }
    match state.subscription.poll_recv(cx) {
        Poll::Ready(Some(batch)) => {
            *state.wrote_since_tick = true;
            return Poll::Ready(Some(batch));
        }
        Poll::Ready(None) => {
            *state.ended = true;
            return Poll::Ready(None);
        }
        Poll::Pending => {}
    }
    if let Poll::Ready(chunk) = poll_expiry(&mut state, cx) {
        if chunk.is_none() {
            *state.ended = true;
        }
        return Poll::Ready(chunk);
    }
    loop {
        // Each poll of `tick` takes the heartbeat's lock, which every stream shares; after a
        // write, hyper polls the body again, and the tick need not be polled then.
        let ticks = state.heartbeat.ticks();
        let registered = state
            .tick_waker
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()));
        if registered && ticks == *state.tick_seen {
            return Poll::Pending;
        }
        if state.tick.as_mut().poll(cx).is_pending() {
            *state.tick_seen = ticks;
            if !registered {
                *state.tick_waker = Some(cx.waker().clone());
            }
            return Poll::Pending;
        }
        state
            .tick
            .set(Arc::clone(&state.heartbeat.notify).notified_owned());
        *state.tick_waker = None;
        if state
            .deadline
            .is_some_and(|deadline| tokio::time::Instant::now() >= deadline)
        {
            state.subscription.end_for_lifetime();
            *state.ended = true;
            return Poll::Ready(Some(system::retry(*state.retry)));
        }
        if !*state.wrote_since_tick {
            state.subscription.touch();
            return Poll::Ready(Some(state.heartbeat.frame()));
        }
        *state.wrote_since_tick = false;
    }
}

/// Wakes the stream when its credentials expire: the subscription then ends itself with the
/// `auth-expired` refresh. The timer follows the expiry when
/// [`Hub::refresh_user`](sse_hub::Hub::refresh_user) moves it (the subscription is woken
/// then), and is dropped when it has none.
#[inline]
fn poll_expiry(state: &mut StreamProjection<'_>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
    let Some(at) = state.subscription.expires_at() else {
        if state.expiry.is_some() {
            *state.expiry = None;
        }
        return Poll::Pending;
    };
    // Twice at most: the hub's clock may stand a little behind tokio's when the timer fires.
    for _ in 0..2 {
        if state.expiry.as_ref().is_none_or(|(armed, _)| *armed != at) {
            let wait = Duration::from_millis(at.saturating_sub(state.clock.now_ms()));
            *state.expiry = Some((at, Box::pin(tokio::time::sleep(wait))));
        }
        let (_, timer) = state.expiry.as_mut().expect("armed above");
        if timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        *state.expiry = None;
        if let Poll::Ready(chunk) = state.subscription.poll_recv(cx) {
            return Poll::Ready(chunk);
        }
    }
    Poll::Pending
}

impl fmt::Debug for SseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Full(bytes) => f
                .debug_struct("SseBody")
                .field("full", &bytes.as_ref().map(|b| String::from_utf8_lossy(b)))
                .finish(),
            Kind::Stream(state) => f
                .debug_struct("SseBody")
                .field("connection", &state.subscription.id())
                .field("ended", &state.ended)
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sse_hub::testing::assert_send_sync;

    #[test]
    fn body_is_send_sync_and_unpin() {
        assert_send_sync::<SseBody>();
        assert_unpin::<SseBody>();
    }

    fn assert_unpin<T: Unpin>() {}
}
