//! Hub behaviour: slow clients, replay, persistent messages, concurrency, statistics,
//! disconnects and shutdown.

use std::{sync::Arc, time::Duration};

use futures_util::FutureExt;
use serde_json::{Value, json};
use sse_core::{
    Backplane, Channel, Clock, ConnectOptions, Cursor, EntryStream, Envelope, EventType,
    HistoryConfig, Hub, Identity, InMemoryBackplane, ManualClock, Message, Replay, Role,
    Subscription, UserId,
    error::{ConnectError, SendError},
};

/// One decoded frame.
#[derive(Debug, Clone, PartialEq)]
struct Frame {
    id: Option<String>,
    event: Option<String>,
    data: Option<Value>,
    retry: Option<u64>,
}

/// Splits a chunk into frames. The hub's frames have one data line of JSON.
fn frames(chunk: &[u8]) -> Vec<Frame> {
    let text = std::str::from_utf8(chunk).unwrap();
    assert!(
        text.ends_with("\n\n"),
        "chunk must end with a blank line: {text:?}"
    );
    text.split_terminator("\n\n")
        .map(|block| {
            let mut frame = Frame {
                id: None,
                event: None,
                data: None,
                retry: None,
            };
            for line in block.lines() {
                let (field, value) = line.split_once(": ").unwrap();
                match field {
                    "id" => frame.id = Some(value.to_owned()),
                    "event" => frame.event = Some(value.to_owned()),
                    "data" => frame.data = Some(serde_json::from_str(value).unwrap()),
                    "retry" => frame.retry = Some(value.parse().unwrap()),
                    other => panic!("unexpected field {other}"),
                }
            }
            frame
        })
        .collect()
}

/// Everything queued right now, without waiting.
fn drain(sub: &mut Subscription) -> Vec<Frame> {
    let mut out = Vec::new();
    while let Some(Some(chunk)) = sub.recv().now_or_never() {
        out.extend(frames(&chunk));
    }
    out
}

/// The `data.data` payloads of the drained frames.
fn payloads(sub: &mut Subscription) -> Vec<Value> {
    drain(sub)
        .into_iter()
        .map(|f| f.data.unwrap()["data"].clone())
        .collect()
}

fn msg(channel: Channel, n: u64) -> Message {
    Message::new(channel, EventType::Data, json!(n))
}

fn user(id: u64) -> ConnectOptions {
    ConnectOptions::new(Identity::user(UserId::from(id)))
}

const START: u64 = 1_764_350_000_000;

fn manual_hub(
    configure: impl FnOnce(sse_core::HubBuilder) -> sse_core::HubBuilder,
) -> (Hub, ManualClock) {
    let clock = ManualClock::new(START);
    let hub = configure(Hub::builder().clock(Clock::from(clock.clone()))).build();
    (hub, clock)
}

#[tokio::test]
async fn frames_carry_cursor_event_and_payload() {
    let backplane = Arc::new(InMemoryBackplane::with_epoch(
        HistoryConfig::default(),
        Clock::from(ManualClock::new(START)),
        77,
    ));
    let hub = Hub::builder()
        .clock(Clock::from(ManualClock::new(START)))
        .backplane(backplane)
        .build();
    let mut sub = hub
        .connect(ConnectOptions::new(Identity::anonymous()).channels([Channel::SYSTEM]))
        .await
        .unwrap();
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
    let mut sub = hub
        .connect(user(1).channels([Channel::CHAT]))
        .await
        .unwrap();
    for n in 0..100 {
        hub.send(msg(Channel::CHAT, n)).await.unwrap();
    }
    let mut chunks = 0;
    let mut seen = Vec::new();
    while let Some(Some(chunk)) = sub.recv().now_or_never() {
        chunks += 1;
        seen.extend(
            frames(&chunk)
                .into_iter()
                .map(|f| f.data.unwrap()["data"].clone()),
        );
    }
    assert_eq!(chunks, 1);
    assert_eq!(seen, (0..100).map(|n| json!(n)).collect::<Vec<_>>());
}

