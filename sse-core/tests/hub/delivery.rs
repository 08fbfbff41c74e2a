//! Delivery: frames on the wire, batching, priority shedding, TTLs, coalescing, clients that
//! cannot keep up, and messages the hub refuses.

use std::{sync::Arc, time::Duration};

use futures_util::FutureExt;
use serde_json::json;
use sse_hub::{
    Channel, ConnectOptions, Cursor, EventType, HistoryConfig, Hub, Identity, InMemoryBackplane,
    Message, UserId,
    error::SendError,
    testing::{Event, TestClock, decode, drain},
};

use crate::{
    payloads,
    support::{START, connect, msg, user},
};

#[tokio::test]
async fn frames_carry_cursor_event_and_payload() {
    let clock = TestClock::new(START);
    let backplane = Arc::new(InMemoryBackplane::with_epoch(
        HistoryConfig::default(),
        clock.clock(),
        77,
    ));
    let hub = clock.hub().backplane(backplane).build();
    let mut sub = connect(
        &hub,
        ConnectOptions::new(Identity::anonymous()).channels([Channel::SYSTEM]),
    )
    .await;
    let report = hub
        .send(
            Message::new(Channel::SYSTEM, EventType::Broadcast, json!({"m": 1}))
                .id("fixed".parse().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(report.cursor, Cursor::new(77, 1, 0));
    assert_eq!(report.sent, 1);
    let chunk = sub.recv().await.unwrap();
    assert_eq!(
        std::str::from_utf8(&chunk).unwrap(),
        format!(
            "id: 77-1-0\nevent: broadcast\ndata: {{\"id\":\"fixed\",\"channel\":\"system\",\"event\":\"broadcast\",\"data\":{{\"m\":1}},\"timestamp\":{START}}}\n\n"
        )
    );
}

#[tokio::test]
async fn queued_frames_come_out_in_one_chunk_in_order() {
    let hub = Hub::new();
    let mut sub = connect(&hub, user(1).channels([Channel::CHAT])).await;
    for n in 0..100 {
        hub.send(msg(Channel::CHAT, n)).await.unwrap();
    }
    let mut chunks = 0;
    let mut seen = Vec::new();
    while let Some(Some(chunk)) = sub.recv().now_or_never() {
        chunks += 1;
        assert!(chunk.ends_with(b"\n\n"), "a chunk holds whole frames");
        seen.extend(decode(&chunk).iter().map(Event::payload));
    }
    assert_eq!(chunks, 1);
    assert_eq!(seen, (0..100).map(|n| json!(n)).collect::<Vec<_>>());
}

#[tokio::test]
async fn priority_shedding_through_the_hub() {
    let hub = TestClock::new(START).hub().queue_capacity(3).build();
    let mut sub = connect(&hub, user(1).channels([Channel::ALERTS])).await;
    hub.send(msg(Channel::ALERTS, 1).priority(2)).await.unwrap();
    hub.send(msg(Channel::ALERTS, 2).priority(5)).await.unwrap();
    hub.send(msg(Channel::ALERTS, 3).priority(2)).await.unwrap();
    // Full: the oldest lowest-priority frame (1) makes room for the urgent one.
    let report = hub.send(msg(Channel::ALERTS, 4).priority(9)).await.unwrap();
    assert_eq!((report.sent, report.shed, report.closed), (1, 0, 0));
    // Full of more important frames: the new, least important one is shed itself.
    let report = hub.send(msg(Channel::ALERTS, 5).priority(1)).await.unwrap();
    assert_eq!((report.sent, report.shed, report.closed), (0, 1, 0));
    assert_eq!(payloads(&mut sub), [json!(2), json!(3), json!(4)]);
    let stats = hub.stats();
    assert_eq!((stats.shed, stats.queued, stats.delivered), (2, 4, 3));
    let info = hub.connection_info(sub.id()).unwrap();
    assert_eq!((info.delivered, info.dropped, info.queue_len), (3, 2, 0));
}

#[tokio::test(start_paused = true)]
async fn expired_messages_are_never_written() {
    let clock = TestClock::new(START);
    let hub = clock.hub().build();
    let mut sub = connect(&hub, user(1).channels([Channel::TOASTS])).await;
    hub.send(msg(Channel::TOASTS, 1).ttl(Duration::from_secs(5)))
        .await
        .unwrap();
    hub.send(msg(Channel::TOASTS, 2)).await.unwrap();
    clock.advance(Duration::from_secs(5)).await;
    assert_eq!(payloads(&mut sub), [json!(2)]);
    assert_eq!(hub.stats().expired, 1);
    assert_eq!(hub.connection_info(sub.id()).unwrap().dropped, 1);
}

#[tokio::test(start_paused = true)]
async fn expired_frames_make_room_in_a_full_queue() {
    let clock = TestClock::new(START);
    let hub = clock.hub().queue_capacity(2).build();
    let mut sub = connect(&hub, user(1).channels([Channel::TOASTS])).await;
    hub.send(msg(Channel::TOASTS, 1).ttl(Duration::from_secs(1)))
        .await
        .unwrap();
    hub.send(msg(Channel::TOASTS, 2)).await.unwrap();
    clock.advance(Duration::from_secs(1)).await;
    let report = hub.send(msg(Channel::TOASTS, 3)).await.unwrap();
    assert_eq!((report.sent, report.closed), (1, 0));
    assert_eq!(payloads(&mut sub), [json!(2), json!(3)]);
    assert_eq!((hub.stats().expired, hub.stats().closed_slow), (1, 0));
}

#[tokio::test]
async fn coalescing_keeps_only_the_latest_refresh() {
    let hub = Hub::new();
    let mut sub = connect(&hub, user(1).channels([Channel::ALERTS])).await;
    hub.invalidate_client_caches([Channel::ALERTS], None::<Vec<UserId>>)
        .await
        .unwrap();
    hub.send(msg(Channel::ALERTS, 7)).await.unwrap();
    hub.invalidate_client_caches([Channel::ALERTS], None::<Vec<UserId>>)
        .await
        .unwrap();
    let events = drain(&mut sub);
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names, ["data", "refresh"]);
    assert_eq!(
        events[1].payload(),
        json!({"type": "cache-invalidation", "channel": "alerts"})
    );
    assert_eq!(hub.stats().coalesced, 1);
}

#[tokio::test]
async fn a_client_that_cannot_keep_up_is_closed_with_retry_and_resumes() {
    let hub = TestClock::new(START)
        .hub()
        .queue_capacity(2)
        .reconnect_retry(Duration::from_millis(1500))
        .build();
    let mut slow = connect(&hub, user(1).channels([Channel::CHAT])).await;
    let mut fast = connect(&hub, user(2).channels([Channel::CHAT])).await;
    let first = hub.send(msg(Channel::CHAT, 1)).await.unwrap();
    assert_eq!(payloads(&mut fast), [json!(1)]);
    // The slow client reads the first message, then stops reading.
    let seen = drain(&mut slow);
    assert_eq!(seen[0].id, first.cursor.to_string());
    hub.send(msg(Channel::CHAT, 2)).await.unwrap();
    hub.send(msg(Channel::CHAT, 3)).await.unwrap();
    assert_eq!(payloads(&mut fast), [json!(2), json!(3)]);
    let report = hub.send(msg(Channel::CHAT, 4)).await.unwrap();
    assert_eq!((report.sent, report.closed), (1, 1));
    assert_eq!(payloads(&mut fast), [json!(4)]);

    // The slow stream ends with a final retry (a frame with no other field), and is gone from
    // the hub at once.
    let last = drain(&mut slow);
    assert_eq!(
        last,
        [Event {
            id: String::new(),
            event: String::new(),
            data: String::new(),
            retry: Some(Duration::from_millis(1500)),
        }]
    );
    assert_eq!(slow.recv().await, None);
    assert_eq!(hub.connection_count(), 1);
    let stats = hub.stats();
    assert_eq!(stats.closed_slow, 1);
    assert_eq!(stats.memory.queues, 0);

    // It reconnects from what it last saw and gets everything it missed, in order (with a
    // queue that holds the three: a backlog that does not fit is a history gap).
    drop(slow);
    let mut back = connect(
        &hub,
        user(1)
            .channels([Channel::CHAT])
            .queue_capacity(4)
            .last_event_id(first.cursor),
    )
    .await;
    assert!(back.connected().resumed);
    assert_eq!(back.connected().replayed, 3);
    assert_eq!(payloads(&mut back), [json!(2), json!(3), json!(4)]);
}

#[tokio::test]
async fn invalid_messages_are_rejected_and_reach_nobody() {
    let hub = Hub::builder().max_payload_bytes(100).build();
    let mut sub = connect(&hub, user(1).channels([Channel::CHAT])).await;
    let cases: Vec<(Message, &str, &str)> = vec![
        (
            msg(Channel::CHAT, 1).priority(11),
            "priority",
            "priority is 11; the maximum is 10",
        ),
        (
            msg(Channel::CHAT, 1).ttl(Duration::ZERO),
            "ttl",
            "ttl is 0; omit ttl for a message that does not expire",
        ),
        (
            Message::new(Channel::CHAT, EventType::Data, json!("x".repeat(200)))
                .id("m-1".parse().unwrap())
                .timestamp(START),
            "data",
            "data is too large: the encoded event is 280 bytes; the maximum is 100",
        ),
        (
            msg(Channel::CHAT, 1).to_users(Vec::<u64>::new()),
            "targetUsers",
            "target user-specific needs a non-empty targetUsers",
        ),
    ];
    for (message, field, text) in cases {
        match hub.send(message).await {
            Err(SendError::Invalid(err)) => {
                assert_eq!(err.field(), field);
                assert_eq!(err.to_string(), text);
            }
            other => panic!("expected an invalid message, got {other:?}"),
        }
    }
    // A good message still goes through.
    hub.send(msg(Channel::CHAT, 2)).await.unwrap();
    assert_eq!(payloads(&mut sub), [json!(2)]);
    assert_eq!(hub.stats().messages_sent, 1);
}
