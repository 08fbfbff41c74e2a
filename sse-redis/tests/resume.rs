//! Reconnecting to another instance: replay from the shared stream, or a history gap.

mod common;

use std::sync::Arc;

use common::{Frame, Instance, TestKey, dispatched, ids, message, payloads, redis_url, take};
use serde_json::json;
use sse_core::{Backplane, Channel, ConnectOptions, Cursor, Hub, Identity, Replay, UserId};

fn user3() -> ConnectOptions {
    ConnectOptions::new(Identity::user(UserId::from(3))).channels([Channel::CHAT])
}

/// Asserts that `frame` is the `history-gap` refresh for a client that sent `last_event_id`,
/// carrying `head` as its id.
fn assert_gap(frame: &Frame, last_event_id: Cursor, head: Option<Cursor>) {
    assert_eq!(frame.event, "refresh", "{frame:?}");
    assert_eq!(frame.payload()["reason"], "history-gap", "{frame:?}");
    assert_eq!(
        frame.payload()["lastEventId"],
        json!(last_event_id.to_string())
    );
    assert_eq!(frame.id, head.map(|h| h.to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reconnects_to_another_instance_gets_what_it_missed_once_then_live() {
    let url = redis_url();
    let key = TestKey::new(&url, "resume");
    let a = Instance::start(&url, key.config(), Hub::builder()).await;
    let b = Instance::start(&url, key.config(), Hub::builder()).await;

    let mut on_a = a.connect(user3()).await.unwrap();
    let first = a.send(message(Channel::CHAT, "m1")).await.unwrap();
    assert_eq!(first.sent, 1);
    let got = take(&mut on_a, 1).await;
    assert_eq!(ids(&got), [first.cursor.to_string()]);
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
    let mut resumed = b
        .connect(user3().last_event_id(first.cursor))
        .await
        .unwrap();
    let connected = resumed.connected();
    assert!(connected.resumed && !connected.history_gap, "{connected:?}");
    assert_eq!(connected.replayed, 2);
    let missed = take(&mut resumed, 2).await;
    assert_eq!(payloads(&missed), [json!("m2"), json!("m3")]);
    assert_eq!(ids(&missed), [m2.cursor.to_string(), m3.cursor.to_string()]);

    let live = a.send(message(Channel::CHAT, "m4")).await.unwrap();
    assert_eq!(live.sent, 0);
    let got = take(&mut resumed, 1).await;
    assert_eq!(payloads(&got), [json!("m4")]);
    assert_eq!(ids(&got), [live.cursor.to_string()]);
    assert_eq!(resumed.queue_len(), 0);
    assert_eq!(b.stats().replayed, 2);
    assert_eq!(b.stats().history_gaps, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_trimmed_past_the_cursor_gives_a_history_gap() {
    let url = redis_url();
    let key = TestKey::new(&url, "trimmed");
    let config = key.config().max_len(3);
    let a = Instance::start(&url, config.clone(), Hub::builder()).await;
    let b = Instance::start(&url, config, Hub::builder()).await;

    let mut sent = Vec::new();
    for n in 1..=4 {
        sent.push(
            a.send(message(Channel::CHAT, &format!("m{n}")))
                .await
                .unwrap()
                .cursor,
        );
    }
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
        let mut sub = b.connect(user3().last_event_id(lost)).await.unwrap();
        let connected = sub.connected();
        assert!(connected.history_gap && !connected.resumed, "{connected:?}");
        let got = take(&mut sub, 1).await;
        assert_gap(&got[0], lost, Some(sent[3]));
    }
    assert_eq!(b.stats().history_gaps, 2);

    // m4 is still there: nothing was missed after it.
    let mut sub = b.connect(user3().last_event_id(sent[3])).await.unwrap();
    assert!(sub.connected().resumed && !sub.connected().history_gap);
    assert_eq!(sub.connected().replayed, 0);
    let live = a.send(message(Channel::CHAT, "m5")).await.unwrap();
    let got = take(&mut sub, 1).await;
    assert_eq!(payloads(&got), [json!("m5")]);
    assert_eq!(ids(&got), [live.cursor.to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_is_a_gap_for_other_epochs_unknown_entries_and_too_many_entries() {
    let url = redis_url();
    let key = TestKey::new(&url, "replay");
    let a = Instance::start(&url, key.config(), Hub::builder()).await;
    let b = Instance::start(&url, key.config(), Hub::builder().max_replay(2)).await;
    let mut sent = Vec::new();
    for n in 1..=4 {
        sent.push(
            a.send(message(Channel::CHAT, &format!("m{n}")))
                .await
                .unwrap()
                .cursor,
        );
    }
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
    let mut sub = b.connect(user3().last_event_id(sent[0])).await.unwrap();
    assert!(sub.connected().history_gap);
    let got = take(&mut sub, 1).await;
    assert_gap(&got[0], sent[0], Some(head));
    let mut sub = b.connect(user3().last_event_id(sent[1])).await.unwrap();
    assert_eq!(sub.connected().replayed, 2);
    assert_eq!(
        payloads(&take(&mut sub, 2).await),
        [json!("m3"), json!("m4")]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_before_the_first_message_resumes_from_the_epochs_start() {
    let url = redis_url();
    let key = TestKey::new(&url, "empty");
    let a = Instance::start(&url, key.config(), Hub::builder()).await;
    let b = Instance::start(&url, key.config(), Hub::builder()).await;
    let epoch = a.backplane.epoch();
    let start = Cursor::new(epoch, 0, 0);

    // A cursor of a history that is gone (another epoch), while the stream is still empty.
    let old = Cursor::new(epoch ^ 1, 1_700_000_000_000, 0);
    let mut sub = b.connect(user3().last_event_id(old)).await.unwrap();
    let got = take(&mut sub, 1).await;
    assert_gap(&got[0], old, Some(start));

    // From the epoch's start, the client replays everything sent since.
    let m1 = a.send(message(Channel::CHAT, "m1")).await.unwrap();
    let m2 = a.send(message(Channel::CHAT, "m2")).await.unwrap();
    dispatched(&b, 2).await;
    let mut sub = b.connect(user3().last_event_id(start)).await.unwrap();
    assert!(sub.connected().resumed, "{:?}", sub.connected());
    let got = take(&mut sub, 2).await;
    assert_eq!(ids(&got), [m1.cursor.to_string(), m2.cursor.to_string()]);

    // Unless something was trimmed since.
    let trimmed: usize = redis::cmd("XTRIM")
        .arg(&key.key)
        .arg("MAXLEN")
        .arg(1)
        .query(&mut key.redis())
        .unwrap();
    assert_eq!(trimmed, 1);
    let mut sub = b.connect(user3().last_event_id(start)).await.unwrap();
    let got = take(&mut sub, 1).await;
    assert_gap(&got[0], start, Some(m2.cursor));
}