#[tokio::test]
async fn priority_shedding_through_the_hub() {
    let (hub, _) = manual_hub(|b| b.queue_capacity(3));
    let mut sub = hub
        .connect(user(1).channels([Channel::ALERTS]))
        .await
        .unwrap();
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

#[tokio::test]
async fn expired_messages_are_never_written() {
    let (hub, clock) = manual_hub(|b| b);
    let mut sub = hub
        .connect(user(1).channels([Channel::TOASTS]))
        .await
        .unwrap();
    hub.send(msg(Channel::TOASTS, 1).ttl(Duration::from_secs(5)))
        .await
        .unwrap();
    hub.send(msg(Channel::TOASTS, 2)).await.unwrap();
    clock.advance(Duration::from_secs(5));
    assert_eq!(payloads(&mut sub), [json!(2)]);
    assert_eq!(hub.stats().expired, 1);
    assert_eq!(hub.connection_info(sub.id()).unwrap().dropped, 1);
}

#[tokio::test]
async fn expired_frames_make_room_in_a_full_queue() {
    let (hub, clock) = manual_hub(|b| b.queue_capacity(2));
    let mut sub = hub
        .connect(user(1).channels([Channel::TOASTS]))
        .await
        .unwrap();
    hub.send(msg(Channel::TOASTS, 1).ttl(Duration::from_secs(1)))
        .await
        .unwrap();
    hub.send(msg(Channel::TOASTS, 2)).await.unwrap();
    clock.advance(Duration::from_secs(1));
    let report = hub.send(msg(Channel::TOASTS, 3)).await.unwrap();
    assert_eq!((report.sent, report.closed), (1, 0));
    assert_eq!(payloads(&mut sub), [json!(2), json!(3)]);
    assert_eq!((hub.stats().expired, hub.stats().closed_slow), (1, 0));
}

#[tokio::test]
async fn coalescing_keeps_only_the_latest_refresh() {
    let hub = Hub::new();
    let mut sub = hub
        .connect(user(1).channels([Channel::ALERTS]))
        .await
        .unwrap();
    hub.invalidate_client_caches([Channel::ALERTS], None::<Vec<UserId>>)
        .await
        .unwrap();
    hub.send(msg(Channel::ALERTS, 7)).await.unwrap();
    hub.invalidate_client_caches([Channel::ALERTS], None::<Vec<UserId>>)
        .await
        .unwrap();
    let frames = drain(&mut sub);
    let events: Vec<_> = frames.iter().map(|f| f.event.clone().unwrap()).collect();
    assert_eq!(events, ["data", "refresh"]);
    assert_eq!(
        frames[1].data.as_ref().unwrap()["data"],
        json!({"type": "cache-invalidation", "channel": "alerts"})
    );
    assert_eq!(hub.stats().coalesced, 1);
}

#[tokio::test]
async fn a_client_that_cannot_keep_up_is_closed_with_retry_and_resumes() {
    let (hub, _) = manual_hub(|b| {
        b.queue_capacity(2)
            .reconnect_retry(Duration::from_millis(1500))
    });
    let mut slow = hub
        .connect(user(1).channels([Channel::CHAT]))
        .await
        .unwrap();
    let mut fast = hub
        .connect(user(2).channels([Channel::CHAT]))
        .await
        .unwrap();
    let first = hub.send(msg(Channel::CHAT, 1)).await.unwrap();
    assert_eq!(payloads(&mut fast), [json!(1)]);
    // The slow client reads the first message, then stops reading.
    let seen = drain(&mut slow);
    assert_eq!(
        seen[0].id.as_deref(),
        Some(first.cursor.to_string().as_str())
    );
    hub.send(msg(Channel::CHAT, 2)).await.unwrap();
    hub.send(msg(Channel::CHAT, 3)).await.unwrap();
    assert_eq!(payloads(&mut fast), [json!(2), json!(3)]);
    let report = hub.send(msg(Channel::CHAT, 4)).await.unwrap();
    assert_eq!((report.sent, report.closed), (1, 1));
    assert_eq!(payloads(&mut fast), [json!(4)]);

    // The slow stream ends with a final retry, and is gone from the hub at once.
    let last = drain(&mut slow);
    assert_eq!(
        last,
        [Frame {
            id: None,
            event: None,
            data: None,
            retry: Some(1500)
        }]
    );
    assert_eq!(slow.recv().await, None);
    assert_eq!(hub.connection_count(), 1);
    let stats = hub.stats();
    assert_eq!(stats.closed_slow, 1);
    assert_eq!(stats.memory.queues, 0);

    // It reconnects from what it last saw and gets everything it missed, in order.
    drop(slow);
    let mut back = hub
        .connect(
            user(1)
                .channels([Channel::CHAT])
                .last_event_id(first.cursor),
        )
        .await
        .unwrap();
    assert!(back.connected().resumed);
    assert_eq!(back.connected().replayed, 3);
    assert_eq!(payloads(&mut back), [json!(2), json!(3), json!(4)]);
}

#[tokio::test]
async fn replay_is_exact_ordered_entitled_and_without_duplicates() {
    let hub = Hub::new();
    let mut first = hub
        .connect(user(1).channels([Channel::NOTIFICATIONS, Channel::CHAT]))
        .await
        .unwrap();
    let a = hub.send(msg(Channel::NOTIFICATIONS, 1)).await.unwrap();
    assert_eq!(drain(&mut first).len(), 1);
    drop(first);

    hub.send(msg(Channel::CHAT, 2)).await.unwrap();
    hub.send(msg(Channel::NOTIFICATIONS, 3).to_users([2]))
        .await
        .unwrap(); // not for user 1
    hub.send(msg(Channel::SYSTEM, 4)).await.unwrap(); // not subscribed
    hub.send(msg(Channel::CHAT, 5).retryable(false))
        .await
        .unwrap(); // ephemeral
    hub.send(msg(Channel::NOTIFICATIONS, 6).to_users([1]))
        .await
        .unwrap();

    let mut back = hub
        .connect(
            user(1)
                .channels([Channel::NOTIFICATIONS, Channel::CHAT])
                .last_event_id(a.cursor),
        )
        .await
        .unwrap();
    // Live messages sent after reconnecting follow the replay without a duplicate.
    hub.send(msg(Channel::CHAT, 7)).await.unwrap();
    let got = drain(&mut back);
    let values: Vec<Value> = got
        .iter()
        .map(|f| f.data.as_ref().unwrap()["data"].clone())
        .collect();
    assert_eq!(values, [json!(2), json!(6), json!(7)]);
    let ids: Vec<Cursor> = got
        .iter()
        .map(|f| f.id.as_ref().unwrap().parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(back.connected().replayed, 2);
    assert!(!back.connected().history_gap);
}

#[tokio::test]
async fn resume_at_the_head_replays_nothing() {
    let hub = Hub::new();
    let last = hub.send(msg(Channel::CHAT, 1)).await.unwrap();
    let mut sub = hub
        .connect(user(1).channels([Channel::CHAT]).last_event_id(last.cursor))
        .await
        .unwrap();
    assert!(drain(&mut sub).is_empty());
    assert!(sub.connected().resumed);
}

async fn assert_gap(hub: &Hub, cursor: Cursor, id: Option<Cursor>) {
    let mut sub = hub
        .connect(user(1).channels([Channel::CHAT]).last_event_id(cursor))
        .await
        .unwrap();
    assert!(sub.connected().history_gap);
    assert!(!sub.connected().resumed);
    let got = drain(&mut sub);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].event.as_deref(), Some("refresh"));
    assert_eq!(got[0].id, id.map(|c| c.to_string()));
    let data = got[0].data.as_ref().unwrap();
    assert_eq!(data["event"], "refresh");
    assert_eq!(
        data["data"],
        json!({"reason": "history-gap", "lastEventId": cursor.to_string(), "channels": ["chat"]})
    );
}

