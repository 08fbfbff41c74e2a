//! Reconnecting to another instance: replay from the shared stream, or a history gap.

mod common;

use std::sync::Arc;

use common::{Instance, TestKey, dispatched, expect_gap, message};
use serde_json::json;
use sse_hub::{
    Backplane, Channel, ConnectOptions, Cursor, EventType, Hub, Identity, Message, Replay, UserId,
    testing::flaky_client,
};

fn user3() -> ConnectOptions {
    ConnectOptions::new(Identity::user(UserId::from(3))).channels([Channel::CHAT])
}

/// Sends `m1` to `m4` on chat; their cursors.
async fn send_m1_to_m4(hub: &Hub) -> Vec<Cursor> {
    let mut sent = Vec::new();
    for n in 1..=4 {
        let report = hub.send(message(Channel::CHAT, &format!("m{n}"))).await;
        sent.push(report.unwrap().cursor);
    }
    sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reconnects_to_another_instance_gets_what_it_missed_once_then_live() {
    let key = TestKey::new("resume");
    let a = key.instance(Hub::builder()).await;
    let b = key.instance(Hub::builder()).await;

    let (_, mut on_a) = a.open(user3()).await;
    let first = a.send(message(Channel::CHAT, "m1")).await.unwrap();
    assert_eq!(first.sent, 1);
    on_a.expect_message(&first, "data", &json!("m1")).await;
    assert_eq!(on_a.try_next(), None);
    drop(on_a);

    let m2 = a.send(message(Channel::CHAT, "m2")).await.unwrap();
    // Not replayed: not retryable, or not for this user.
    a.send(message(Channel::CHAT, "not retryable").retryable(false))
        .await
        .unwrap();
    a.send(message(Channel::CHAT, "for user 9").to_users([9]))
        .await
        .unwrap();
    let m3 = b.send(message(Channel::CHAT, "m3")).await.unwrap();
    assert_eq!((m2.sent, m3.sent), (0, 0));

    // B's own send went through B's dispatcher after everything before it.
    let (connected, mut resumed) = b.open(user3().last_event_id(first.cursor)).await;
    assert!(connected.resumed && !connected.history_gap, "{connected:?}");
    assert_eq!(connected.replayed, 2);
    resumed.expect_message(&m2, "data", &json!("m2")).await;
    resumed.expect_message(&m3, "data", &json!("m3")).await;
    assert_eq!(resumed.try_next(), None);

    let live = a.send(message(Channel::CHAT, "m4")).await.unwrap();
    assert_eq!(live.sent, 0);
    resumed.expect_message(&live, "data", &json!("m4")).await;
    assert_eq!(resumed.try_next(), None);
    assert_eq!(b.stats().replayed, 2);
    assert_eq!(b.stats().history_gaps, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_trimmed_past_the_cursor_gives_a_history_gap() {
    let key = TestKey::new("trimmed");
    let config = key.config().max_len(3);
    let a = Instance::start(&key.url, config.clone(), Hub::builder()).await;
    let b = Instance::start(&key.url, config, Hub::builder()).await;

    let sent = send_m1_to_m4(&a).await;
    // `MAXLEN ~` trims whole nodes only; trim exactly to be deterministic: only m4 is left.
    let mut redis = key.redis();
    let trimmed: usize = redis::cmd("XTRIM")
        .arg(&key.key)
        .arg("MAXLEN")
        .arg(1)
        .query(&mut redis)
        .unwrap();
    assert_eq!(trimmed, 3);
    dispatched(&b, 4).await;

    // m1's and m3's entries are gone: the client must resynchronise, and resumes from m4.
    for lost in [sent[0], sent[2]] {
        let (connected, mut events) = b.open(user3().last_event_id(lost)).await;
        assert!(connected.history_gap && !connected.resumed, "{connected:?}");
        expect_gap(&mut events, lost, sent[3]).await;
        assert_eq!(events.try_next(), None);
    }
    assert_eq!(b.stats().history_gaps, 2);

    // m4 is still there: nothing was missed after it.
    let (connected, mut events) = b.open(user3().last_event_id(sent[3])).await;
    assert!(connected.resumed && !connected.history_gap);
    assert_eq!(connected.replayed, 0);
    let live = a.send(message(Channel::CHAT, "m5")).await.unwrap();
    events.expect_message(&live, "data", &json!("m5")).await;
    assert_eq!(events.try_next(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_is_a_gap_for_other_epochs_unknown_entries_and_too_many_entries() {
    let key = TestKey::new("replay");
    let a = key.instance(Hub::builder()).await;
    let b = key.instance(Hub::builder().max_replay(2)).await;
    let sent = send_m1_to_m4(&a).await;
    let head = sent[3];
    dispatched(&b, 4).await;
    let backplane: &Arc<sse_redis::RedisBackplane> = &a.backplane;

    let entries = |replay: Replay| match replay {
        Replay::Entries(entries) => entries.into_iter().map(|e| e.cursor()).collect::<Vec<_>>(),
        Replay::Gap { head } => panic!("a gap (head {head:?})"),
    };
    let gap = |replay: Replay| match replay {
        Replay::Gap { head } => head,
        Replay::Entries(entries) => panic!("{} entries", entries.len()),
    };
    assert_eq!(
        entries(backplane.replay(&sent[0], 3).await.unwrap()),
        sent[1..]
    );
    assert_eq!(entries(backplane.replay(&head, 3).await.unwrap()), []);
    // More than `max`.
    assert_eq!(
        gap(backplane.replay(&sent[0], 2).await.unwrap()),
        Some(head)
    );
    // Another epoch.
    let other_epoch = Cursor::new(head.epoch() ^ 1, head.major(), head.minor());
    assert_eq!(
        gap(backplane.replay(&other_epoch, 10).await.unwrap()),
        Some(head)
    );
    // A position that never held an entry (between two, or in the future).
    let between = Cursor::new(head.epoch(), sent[0].major(), sent[0].minor() + 1_000);
    assert_eq!(
        gap(backplane.replay(&between, 10).await.unwrap()),
        Some(head)
    );
    let future = Cursor::new(head.epoch(), u64::MAX, u64::MAX);
    assert_eq!(
        gap(backplane.replay(&future, 10).await.unwrap()),
        Some(head)
    );

    // Through a hub whose max_replay is 2: three missed messages are a gap.
    let (connected, mut events) = b.open(user3().last_event_id(sent[0])).await;
    assert!(connected.history_gap);
    expect_gap(&mut events, sent[0], head).await;
    assert_eq!(events.try_next(), None);
    let (connected, mut events) = b.open(user3().last_event_id(sent[1])).await;
    assert_eq!(connected.replayed, 2);
    let payloads: Vec<_> = events.take(2).await.iter().map(|e| e.payload()).collect();
    assert_eq!(payloads, [json!("m3"), json!("m4")]);
    assert_eq!(events.try_next(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_before_the_first_message_resumes_from_the_epochs_start() {
    let key = TestKey::new("empty");
    let a = key.instance(Hub::builder()).await;
    let b = key.instance(Hub::builder()).await;
    let epoch = a.backplane.epoch();
    let start = Cursor::new(epoch, 0, 0);

    // A cursor of a history that is gone (another epoch), while the stream is still empty.
    let old = Cursor::new(epoch ^ 1, 1_700_000_000_000, 0);
    let (_, mut events) = b.open(user3().last_event_id(old)).await;
    expect_gap(&mut events, old, start).await;
    assert_eq!(events.try_next(), None);

    // From the epoch's start, the client replays everything sent since.
    let m1 = a.send(message(Channel::CHAT, "m1")).await.unwrap();
    let m2 = a.send(message(Channel::CHAT, "m2")).await.unwrap();
    dispatched(&b, 2).await;
    let (connected, mut events) = b.open(user3().last_event_id(start)).await;
    assert!(connected.resumed, "{connected:?}");
    events.expect_message(&m1, "data", &json!("m1")).await;
    events.expect_message(&m2, "data", &json!("m2")).await;
    assert_eq!(events.try_next(), None);

    // Unless something was trimmed since.
    let trimmed: usize = redis::cmd("XTRIM")
        .arg(&key.key)
        .arg("MAXLEN")
        .arg(1)
        .query(&mut key.redis())
        .unwrap();
    assert_eq!(trimmed, 1);
    let (_, mut events) = b.open(user3().last_event_id(start)).await;
    expect_gap(&mut events, start, m2.cursor).await;
    assert_eq!(events.try_next(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_resuming_at_random_across_instances_get_every_message_once_in_order() {
    const MESSAGES: u64 = 600;
    const CLIENTS: u64 = 8;
    let key = TestKey::new("exactly-once");
    let builder = || {
        Hub::builder()
            .max_replay(4 * MESSAGES as usize)
            .queue_capacity(4 * MESSAGES as usize)
    };
    let a = key.instance(builder()).await;
    let b = key.instance(builder()).await;
    let hubs = [a.hub.clone(), b.hub.clone()];
    let clients: Vec<_> = (0..CLIENTS)
        .map(|seed| {
            let hubs = hubs.clone();
            tokio::spawn(async move {
                let options =
                    move || ConnectOptions::new(Identity::user(seed)).channels([Channel::CHAT]);
                // Each reconnect reaches the other instance.
                let events = flaky_client(&hubs, options, seed, |events| {
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
        a.send(Message::new(Channel::CHAT, EventType::Data, json!(n)))
            .await
            .unwrap();
    }
    for (client, numbers) in clients.into_iter().enumerate() {
        let numbers = numbers.await.unwrap();
        let first = numbers[0];
        let expected: Vec<u64> = (first..MESSAGES).collect();
        assert!(
            numbers == expected,
            "client {client}: every message from {first} on, once, in order; first difference \
             at position {:?}",
            (0..numbers.len().max(expected.len())).find(|&i| numbers.get(i) != expected.get(i))
        );
    }
    assert_eq!(a.stats().history_gaps + b.stats().history_gaps, 0);
}
