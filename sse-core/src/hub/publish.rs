//! Publishing: validate and encode once, append to the log, and report what happened.

use std::sync::{Arc, atomic::Ordering::Relaxed};

use serde::Serialize;
use tokio::sync::oneshot;

use super::{Hub, HubInner, Mode, Shared, Waiter, dispatch::Dispatched};
use crate::{
    Cursor, Envelope, Message, MessageId,
    error::{BackplaneError, MessageError, SendError},
};

/// The outcome of a [`Hub::send`].
///
/// The counts are about this instance's connections: with a shared backplane, other instances
/// deliver the message to their own connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(
        description = "The outcome of a publish.\n\nThe counts are about this instance's \
                          connections: with a shared backplane, other instances deliver the \
                          message to their own connections."
    )
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SendReport {
    /// The message id.
    pub id: MessageId,
    /// The message's position in the log (its SSE event id).
    pub cursor: Cursor,
    /// Connections the message was queued for.
    pub sent: usize,
    /// Matching connections whose queue was full of more important messages: the message was
    /// shed for them.
    pub shed: usize,
    /// Matching connections closed because they could not keep up; they resume from history.
    pub closed: usize,
    /// Whether this was a repeat of a message with the same idempotency key, which delivered
    /// nothing: the rest of the report is the first send's. Serialised only when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
}

impl Hub {
    /// Validates and encodes a message without sending it.
    ///
    /// # Errors
    ///
    /// [`MessageError`] naming the invalid field.
    pub fn encode(&self, message: Message) -> Result<Envelope, MessageError> {
        // The caller may keep the envelope: its body goes into an allocation of its own size.
        self.encode_transient(message).map(Envelope::shrunk)
    }

    /// Encodes a message that is sent at once: its body lives only until the log entry frames
    /// it (which copies it), so it is not copied to an exact-size allocation first.
    fn encode_transient(&self, message: Message) -> Result<Envelope, MessageError> {
        let inner = &self.inner;
        let parts = message.into_parts();
        let id = match parts.id.clone() {
            Some(id) => id,
            None => inner.ids.message(),
        };
        Envelope::encode(parts, id, inner.roster.clock.now_ms(), &inner.config.limits)
    }

    /// Sends a message to every connection it targets.
    ///
    /// A message with an [`IdempotencyKey`](crate::IdempotencyKey) is sent at most once within
    /// the hub's idempotency window: a repeat (concurrent ones too) delivers nothing and gets
    /// the first send's report with [`duplicate`](SendReport::duplicate) set.
    ///
    /// # Errors
    ///
    /// [`SendError::Invalid`] for an invalid message, [`SendError::Backplane`] when the
    /// backplane fails (the message reached nobody; retry or fall back),
    /// [`SendError::IdempotencyConflict`] for an idempotency key used for another message, and
    /// [`SendError::ShuttingDown`] after [`shutdown`](Hub::shutdown).
    pub async fn send(&self, message: Message) -> Result<SendReport, SendError> {
        match message.idempotency().cloned() {
            Some(key) => self.send_once(key, message).await,
            None => self.send_now(message).await,
        }
    }

    /// Sends a message now, whatever its idempotency key.
    pub(super) async fn send_now(&self, message: Message) -> Result<SendReport, SendError> {
        let mut envelope = self.encode_transient(message)?;
        if let Mode::Shared(shared) = &self.inner.mode {
            // Marked before it is wrapped, so nothing is copied to mark it.
            envelope.set_send_token(shared.token(&self.inner));
        }
        self.publish(Arc::new(envelope)).await
    }

    /// Sends an already encoded envelope (see [`encode`](Hub::encode)).
    ///
    /// With a shared backplane the envelope is marked with a token of this send; if the caller
    /// still holds other references to it, that copies its routing metadata once.
    ///
    /// # Errors
    ///
    /// As [`send`](Hub::send), except for validation, which encoding did.
    pub async fn send_envelope(&self, envelope: Arc<Envelope>) -> Result<SendReport, SendError> {
        let envelope = match &self.inner.mode {
            Mode::Shared(shared) => {
                let mut envelope = Arc::unwrap_or_clone(envelope);
                envelope.set_send_token(shared.token(&self.inner));
                Arc::new(envelope)
            }
            Mode::Local { .. } => envelope,
        };
        self.publish(envelope).await
    }