#[tokio::test]
async fn a_cursor_history_no_longer_covers_gets_a_history_gap_refresh() {
    let (hub, clock) = manual_hub(|b| {
        b.history(
            HistoryConfig::default()
                .capacity(3)
                .max_age(Duration::from_secs(60)),
        )
    });
    let first = hub.send(msg(Channel::CHAT, 1)).await.unwrap();
    for n in 2..=5 {
        hub.send(msg(Channel::CHAT, n)).await.unwrap();
    }
    let epoch = first.cursor.epoch();
    let head = Some(Cursor::new(epoch, 5, 0));
    // Messages 1 and 2 were trimmed: a client that saw only 1 cannot be made whole. The
    // refresh carries the head, so the client resumes from there next time.
    assert_gap(&hub, first.cursor, head).await;
    // A client that saw 2 can.
    let second = Cursor::new(first.cursor.epoch(), 2, 0);
    let mut sub = hub
        .connect(user(1).channels([Channel::CHAT]).last_event_id(second))
        .await
        .unwrap();
    assert_eq!(payloads(&mut sub), [json!(3), json!(4), json!(5)]);
    drop(sub);

    // Another epoch (the log restarted) and a cursor from the future are gaps too.
    assert_gap(&hub, Cursor::new(epoch + 1, 1, 0), head).await;
    assert_gap(&hub, Cursor::new(epoch, 99, 0), head).await;

    // Age: after 60 s nothing is left, so even the last cursor but one is a gap.
    clock.advance(Duration::from_secs(61));
    assert_gap(&hub, Cursor::new(epoch, 3, 0), head).await;
    assert_eq!(hub.stats().history_gaps, 4);
}

