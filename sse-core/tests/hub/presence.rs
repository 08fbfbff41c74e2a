//! Presence on a process-local hub: who is connected to a channel, and joins and leaves for
//! the connections that ask for them, with the leave held for the debounce time.

use std::time::Duration;

use serde_json::json;
use sse_hub::{
    Channel, ConnectOptions, Hub, Identity, Subscription, UserId,
    testing::{Events, TestClock, drain},
};

use crate::support::{START, connect, msg};

fn user(id: u64) -> ConnectOptions {
    ConnectOptions::new(Identity::user(UserId::from(id))).channels([Channel::CHAT])
}

fn watcher() -> ConnectOptions {
    ConnectOptions::new(Identity::user(UserId::from(99)))
        .channels([Channel::CHAT])
        .presence(true)
}

/// A hub on `clock` announcing presence on `chat`, with its presence driver running.
fn hub(clock: &TestClock) -> Hub {
    let hub = clock.hub().presence_channels([Channel::CHAT]).build();
    let driver = hub.clone();
    tokio::spawn(async move { driver.run_presence(tokio::time::sleep).await });
    hub
}

/// The presence events a watcher has received, as `(event, data)`.
async fn presence_events(events: &mut Events) -> Vec<(String, serde_json::Value)> {
    let mut seen = Vec::new();
    while let Some(event) = events.try_next() {
        if event.event.starts_with("presence-") {
            seen.push((event.event.clone(), event.payload()));
        }
    }
    seen
}

#[tokio::test(start_paused = true)]
async fn presence_lists_users_with_their_tabs_and_counts_anonymous_connections() {
    let clock = TestClock::new(START);
    let hub = hub(&clock);
    let _a1 = connect(&hub, user(1)).await;
    clock.advance(Duration::from_secs(1)).await;
    let _a2 = connect(&hub, user(1)).await;
    let _b = connect(&hub, user(2)).await;
    let _guest = connect(
        &hub,
        ConnectOptions::new(Identity::anonymous()).channels([Channel::CHAT]),
    )
    .await;
    let _elsewhere = connect(&hub, user(3).channels([Channel::ALERTS])).await;

    let here = hub.presence(&Channel::CHAT).await;
    let json = serde_json::to_value(&here).unwrap();
    assert_eq!(
        (
            &json["channel"],
            &json["users"],
            &json["anonymous"],
            &json["total"]
        ),
        (
            &json!("chat"),
            &json!([
                {"userId": "1", "connections": 2, "since": START},
                {"userId": "2", "connections": 1, "since": START + 1_000},
            ]),
            &json!(1),
            &json!(4)
        )
    );
    assert_eq!(here.instances, [hub.instance()]);
    assert_eq!(hub.presence(&Channel::TOASTS).await.total, 0);
}

#[tokio::test(start_paused = true)]
async fn first_connection_joins_last_one_leaves_after_the_debounce() {
    let clock = TestClock::new(START);
    let hub = hub(&clock);
    let mut watching = Events::from_subscription(connect(&hub, watcher()).await);
    let mut not_asking = connect(&hub, user(50)).await;
    // The watcher's own join, then the other's.
    for id in ["99", "50"] {
        let join = watching.expect_event("presence-join").await;
        assert_eq!(join.payload(), json!({"userId": id, "connections": 1}));
    }
    drain(&mut not_asking);

    let first = connect(&hub, user(1)).await;
    let second = connect(&hub, user(1)).await;
    let join = watching.expect_event("presence-join").await;
    assert_eq!(join.payload(), json!({"userId": "1", "connections": 1}));
    // Presence events are not retryable: a client resuming from before one does not get it.
    let before = hub.send(msg(Channel::SYSTEM, 0)).await.unwrap();
    let late = connect(&hub, user(7)).await;
    let leaving = watching.expect_event("presence-join").await;
    assert_eq!(leaving.payload()["userId"], "7");
    let mut resumed = connect(&hub, watcher().last_event_id(before.cursor)).await;
    assert!(
        drain(&mut resumed)
            .iter()
            .all(|e| !e.event.starts_with("presence-")),
        "replayed a presence event"
    );
    drop(late);

    drop(first);
    drop(second);
    // Held for the debounce time.
    clock.advance(Duration::from_millis(4_999)).await;
    assert_eq!(presence_events(&mut watching).await, []);
    clock.advance(Duration::from_millis(1)).await;
    let mut left: Vec<_> = vec![
        watching.expect_event("presence-leave").await.payload(),
        watching.expect_event("presence-leave").await.payload(),
    ];
    left.sort_by_key(|data| data["userId"].as_str().unwrap().to_owned());
    assert_eq!(
        left,
        [
            json!({"userId": "1", "connections": 0}),
            json!({"userId": "7", "connections": 0}),
        ]
    );

    // Connections that did not ask for presence get none of it.
    assert!(
        drain(&mut not_asking)
            .iter()
            .all(|e| !e.event.starts_with("presence-"))
    );
}

#[tokio::test(start_paused = true)]
async fn a_reconnect_within_the_debounce_is_neither_a_leave_nor_a_join() {
    let clock = TestClock::new(START);
    let hub = hub(&clock);
    let mut watching = Events::from_subscription(connect(&hub, watcher()).await);
    watching.expect_event("presence-join").await;
    let tab: Subscription = connect(&hub, user(1)).await;
    watching.expect_event("presence-join").await;

    drop(tab);
    clock.advance(Duration::from_secs(3)).await;
    let _back = connect(&hub, user(1)).await;
    clock.advance(Duration::from_secs(10)).await;
    hub.send(msg(Channel::CHAT, 1)).await.unwrap();
    let next = watching.next().await.unwrap();
    assert_eq!(next.event, "data", "no presence event came first: {next}");

    // Anonymous connections never produce events.
    let guest = connect(
        &hub,
        ConnectOptions::new(Identity::anonymous()).channels([Channel::CHAT]),
    )
    .await;
    drop(guest);
    clock.advance(Duration::from_secs(10)).await;
    assert_eq!(presence_events(&mut watching).await, []);
}
