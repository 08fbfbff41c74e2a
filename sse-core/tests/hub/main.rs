//! Hub behaviour: delivery to slow clients, replay and persistent messages, and the lifecycle
//! of connections (disconnects, shutdown, statistics, concurrency).
//!
//! Streams are read with `sse_hub::testing`: `drain` decodes everything a subscription has
//! queued, without waiting.

use serde_json::Value;
use sse_hub::{
    Subscription,
    testing::{Event, drain},
};

#[path = "../support/mod.rs"]
mod support;

mod clock;
mod cluster;
mod delivery;
mod exactly_once;
mod explain;
mod idempotency;
mod lifecycle;
mod model;
mod presence;
mod replay;

/// The message data (`payload`) of everything `subscription` has queued now, in order.
fn payloads(subscription: &mut Subscription) -> Vec<Value> {
    drain(subscription).iter().map(Event::payload).collect()
}