#[tokio::test]
async fn replay_longer_than_the_limit_is_a_gap() {
    let hub = Hub::builder().max_replay(2).build();
    let first = hub.send(msg(Channel::CHAT, 1)).await.unwrap();
    for n in 2..=4 {
        hub.send(msg(Channel::CHAT, n)).await.unwrap();
    }
    let head = Cursor::new(first.cursor.epoch(), 4, 0);
    assert_gap(&hub, first.cursor, Some(head)).await;
}

#[tokio::test]
async fn persistent_messages_reach_new_connections_once_and_expire() {
    let (hub, clock) = manual_hub(|b| b);
    let alert = hub
        .send(
            Message::new(Channel::ALERTS, EventType::Alert, json!("maintenance"))
                .to_authenticated()
                .ttl(Duration::from_secs(60))
                .persistent(),
        )
        .await
        .unwrap();
    hub.send(msg(Channel::ALERTS, 2)).await.unwrap(); // not persistent
    hub.send(
        Message::new(Channel::ALERTS, EventType::Alert, json!("admins only"))
            .to_roles([Role::from_static("admin")])
            .persistent(),
    )
    .await
    .unwrap();
    assert_eq!(hub.stats().persistent_messages, 2);

    // A new connection gets the persistent messages it is entitled to, in order.
    let mut fresh = hub
        .connect(user(1).channels([Channel::ALERTS]))
        .await
        .unwrap();
    assert_eq!(payloads(&mut fresh), [json!("maintenance")]);
    let mut anonymous = hub
        .connect(ConnectOptions::new(Identity::anonymous()).channels([Channel::ALERTS]))
        .await
        .unwrap();
    assert!(drain(&mut anonymous).is_empty());
    let admin = Identity::user(UserId::from(9)).with_role(Role::from_static("admin"));
    let mut admin = hub
        .connect(ConnectOptions::new(admin).channels([Channel::ALERTS]))
        .await
        .unwrap();
    assert_eq!(
        payloads(&mut admin),
        [json!("maintenance"), json!("admins only")]
    );

    // A resuming connection that has seen it does not get it twice.
    let mut resumed = hub
        .connect(
            user(1)
                .channels([Channel::ALERTS])
                .last_event_id(alert.cursor),
        )
        .await
        .unwrap();
    assert_eq!(payloads(&mut resumed), [json!(2)]);

    // After its TTL it reaches nobody new.
    clock.advance(Duration::from_secs(60));
    let mut late = hub
        .connect(user(2).channels([Channel::ALERTS]))
        .await
        .unwrap();
    assert!(drain(&mut late).is_empty());
}

