//! Whose clock decides: the hub's. A publisher's `timestamp` is shown to clients as data, but
//! TTL expiry, history age and replay order follow the time the hub received the message.

use std::time::Duration;

use serde_json::json;
use sse_hub::{Channel, HistoryConfig, Message, testing::TestClock};

use crate::{
    payloads,
    support::{START, connect, user},
};

fn stamped(n: u64, timestamp: u64) -> Message {
    serde_json::from_value(json!({
        "channel": "chat",
        "event": "data",
        "data": n,
        "timestamp": timestamp,
        "ttl": 60
    }))
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_publishers_timestamp_is_data_and_the_hubs_clock_decides() {
    let clock = TestClock::new(START);
    let hub = clock
        .hub()
        .history(HistoryConfig::default().max_age(Duration::from_secs(300)))
        .build();
    let mut live = connect(&hub, user(1).channels([Channel::CHAT])).await;
    let before = hub.send(stamped(0, START)).await.unwrap();

    // A timestamp from 1970 with a TTL of a minute: still delivered, and kept for replay.
    let ancient = hub.send(stamped(1, 1)).await.unwrap();
    // A timestamp far in the future with the same TTL: it expires with the hub's minute.
    let future = hub
        .send(stamped(2, START + 365 * 24 * 3_600_000))
        .await
        .unwrap();
    assert_eq!((ancient.sent, future.sent), (1, 1));
    let events = sse_hub::testing::drain(&mut live);
    assert_eq!(
        events
            .iter()
            .map(|e| e.json()["timestamp"].clone())
            .collect::<Vec<_>>(),
        [json!(START), json!(1), json!(START + 365 * 24 * 3_600_000)],
        "the publisher's timestamp is shown as it was given"
    );

    // Replay after a reconnect returns both, in log order.
    let mut back = connect(
        &hub,
        user(1)
            .channels([Channel::CHAT])
            .last_event_id(before.cursor),
    )
    .await;
    assert_eq!(payloads(&mut back), [json!(1), json!(2)]);
    drop(back);

    // A minute of the hub's time later, both have expired, whatever their timestamps said.
    clock.advance(Duration::from_secs(60)).await;
    hub.send(stamped(3, START + 365 * 24 * 3_600_000))
        .await
        .unwrap();
    let mut late = connect(
        &hub,
        user(1)
            .channels([Channel::CHAT])
            .last_event_id(before.cursor),
    )
    .await;
    assert_eq!(payloads(&mut late), [json!(3)]);
}
