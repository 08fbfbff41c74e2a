//! Reconnect and replay: exact, ordered and entitled replays, history gaps (trimmed, aged,
//! another epoch, too long, over the byte budget), persistent messages, and messages sent while
//! a replay is read.

use std::{sync::Arc, time::Duration};

use serde_json::{Value, json};
use sse_hub::{
    Backplane, Channel, ConnectOptions, Cursor, Entry, EntryStream, Envelope, EventType,
    HistoryConfig, Hub, Identity, InMemoryBackplane, Message, Replay, Role, UserId,
    error::BackplaneError,
    testing::{TestClock, drain},
};
use tokio::sync::Notify;

use crate::{
    payloads,
    support::{START, connect, msg, user},
};

#[tokio::test]
async fn replay_is_exact_ordered_entitled_and_without_duplicates() {
    let hub = Hub::new();
    let mut first = connect(
        &hub,
        user(1).channels([Channel::NOTIFICATIONS, Channel::CHAT]),
    )
    .await;
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

    let mut back = connect(
        &hub,
        user(1)
            .channels([Channel::NOTIFICATIONS, Channel::CHAT])
            .last_event_id(a.cursor),
    )
    .await;
    // Live messages sent after reconnecting follow the replay without a duplicate.
    hub.send(msg(Channel::CHAT, 7)).await.unwrap();
    let got = drain(&mut back);
    let values: Vec<Value> = got.iter().map(|e| e.payload()).collect();
    assert_eq!(values, [json!(2), json!(6), json!(7)]);
    let ids: Vec<Cursor> = got.iter().map(|e| e.id.parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(back.connected().replayed, 2);
    assert!(!back.connected().history_gap);
}

#[tokio::test]
async fn resume_at_the_head_replays_nothing() {
    let hub = Hub::new();
    let last = hub.send(msg(Channel::CHAT, 1)).await.unwrap();
    let mut sub = connect(
        &hub,
        user(1).channels([Channel::CHAT]).last_event_id(last.cursor),
    )
    .await;
    assert!(drain(&mut sub).is_empty());
    assert!(sub.connected().resumed);
}

/// Asserts that user 1 resuming on `chat` from `cursor` gets exactly one history-gap
/// `refresh`, whose SSE id is `id` (none: the frame has no `id:` field).
async fn assert_gap(hub: &Hub, cursor: Cursor, id: Option<Cursor>) {
    let mut sub = connect(hub, user(1).channels([Channel::CHAT]).last_event_id(cursor)).await;
    assert!(sub.connected().history_gap);
    assert!(!sub.connected().resumed);
    let got = drain(&mut sub);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].event, "refresh");
    assert_eq!(got[0].id, id.map_or_else(String::new, |c| c.to_string()));
    let json = got[0].json();
    assert_eq!(json["event"], "refresh");
    assert_eq!(
        json["data"],
        json!({"reason": "history-gap", "lastEventId": cursor.to_string(), "channels": ["chat"]})
    );
}

#[tokio::test(start_paused = true)]
async fn a_cursor_history_no_longer_covers_gets_a_history_gap_refresh() {
    let clock = TestClock::new(START);
    let hub = clock
        .hub()
        .history(
            HistoryConfig::default()
                .capacity(3)
                .max_age(Duration::from_secs(60)),
        )
        .build();
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
    let mut sub = connect(
        &hub,
        user(1).channels([Channel::CHAT]).last_event_id(second),
    )
    .await;
    assert_eq!(payloads(&mut sub), [json!(3), json!(4), json!(5)]);
    drop(sub);

    // Another epoch (the log restarted) and a cursor from the future are gaps too.
    assert_gap(&hub, Cursor::new(epoch + 1, 1, 0), head).await;
    assert_gap(&hub, Cursor::new(epoch, 99, 0), head).await;

    // Age: after 60 s nothing is left, so even the last cursor but one is a gap.
    clock.advance(Duration::from_secs(61)).await;
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

#[tokio::test(start_paused = true)]
async fn persistent_messages_reach_new_connections_once_and_expire() {
    let clock = TestClock::new(START);
    let hub = clock.hub().build();
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
    let mut fresh = connect(&hub, user(1).channels([Channel::ALERTS])).await;
    assert_eq!(payloads(&mut fresh), [json!("maintenance")]);
    let mut anonymous = connect(
        &hub,
        ConnectOptions::new(Identity::anonymous()).channels([Channel::ALERTS]),
    )
    .await;
    assert!(drain(&mut anonymous).is_empty());
    let admin = Identity::user(UserId::from(9)).with_role(Role::from_static("admin"));
    let mut admin = connect(&hub, ConnectOptions::new(admin).channels([Channel::ALERTS])).await;
    assert_eq!(
        payloads(&mut admin),
        [json!("maintenance"), json!("admins only")]
    );

    // A resuming connection that has seen it does not get it twice.
    let mut resumed = connect(
        &hub,
        user(1)
            .channels([Channel::ALERTS])
            .last_event_id(alert.cursor),
    )
    .await;
    assert_eq!(payloads(&mut resumed), [json!(2)]);

    // After its TTL it reaches nobody new.
    clock.advance(Duration::from_secs(60)).await;
    let mut late = connect(&hub, user(2).channels([Channel::ALERTS])).await;
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
    let mut sub = connect(&hub, user(1).channels([Channel::ALERTS])).await;
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
    let mut sub = connect(
        &hub,
        user(1)
            .channels([Channel::ALERTS])
            .last_event_id(old.cursor),
    )
    .await;
    let got = drain(&mut sub);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].event, "refresh");
    assert_eq!(got[1].payload(), json!("banner"));
}