#[tokio::test]
async fn a_persistent_message_is_replaced_by_a_newer_one_with_the_same_key() {
    let hub = Hub::new();
    for text in ["v1", "v2"] {
        hub.send(
            Message::new(Channel::ALERTS, EventType::Alert, json!(text))
                .coalesce_key("banner:maintenance".parse().unwrap())
                .persistent(),
        )
        .await
        .unwrap();
    }
    let mut sub = hub
        .connect(user(1).channels([Channel::ALERTS]))
        .await
        .unwrap();
    assert_eq!(payloads(&mut sub), [json!("v2")]);
}

#[tokio::test]
async fn a_gap_still_delivers_the_persistent_messages_the_client_has_not_seen() {
    let hub = Hub::builder()
        .history(HistoryConfig::default().capacity(1))
        .build();
    let old = hub.send(msg(Channel::ALERTS, 1)).await.unwrap();
    hub.send(msg(Channel::ALERTS, 2)).await.unwrap();
    hub.send(Message::new(Channel::ALERTS, EventType::Alert, json!("banner")).persistent())
        .await
        .unwrap();
    let mut sub = hub
        .connect(
            user(1)
                .channels([Channel::ALERTS])
                .last_event_id(old.cursor),
        )
        .await
        .unwrap();
    let got = drain(&mut sub);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].event.as_deref(), Some("refresh"));
    assert_eq!(got[1].data.as_ref().unwrap()["data"], json!("banner"));
}

