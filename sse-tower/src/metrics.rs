//! The hub's numbers as metrics, through the `metrics` facade (the exporter is the
//! application's choice).
//!
//! The hub counts everything already ([`Hub::stats`]); [`record`] copies those counts into
//! counters and gauges, so that nothing on the path of a message touches a metric. Call it
//! where the metrics are read (a Prometheus scrape handler, say) or on a timer; call
//! [`describe`] once after installing the recorder, for HELP texts and units.
//!
//! | Metric | Kind | Labels |
//! | --- | --- | --- |
//! | `sse_messages_sent_total` | counter | |
//! | `sse_frames_delivered_total` | counter | |
//! | `sse_frames_dropped_total` | counter | `reason`: `shed`, `expired`, `coalesced`, `slow`, `cleared` |
//! | `sse_replayed_frames_total` | counter | |
//! | `sse_history_gaps_total` | counter | |
//! | `sse_backplane_errors_total` | counter | `op`: `publish`, `replay`, `tail`, `control` |
//! | `sse_streams_open` | gauge | |
//! | `sse_queued_bytes` | gauge | |
//! | `sse_history_bytes`, `sse_history_entries` | gauge | |
//! | `sse_persistent_bytes`, `sse_ledger_bytes` | gauge | |
//! | `sse_backplane_lag_entries`, `sse_backplane_lag_seconds` | gauge | |
//!
//! Recorded where they happen: `sse_streams_opened_total{endpoint}`,
//! `sse_streams_closed_total{endpoint,reason}`, `sse_streams_rejected_total{endpoint,status,code}`
//! (`code` is the refusal's [cause](crate::error::Rejection::cause))
//! and the histograms `sse_stream_duration_seconds{endpoint}` (this crate),
//! `sse_publish_duration_seconds`, `sse_recipients_per_message` and `sse_replay_length`
//! (`sse-hub`'s `metrics` feature, which this crate's enables). No label carries a user id
//! or a channel name.

use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge};
use sse_hub::{BackplaneOp, Hub};

/// Describes every metric (HELP text and unit). Call it once, after installing the recorder.
pub fn describe() {
    describe_counter!(
        "sse_messages_sent_total",
        Unit::Count,
        "Messages sent through this hub"
    );
    describe_counter!(
        "sse_frames_delivered_total",
        Unit::Count,
        "Frames written to streams"
    );
    describe_counter!(
        "sse_frames_dropped_total",
        Unit::Count,
        "Frames dropped unwritten, by reason: shed for more important ones, expired, coalesced, \
         cleared because the stream was closed as too slow (slow) or ended otherwise (cleared)"
    );
    describe_counter!(
        "sse_replayed_frames_total",
        Unit::Count,
        "Frames queued from history or the persistent cache for streams that opened"
    );
    describe_counter!(
        "sse_history_gaps_total",
        Unit::Count,
        "Streams told to resynchronise because history no longer reached their cursor"
    );
    describe_counter!(
        "sse_backplane_errors_total",
        Unit::Count,
        "Backplane errors, by operation"
    );
    describe_counter!("sse_streams_opened_total", Unit::Count, "Streams opened");
    describe_counter!(
        "sse_streams_closed_total",
        Unit::Count,
        "Streams ended, by reason"
    );
    describe_counter!(
        "sse_streams_rejected_total",
        Unit::Count,
        "Stream requests refused, by HTTP status and error code"
    );
    describe_gauge!(
        "sse_streams_open",
        Unit::Count,
        "Streams open on this instance"
    );
    describe_gauge!(
        "sse_queued_bytes",
        Unit::Bytes,
        "Bytes of frames waiting in queues"
    );
    describe_gauge!(
        "sse_history_bytes",
        Unit::Bytes,
        "Replay history held in this process"
    );
    describe_gauge!(
        "sse_history_entries",
        Unit::Count,
        "Entries held for replay"
    );
    describe_gauge!(
        "sse_persistent_bytes",
        Unit::Bytes,
        "The persistent-message cache"
    );
    describe_gauge!("sse_ledger_bytes", Unit::Bytes, "The delivery ledger");
    describe_gauge!(
        "sse_backplane_lag_entries",
        Unit::Count,
        "Entries read from a shared log and not yet dispatched here"
    );
    describe_gauge!(
        "sse_backplane_lag_seconds",
        Unit::Seconds,
        "How old the entry dispatched last is while others wait (0 when keeping up)"
    );
    describe_histogram!(
        "sse_publish_duration_seconds",
        Unit::Seconds,
        "From a send to its last enqueue on this instance"
    );
    describe_histogram!(
        "sse_recipients_per_message",
        Unit::Count,
        "Streams a message was queued for on this instance"
    );
    describe_histogram!(
        "sse_replay_length",
        Unit::Count,
        "Frames replayed to a resuming stream"
    );
    describe_histogram!(
        "sse_stream_duration_seconds",
        Unit::Seconds,
        "How long streams stayed open"
    );
}

/// Copies the hub's counts into the counters and gauges above.
///
/// # Examples
///
/// ```
/// let hub = sse_hub::Hub::new();
/// sse_tower::metrics::describe();
/// sse_tower::metrics::record(&hub); // a no-op without an installed recorder
/// ```
#[allow(clippy::cast_precision_loss, reason = "gauges are floating point")]
pub fn record(hub: &Hub) {
    let s = hub.stats();
    counter!("sse_messages_sent_total").absolute(s.messages_sent);
    counter!("sse_frames_delivered_total").absolute(s.delivered);
    for (reason, n) in [
        ("shed", s.shed),
        ("expired", s.expired),
        ("coalesced", s.coalesced),
        ("slow", s.cleared_slow),
        ("cleared", s.cleared.saturating_sub(s.cleared_slow)),
    ] {
        counter!("sse_frames_dropped_total", "reason" => reason).absolute(n);
    }
    counter!("sse_replayed_frames_total").absolute(s.replayed);
    counter!("sse_history_gaps_total").absolute(s.history_gaps);
    for op in BackplaneOp::ALL {
        counter!("sse_backplane_errors_total", "op" => op.as_str())
            .absolute(s.backplane_errors_by_op.get(op));
    }
    gauge!("sse_streams_open").set(s.total_connections as f64);
    gauge!("sse_queued_bytes").set(s.memory.queues as f64);
    gauge!("sse_history_bytes").set(s.memory.history as f64);
    gauge!("sse_history_entries").set(s.backplane.entries as f64);
    gauge!("sse_persistent_bytes").set(s.memory.persistent_cache as f64);
    gauge!("sse_ledger_bytes").set(s.memory.ledger as f64);
    gauge!("sse_backplane_lag_entries").set(s.backplane.lag_entries as f64);
    gauge!("sse_backplane_lag_seconds").set(s.backplane.lag_ms as f64 / 1000.0);
}
