//! Helpers shared by the integration tests of sse-hub: the instant their clocks start at, a
//! numbered message, a user's connection options, and connecting. Decoding and asserting on
//! streams is the job of `sse_hub::testing`.

#![allow(dead_code, reason = "every test binary uses a part of the helpers")]

use serde_json::json;
use sse_hub::{Channel, ConnectOptions, EventType, Hub, Identity, Message, Subscription, UserId};

/// Where the tests' clocks start, in milliseconds since the Unix epoch.
pub(crate) const START: u64 = 1_764_350_000_000;

/// A `data` message on `channel` whose data is `n`.
pub(crate) fn msg(channel: Channel, n: u64) -> Message {
    Message::new(channel, EventType::Data, json!(n))
}

/// A connection of the signed-in user `id`, on no channel yet.
pub(crate) fn user(id: u64) -> ConnectOptions {
    ConnectOptions::new(Identity::user(UserId::from(id)))
}

/// Connects `options` to `hub`, which must accept the connection.
pub(crate) async fn connect(hub: &Hub, options: ConnectOptions) -> Subscription {
    hub.connect(options)
        .await
        .expect("the hub accepts the connection")
}

/// Asserts that `numbers` (what client `client` received) are every number from its first one
/// up to `end` (excluded), once and in order; names the first one out of place.
#[track_caller]
pub(crate) fn assert_every_one_once(client: usize, numbers: &[u64], end: u64) {
    let first = *numbers.first().expect("the client received something");
    let expected: Vec<u64> = (first..end).collect();
    if let Some(at) =
        (0..numbers.len().max(expected.len())).find(|&i| numbers.get(i) != expected.get(i))
    {
        panic!(
            "client {client}: at position {at} received {:?} where {:?} was due (around: {:?})",
            numbers.get(at),
            expected.get(at),
            &numbers[at.saturating_sub(3)..(at + 3).min(numbers.len())]
        );
    }
}