#[tokio::test]
async fn invalid_messages_are_rejected_and_reach_nobody() {
    let hub = Hub::builder().max_payload_bytes(100).build();
    let mut sub = hub
        .connect(user(1).channels([Channel::CHAT]))
        .await
        .unwrap();
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

#[tokio::test]
async fn disconnects_end_streams_with_retry() {
    let hub = Hub::builder()
        .reconnect_retry(Duration::from_secs(2))
        .build();
    let mut a1 = hub
        .connect(user(1).channels([Channel::CHAT]))
        .await
        .unwrap();
    let mut a2 = hub
        .connect(user(1).channels([Channel::ALERTS]))
        .await
        .unwrap();
    let mut b = hub
        .connect(user(2).channels([Channel::CHAT]))
        .await
        .unwrap();
    assert_eq!(hub.connections_of(&UserId::from(1)).len(), 2);

    assert!(hub.disconnect(b.id()));
    assert!(!hub.disconnect(b.id()));
    assert_eq!(drain(&mut b)[0].retry, Some(2000));
    assert_eq!(b.recv().await, None);

    assert_eq!(hub.disconnect_user(&UserId::from(1)), 2);
    for sub in [&mut a1, &mut a2] {
        assert_eq!(drain(sub)[0].retry, Some(2000));
        assert_eq!(sub.recv().await, None);
    }
    assert_eq!(hub.connection_count(), 0);
    assert!(hub.connection_info(a1.id()).is_none());
}

#[tokio::test]
async fn shutdown_ends_every_stream_with_a_jittered_retry_and_refuses_more() {
    let hub = Hub::builder()
        .reconnect_retry(Duration::from_secs(1))
        .shutdown_jitter(Duration::from_secs(4))
        .build();
    let mut subs = Vec::new();
    for id in 0..50 {
        subs.push(
            hub.connect(user(id).channels([Channel::SYSTEM]))
                .await
                .unwrap(),
        );
    }
    hub.send(msg(Channel::SYSTEM, 1)).await.unwrap();
    assert_eq!(hub.shutdown(), 50);
    let mut retries = std::collections::HashSet::new();
    for sub in &mut subs {
        // Queued messages are dropped: the client resumes them from history.
        let got = drain(sub);
        assert_eq!(got.len(), 1);
        let retry = got[0].retry.unwrap();
        assert!((1000..=5000).contains(&retry), "{retry}");
        retries.insert(retry);
        assert_eq!(sub.recv().await, None);
    }
    assert!(retries.len() > 1, "retry delays are spread");
    assert!(matches!(
        hub.connect(user(1).channels([Channel::SYSTEM])).await,
        Err(ConnectError::ShuttingDown)
    ));
    assert!(matches!(
        hub.send(msg(Channel::SYSTEM, 2)).await,
        Err(SendError::ShuttingDown)
    ));
    assert_eq!(hub.connection_count(), 0);
}

#[tokio::test]
async fn a_connection_needs_a_channel() {
    let hub = Hub::new();
    assert!(matches!(
        hub.connect(user(1)).await,
        Err(ConnectError::NoChannels)
    ));
    assert_eq!(hub.connection_count(), 0);
}

#[tokio::test]
async fn stats_after_a_scripted_scenario() {
    let (hub, clock) = manual_hub(|b| b.queue_capacity(2));
    let addr = "127.0.0.1:4000".parse().unwrap();
    let mut a = hub
        .connect(
            user(1)
                .channels([Channel::CHAT, Channel::ALERTS])
                .client_addr(addr),
        )
        .await
        .unwrap();
    let mut b = hub
        .connect(user(2).channels([Channel::CHAT]))
        .await
        .unwrap();
    let c = hub
        .connect(
            ConnectOptions::new(Identity::anonymous())
                .channels([Channel::ALERTS])
                .queue_capacity(1),
        )
        .await
        .unwrap();

    hub.send(msg(Channel::CHAT, 1)).await.unwrap(); // a, b
    hub.send(msg(Channel::ALERTS, 2)).await.unwrap(); // a, c
    clock.advance(Duration::from_secs(30));
    hub.send(msg(Channel::CHAT, 3).to_users([2])).await.unwrap(); // b
    assert_eq!(drain(&mut a).len(), 2);
    assert_eq!(drain(&mut b).len(), 2);
    hub.send(msg(Channel::ALERTS, 4)).await.unwrap(); // a; c is full and closed
    clock.advance(Duration::from_secs(31));

    let stats = hub.stats();
    assert_eq!(stats.total_connections, 2);
    assert_eq!(
        stats
            .connections_per_channel
            .iter()
            .map(|(c, n)| (c.as_str(), *n))
            .collect::<Vec<_>>(),
        [("alerts", 1), ("chat", 2)]
    );
    assert_eq!(stats.active_channels, 2);
    assert_eq!(stats.messages_sent, 4);
    assert_eq!(stats.messages_dispatched, 4);
    assert_eq!(stats.messages_per_minute, 2);
    assert_eq!(stats.queued, 6);
    assert_eq!(stats.delivered, 4);
    assert_eq!(stats.closed_slow, 1);
    assert_eq!((stats.shed, stats.expired, stats.coalesced), (0, 0, 0));
    assert_eq!(stats.backplane.entries, 4);
    assert!(stats.memory.history > 0);
    let one_frame = hub.connection_info(a.id()).unwrap();
    assert_eq!(one_frame.queue_len, 1);
    assert_eq!(stats.memory.queues, frames_bytes(&mut a));
    assert_eq!(one_frame.client_addr, Some(addr));
    assert_eq!(one_frame.connected_at, START);
    assert_eq!(one_frame.last_activity, START + 30_000);
    assert_eq!(one_frame.delivered, 2);
    assert_eq!(hub.stats().memory.queues, 0);
    drop(c);
    drop((a, b));
    assert_eq!(hub.stats().total_connections, 0);
    assert_eq!(hub.stats().active_channels, 0);
}

fn frames_bytes(sub: &mut Subscription) -> usize {
    sub.recv().now_or_never().flatten().map_or(0, |b| b.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_publishers_and_churning_connections() {
    const PUBLISHERS: u64 = 4;
    const PER_PUBLISHER: u64 = 250;
    let hub = Hub::builder().queue_capacity(4_096).build();

    // Long-lived connections that must see every message exactly once, in per-publisher order.
    let mut steady = Vec::new();
    for id in 0..8 {
        steady.push(
            hub.connect(user(id).channels([Channel::LIVE_UPDATES]))
                .await
                .unwrap(),
        );
    }
    let readers: Vec<_> = steady
        .into_iter()
        .map(|mut sub| {
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while seen.len() < (PUBLISHERS * PER_PUBLISHER) as usize {
                    let chunk = tokio::time::timeout(Duration::from_secs(10), sub.recv())
                        .await
                        .expect("messages keep arriving")
                        .expect("stream stays open");
                    seen.extend(
                        frames(&chunk)
                            .into_iter()
                            .map(|f| f.data.unwrap()["data"].clone()),
                    );
                }
                (sub, seen)
            })
        })
        .collect();

    // Connections that come and go while messages flow.
    let churn = {
        let hub = hub.clone();
        tokio::spawn(async move {
            for round in 0..200u64 {
                let sub = hub
                    .connect(user(1_000 + round).channels([Channel::LIVE_UPDATES]))
                    .await
                    .unwrap();
                tokio::task::yield_now().await;
                drop(sub);
            }
        })
    };
    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|p| {
            let hub = hub.clone();
            tokio::spawn(async move {
                for n in 0..PER_PUBLISHER {
                    hub.send(Message::new(
                        Channel::LIVE_UPDATES,
                        EventType::Data,
                        json!({"p": p, "n": n}),
                    ))
                    .await
                    .unwrap();
                }
            })
        })
        .collect();
    for p in publishers {
        p.await.unwrap();
    }
    churn.await.unwrap();
    for reader in readers {
        let (sub, seen) = reader.await.unwrap();
        assert_eq!(seen.len(), (PUBLISHERS * PER_PUBLISHER) as usize);
        for p in 0..PUBLISHERS {
            let order: Vec<u64> = seen
                .iter()
                .filter(|v| v["p"] == p)
                .map(|v| v["n"].as_u64().unwrap())
                .collect();
            assert_eq!(order, (0..PER_PUBLISHER).collect::<Vec<_>>());
        }
        drop(sub);
    }
    assert_eq!(hub.connection_count(), 0);
    let stats = hub.stats();
    assert_eq!(stats.messages_sent, PUBLISHERS * PER_PUBLISHER);
    assert_eq!(stats.total_connections, 0);
    assert_eq!(stats.memory.queues, 0);
    assert_eq!((stats.shed, stats.closed_slow), (0, 0));
}

