//! A client whose connection drops at random, for exactly-once tests.

use std::time::Duration;

use crate::{ConnectOptions, Cursor, Hub, Subscription};

use super::{Event, decode};

/// A client that keeps losing its connection: it connects, reads a random number of chunks,
/// drops the connection and resumes from the last event id it received, each time on the next
/// of `hubs` (as a client whose reconnect reaches another instance), until `done` holds for
/// the events received so far. Returns those events in the order received (retry-only frames
/// left out).
///
/// The drops follow a generator seeded with `seed`, so a failing run can be repeated.
///
/// # Panics
///
/// When a hub refuses the connection, or no chunk arrives within 10 seconds.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use serde_json::json;
/// use sse_hub::{Channel, ConnectOptions, EventType, Hub, Identity, Message, testing};
///
/// let hub = Hub::new();
/// let publisher = tokio::spawn({
///     let hub = hub.clone();
///     async move {
///         for n in 0..50 {
///             hub.send(Message::new(Channel::CHAT, EventType::Data, json!(n))).await.unwrap();
///             tokio::task::yield_now().await;
///         }
///     }
/// });
/// let options = || ConnectOptions::new(Identity::anonymous()).channels([Channel::CHAT]);
/// let events = testing::flaky_client(&[hub], options, 7, |events| {
///     events.last().is_some_and(|e| e.payload() == json!(49))
/// })
/// .await;
/// let numbers: Vec<u64> = events.iter().map(|e| e.payload().as_u64().unwrap()).collect();
/// let first = numbers[0];
/// assert_eq!(numbers, (first..50).collect::<Vec<_>>(), "every message from the first, once");
/// publisher.await.unwrap();
/// # }
/// ```
pub async fn flaky_client(
    hubs: &[crate::Hub],
    options: impl Fn() -> ConnectOptions,
    seed: u64,
    mut done: impl FnMut(&[Event]) -> bool,
) -> Vec<Event> {
    assert!(!hubs.is_empty(), "a flaky client needs a hub");
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut received: Vec<Event> = Vec::new();
    let mut last: Option<Cursor> = None;
    for attempt in 0.. {
        let hub: &Hub = &hubs[attempt % hubs.len()];
        let mut options = options();
        if let Some(last) = last {
            options = options.last_event_id(last);
        }
        let mut subscription = hub
            .connect(options)
            .await
            .unwrap_or_else(|err| panic!("connection {attempt} refused: {err}"));
        for _ in 0..rng.usize(0..8) {
            let Some(events) = next_chunk(&mut subscription).await else {
                // The hub ended the stream (a slow client): resume.
                break;
            };
            for event in events.into_iter().filter(|e| !e.is_retry_only()) {
                if let Ok(cursor) = event.id.parse() {
                    last = Some(cursor);
                }
                received.push(event);
            }
            if done(&received) {
                return received;
            }
        }
    }
    unreachable!("the loop returns")
}

async fn next_chunk(subscription: &mut Subscription) -> Option<Vec<Event>> {
    match tokio::time::timeout(Duration::from_secs(10), subscription.recv()).await {
        Ok(chunk) => chunk.map(|chunk| decode(&chunk)),
        Err(_) => panic!("no chunk within 10 s on {subscription:?}"),
    }
}
