//! Logging and metrics of streams: opened, refused and closed, in one place.
//!
//! `tracing` events under the target `sse_tower`; with the `metrics` feature, the counters
//! `sse_connections_opened_total`, `sse_connections_rejected_total{status}`,
//! `sse_connections_closed_total` and the gauge `sse_connections_active`.

use sse_core::{Channel, Connected, ConnectionId, UserId};

use crate::error::Rejection;

/// A request was refused.
pub(crate) fn rejected(rejection: &Rejection) {
    tracing::info!(
        target: "sse_tower",
        status = rejection.status().as_u16(),
        error = rejection.code(),
        outcome = "rejected",
        "sse stream refused: {}",
        rejection.message()
    );
    #[cfg(feature = "metrics")]
    metrics::counter!(
        "sse_connections_rejected_total",
        "status" => rejection.status().as_str().to_owned()
    )
    .increment(1);
}

/// A request reached an endpoint with per-address limits without a client address: the
/// server puts no [`ClientAddr`](crate::ClientAddr) in the request extensions, so those limits
/// never apply. Reported once per endpoint.
pub(crate) fn no_client_address() {
    tracing::warn!(
        target: "sse_tower",
        "a rate limit or per-IP cap is configured, but requests carry no client address \
         (put sse_tower::ClientAddr in the request extensions, or serve with connect info): \
         those limits do not apply"
    );
}

/// A stream opened; the returned tracker records its end when the body drops it.
pub(crate) fn opened(connected: &Connected, user: Option<&UserId>) -> Tracker {
    tracing::info!(
        target: "sse_tower",
        connection_id = %connected.connection_id,
        user = user.map(UserId::as_str),
        channels = ?connected.channels.iter().map(Channel::as_str).collect::<Vec<_>>(),
        resumed = connected.resumed,
        history_gap = connected.history_gap,
        outcome = "opened",
        "sse stream opened"
    );
    #[cfg(feature = "metrics")]
    {
        metrics::counter!("sse_connections_opened_total").increment(1);
        metrics::gauge!("sse_connections_active").increment(1.0);
    }
    Tracker {
        connection_id: connected.connection_id,
    }
}

/// Records the end of a stream in logs and metrics when the body is dropped.
#[derive(Debug)]
pub(crate) struct Tracker {
    connection_id: ConnectionId,
}

impl Drop for Tracker {
    fn drop(&mut self) {
        tracing::info!(
            target: "sse_tower",
            connection_id = %self.connection_id,
            outcome = "closed",
            "sse stream closed"
        );
        #[cfg(feature = "metrics")]
        {
            metrics::counter!("sse_connections_closed_total").increment(1);
            metrics::gauge!("sse_connections_active").decrement(1.0);
        }
    }
}