/// The in-memory backplane with a replay that waits for a signal, so that a test can send
/// while a connection is between registering and receiving its replay.
#[derive(Debug)]
struct GatedReplay {
    inner: InMemoryBackplane,
    reached: tokio::sync::Notify,
    gate: tokio::sync::Notify,
}

#[async_trait::async_trait]
impl Backplane for GatedReplay {
    async fn publish(
        &self,
        envelope: Arc<Envelope>,
    ) -> Result<sse_core::Entry, sse_core::error::BackplaneError> {
        self.inner.publish(envelope).await
    }

    fn subscribe(&self) -> Option<EntryStream> {
        None
    }

    async fn replay(
        &self,
        after: &Cursor,
        max: usize,
    ) -> Result<Replay, sse_core::error::BackplaneError> {
        self.reached.notify_one();
        self.gate.notified().await;
        self.inner.replay(after, max).await
    }
}

fn gated(history: HistoryConfig) -> (Hub, Arc<GatedReplay>) {
    let backplane = Arc::new(GatedReplay {
        inner: InMemoryBackplane::new(history),
        reached: tokio::sync::Notify::new(),
        gate: tokio::sync::Notify::new(),
    });
    let hub = Hub::builder().backplane(backplane.clone()).build();
    (hub, backplane)
}