/// The in-memory backplane with a replay that waits for a signal, so that a test can send
/// while a connection is between registering and receiving its replay.
#[derive(Debug)]
struct GatedReplay {
    inner: InMemoryBackplane,
    reached: Notify,
    gate: Notify,
}

#[async_trait::async_trait]
impl Backplane for GatedReplay {
    async fn publish(&self, envelope: Arc<Envelope>) -> Result<Entry, BackplaneError> {
        self.inner.publish(envelope).await
    }

    fn subscribe(&self) -> Option<EntryStream> {
        None
    }

    async fn replay(&self, after: &Cursor, max: usize) -> Result<Replay, BackplaneError> {
        self.reached.notify_one();
        self.gate.notified().await;
        self.inner.replay(after, max).await
    }
}

fn gated(history: HistoryConfig) -> (Hub, Arc<GatedReplay>) {
    let backplane = Arc::new(GatedReplay {
        inner: InMemoryBackplane::new(history),
        reached: Notify::new(),
        gate: Notify::new(),
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
            connect(
                &hub,
                user(1)
                    .channels([Channel::CHAT])
                    .last_event_id(first.cursor),
            )
            .await
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
            connect(
                &hub,
                user(1).channels([Channel::CHAT]).last_event_id(old.cursor),
            )
            .await
        }
    });
    backplane.reached.notified().await;
    hub.send(msg(Channel::CHAT, 4)).await.unwrap();
    backplane.gate.notify_one();
    let mut sub = connecting.await.unwrap();
    let got = drain(&mut sub);
    assert_eq!(got.len(), 2);
    // The head (message 4) is queued behind the refresh: resuming from it would skip it. The
    // refresh is the first frame drained, so an empty id means it has no `id:` field.
    assert_eq!((got[0].event.as_str(), got[0].id.as_str()), ("refresh", ""));
    assert_eq!(got[1].payload(), json!(4));
}

#[tokio::test]
async fn a_backlog_that_does_not_fit_the_queue_is_a_history_gap() {
    let hub = Hub::builder().queue_capacity(4).build();
    let first = hub.send(msg(Channel::CHAT, 0)).await.unwrap();
    for n in 1..=4 {
        hub.send(msg(Channel::CHAT, n)).await.unwrap();
    }
    // Four missed messages fit a queue of four.
    let mut fits = connect(
        &hub,
        user(1)
            .channels([Channel::CHAT])
            .last_event_id(first.cursor),
    )
    .await;
    assert_eq!(
        payloads(&mut fits),
        [json!(1), json!(2), json!(3), json!(4)]
    );
    drop(fits);
    // Five do not: the client is told to resynchronise, from the head, instead of being given
    // a backlog that the first live message would close as too slow.
    let fifth = hub.send(msg(Channel::CHAT, 5)).await.unwrap();
    assert_gap(&hub, first.cursor, Some(fifth.cursor)).await;
    assert_eq!(hub.stats().history_gaps, 1);
    assert_eq!(hub.stats().memory.queues, 0);

    // Persistent messages count too: a new connection with more of them than its queue holds
    // gets the refresh, and live messages after it.
    for n in 0..5 {
        hub.send(msg(Channel::ALERTS, n).persistent())
            .await
            .unwrap();
    }
    let mut fresh = connect(&hub, user(2).channels([Channel::ALERTS])).await;
    assert!(fresh.connected().history_gap);
    assert_eq!(fresh.connected().replayed, 0);
    let live = hub.send(msg(Channel::ALERTS, 9)).await.unwrap();
    let got = drain(&mut fresh);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0].is_history_gap());
    assert_eq!(got[0].json()["data"]["lastEventId"], Value::Null);
    assert_eq!(got[1].id, live.cursor.to_string());
    assert_eq!(hub.stats().history_gaps, 2);
}