    async fn publish(&self, envelope: Arc<Envelope>) -> Result<SendReport, SendError> {
        let inner = &self.inner;
        if inner.shutting_down.load(Relaxed) {
            return Err(SendError::ShuttingDown);
        }
        let id = envelope.id().clone();
        let span = tracing::debug_span!(
            "sse.send",
            sse.message_id = %id,
            sse.channel = %envelope.channel(),
            sse.cursor = tracing::field::Empty,
            sse.recipients = tracing::field::Empty,
            sse.shed = tracing::field::Empty,
        );
        #[cfg(feature = "metrics")]
        let started = std::time::Instant::now();
        let sent = async {
            match &inner.mode {
                Mode::Local { sequencer } => {
                    let _order = sequencer.lock().await;
                    let entry = inner.append(envelope).await?;
                    Ok::<_, SendError>((entry.cursor(), inner.dispatch(&entry)))
                }
                Mode::Shared(shared) => shared.publish(inner, envelope).await,
            }
        };
        let (cursor, dispatched) = tracing::Instrument::instrument(sent, span.clone())
            .await
            .inspect_err(|err| {
                tracing::debug!(parent: &span, error = %err, "sse send failed");
            })?;
        span.record("sse.cursor", tracing::field::display(&cursor));
        span.record("sse.recipients", dispatched.sent);
        span.record("sse.shed", dispatched.shed);
        tracing::debug!(parent: &span, "sse message sent");
        #[cfg(feature = "metrics")]
        {
            metrics::histogram!("sse_publish_duration_seconds").record(started.elapsed());
            #[allow(clippy::cast_precision_loss, reason = "a count of recipients")]
            metrics::histogram!("sse_recipients_per_message").record(dispatched.sent as f64);
        }
        let counters = &inner.roster.counters;
        counters.sent.fetch_add(1, Relaxed);
        counters.minute.record(inner.roster.clock.now_ms());
        Ok(SendReport {
            id,
            cursor,
            sent: dispatched.sent,
            shed: dispatched.shed,
            closed: dispatched.closed,
            duplicate: false,
        })
    }
}

impl HubInner {
    /// Appends to the backplane's log, counting a failure.
    pub(crate) async fn append(
        &self,
        envelope: Arc<Envelope>,
    ) -> Result<crate::Entry, BackplaneError> {
        self.backplane.publish(envelope).await.inspect_err(|_| {
            self.backplane_failed(super::stats::BackplaneOp::Publish);
        })
    }
}

impl Shared {
    /// A token unique to one send, by which the dispatcher recognises the message when the
    /// backplane hands it back (message ids are the application's and may repeat).
    fn token(&self, inner: &HubInner) -> String {
        inner.ids.next(&self.next_send)
    }

    /// Appends the message and waits for this instance's dispatch of it, or until the
    /// dispatcher shows that it will not come: it dispatched a newer entry, or the backplane
    /// reported entries lost on their way. Once the log has the message the send has
    /// succeeded, so a message that was skipped here is reported as delivered to nobody on
    /// this instance, not as a failure (a caller that retried a failed send would publish it
    /// twice).
    async fn publish(
        &self,
        inner: &HubInner,
        envelope: Arc<Envelope>,
    ) -> Result<(Cursor, Dispatched), SendError> {
        if !self.dispatcher_running.load(Relaxed) {
            return Err(SendError::Backplane(BackplaneError::Unavailable(
                "the hub's dispatcher is not running (spawn Hub::run_dispatcher)".into(),
            )));
        }
        let token = envelope
            .send_token()
            .expect("shared sends are marked")
            .to_owned();
        let (tx, rx) = oneshot::channel();
        self.waiters
            .lock()
            .insert(token.clone(), Waiter { tx, cursor: None });
        // Whatever ends this send (done, failed, or its future dropped), nothing stays
        // waiting for it.
        let _waiting = Waiting {
            shared: self,
            token: &token,
        };
        let entry = inner.append(envelope).await?;
        let cursor = entry.cursor();
        if let Some(waiter) = self.waiters.lock().get_mut(&token) {
            waiter.cursor = Some(cursor);
        }
        let passed = *self.last_dispatched.lock();
        if let Some(passed) = passed {
            if cursor.partial_cmp(&passed).is_some_and(|o| o.is_lt()) {
                // Dispatched newer entries already: this one is either handed back by now,
                // or it was skipped.
                self.release_skipped(Some(&passed));
            }
        }
        Ok(rx.await.map_err(|_| BackplaneError::Closed)?)
    }
}

/// Removes a send's waiter when the send ends, however it ends.
struct Waiting<'a> {
    shared: &'a Shared,
    token: &'a str,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.shared.waiters.lock().remove(self.token);
    }
}