#[tokio::test]
async fn a_message_sent_while_the_replay_is_read_arrives_once_after_it() {
    let (hub, backplane) = gated(HistoryConfig::default());
    let first = hub.send(msg(Channel::CHAT, 1)).await.unwrap();
    for n in 2..=3 {
        hub.send(msg(Channel::CHAT, n)).await.unwrap();
    }
    let connecting = tokio::spawn({
        let hub = hub.clone();
        async move {
            hub.connect(
                user(1)
                    .channels([Channel::CHAT])
                    .last_event_id(first.cursor),
            )
            .await
            .unwrap()
        }
    });
    backplane.reached.notified().await;
    // Registered, replay not read yet: this one is queued live and is in history too.
    let live = hub.send(msg(Channel::CHAT, 4)).await.unwrap();
    assert_eq!(live.sent, 1);
    backplane.gate.notify_one();
    let mut sub = connecting.await.unwrap();
    assert_eq!(sub.connected().replayed, 2);
    assert_eq!(payloads(&mut sub), [json!(2), json!(3), json!(4)]);
}

#[tokio::test]
async fn a_gap_refresh_carries_no_id_when_newer_messages_are_already_queued() {
    let (hub, backplane) = gated(HistoryConfig::default().capacity(1));
    let old = hub.send(msg(Channel::CHAT, 1)).await.unwrap();
    hub.send(msg(Channel::CHAT, 2)).await.unwrap();
    hub.send(msg(Channel::CHAT, 3)).await.unwrap();
    let connecting = tokio::spawn({
        let hub = hub.clone();
        async move {
            hub.connect(user(1).channels([Channel::CHAT]).last_event_id(old.cursor))
                .await
                .unwrap()
        }
    });
    backplane.reached.notified().await;
    hub.send(msg(Channel::CHAT, 4)).await.unwrap();
    backplane.gate.notify_one();
    let mut sub = connecting.await.unwrap();
    let got = drain(&mut sub);
    assert_eq!(got.len(), 2);
    // The head (message 4) is queued behind the refresh: resuming from it would skip it.
    assert_eq!(
        (got[0].event.as_deref(), got[0].id.as_deref()),
        (Some("refresh"), None)
    );
    assert_eq!(got[1].data.as_ref().unwrap()["data"], json!(4));
}

#[tokio::test]
async fn history_keeps_to_its_byte_budget() {
    let hub = Hub::builder()
        .history(HistoryConfig::default().max_bytes(2_000))
        .build();
    let first = hub
        .send(msg(Channel::CHAT, 0).id("m0".parse().unwrap()))
        .await
        .unwrap();
    for n in 1..20 {
        hub.send(
            Message::new(Channel::CHAT, EventType::Data, json!("x".repeat(200))).priority(n % 10),
        )
        .await
        .unwrap();
    }
    let stats = hub.stats();
    assert!(stats.memory.history <= 2_000, "{}", stats.memory.history);
    assert!(stats.backplane.entries < 20);
    assert_gap(
        &hub,
        first.cursor,
        Some(Cursor::new(first.cursor.epoch(), 20, 0)),
    )
    .await;
}
