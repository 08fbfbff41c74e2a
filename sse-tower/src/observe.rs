//! Logging and metrics of streams: opened, refused and closed, in one place.
//!
//! Tracing (targets under `sse_tower`): each stream has a span `sse.stream` (fields
//! `sse.connection_id`, `sse.endpoint`, and `sse.user_id` only when the endpoint opts in with
//! [`StreamConfig::log_user_ids`](crate::StreamConfig::log_user_ids)); its open and its close
//! are events inside it, at DEBUG, except a close for being too slow, at INFO. The close event
//! carries `sse.close_reason` and `sse.duration_ms`. A refusal is an INFO event with
//! `sse.endpoint`, `sse.status` and `sse.code` (the refusal's [cause](Rejection::cause): a rate
//! limit's 429 and a stream cap's differ).
//!
//! Metrics (feature `metrics`), each with the label `endpoint`:
//! `sse_streams_opened_total`, `sse_streams_closed_total{reason}`,
//! `sse_streams_rejected_total{status,code}` and the histogram `sse_stream_duration_seconds`.
//! The hub's own counters and gauges are exported by [`crate::metrics`].

use std::time::Instant;

use sse_hub::{CloseReason, Connected, UserId};

use crate::{StreamConfig, error::Rejection};

/// A request was refused.
pub(crate) fn rejected(config: &StreamConfig, rejection: &Rejection) {
    tracing::info!(
        sse.endpoint = %config.endpoint,
        sse.status = rejection.status().as_u16(),
        sse.code = rejection.cause(),
        "sse stream refused: {}",
        rejection.message()
    );
    #[cfg(feature = "metrics")]
    metrics::counter!(
        "sse_streams_rejected_total",
        "endpoint" => config.endpoint.clone(),
        "status" => rejection.status().as_str().to_owned(),
        "code" => rejection.cause().to_owned()
    )
    .increment(1);
}

/// A request reached an endpoint with per-address limits without a client address: the
/// server puts no [`ClientAddr`](crate::ClientAddr) in the request extensions, so those limits
/// never apply. Reported once per endpoint.
pub(crate) fn no_client_address() {
    tracing::warn!(
        "a rate limit or per-IP cap is configured, but requests carry no client address \
         (put sse_tower::ClientAddr in the request extensions, or serve with connect info): \
         those limits do not apply"
    );
}

/// A stream opened; the returned tracker records its end when the body is dropped.
pub(crate) fn opened(
    config: &StreamConfig,
    connected: &Connected,
    user: Option<&UserId>,
) -> Tracker {
    let span = tracing::info_span!(
        target: "sse_tower",
        "sse.stream",
        sse.connection_id = %connected.connection_id,
        sse.endpoint = %config.endpoint,
        sse.user_id = tracing::field::Empty,
    );
    if config.log_user_ids {
        if let Some(user) = user {
            span.record("sse.user_id", user.as_str());
        }
    }
    tracing::debug!(
        parent: &span,
        sse.channels = ?connected.channels.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        sse.resumed = connected.resumed,
        sse.replayed = connected.replayed,
        sse.history_gap = connected.history_gap,
        "sse stream opened"
    );
    #[cfg(feature = "metrics")]
    metrics::counter!("sse_streams_opened_total", "endpoint" => config.endpoint.clone())
        .increment(1);
    Tracker {
        span,
        opened: Instant::now(),
        #[cfg(feature = "metrics")]
        endpoint: config.endpoint.clone(),
        reason: None,
    }
}

/// Records the end of a stream in logs and metrics when the body is dropped.
#[derive(Debug)]
pub(crate) struct Tracker {
    span: tracing::Span,
    opened: Instant,
    #[cfg(feature = "metrics")]
    endpoint: String,
    reason: Option<CloseReason>,
}

impl Tracker {
    /// Why the stream ended, as the body knows it when it is dropped.
    pub(crate) fn ended(&mut self, reason: Option<CloseReason>) {
        self.reason = reason;
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        let reason = self.reason.unwrap_or(CloseReason::ClientGone);
        let duration = self.opened.elapsed();
        let duration_ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        if reason == CloseReason::TooSlow {
            tracing::info!(
                parent: &self.span,
                sse.close_reason = reason.as_str(),
                sse.duration_ms = duration_ms,
                "sse stream closed"
            );
        } else {
            tracing::debug!(
                parent: &self.span,
                sse.close_reason = reason.as_str(),
                sse.duration_ms = duration_ms,
                "sse stream closed"
            );
        }
        #[cfg(feature = "metrics")]
        {
            metrics::counter!(
                "sse_streams_closed_total",
                "endpoint" => self.endpoint.clone(),
                "reason" => reason.as_str()
            )
            .increment(1);
            metrics::histogram!(
                "sse_stream_duration_seconds",
                "endpoint" => self.endpoint.clone()
            )
            .record(duration);
        }
    }
}
