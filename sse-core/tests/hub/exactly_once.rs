//! Exactly once across reconnects, under load: clients drop and resume at random while a
//! publisher sends a numbered sequence; each ends with every message from its first one on,
//! once and in order.

use serde_json::json;
use sse_hub::{Channel, HistoryConfig, Hub, testing::flaky_client};

use crate::support::{assert_every_one_once, msg, user};

const MESSAGES: u64 = 2_000;
const CLIENTS: u64 = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_dropping_and_resuming_at_random_get_every_message_once_in_order() {
    let hub = Hub::builder()
        .history(HistoryConfig::default().capacity(4 * MESSAGES as usize))
        .max_replay(4 * MESSAGES as usize)
        .queue_capacity(4 * MESSAGES as usize)
        .build();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|seed| {
            let hub = hub.clone();
            tokio::spawn(async move {
                let options = move || user(seed).channels([Channel::CHAT]);
                let events = flaky_client(&[hub], options, seed, |events| {
                    events
                        .last()
                        .is_some_and(|e| e.payload() == json!(MESSAGES - 1))
                })
                .await;
                events
                    .iter()
                    .map(|e| e.payload().as_u64().expect("a number"))
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    for n in 0..MESSAGES {
        hub.send(msg(Channel::CHAT, n)).await.unwrap();
        if n % 16 == 0 {
            tokio::task::yield_now().await;
        }
    }
    for (seed, client) in clients.into_iter().enumerate() {
        assert_every_one_once(seed, &client.await.unwrap(), MESSAGES);
    }
    assert_eq!(hub.stats().history_gaps, 0);
}
