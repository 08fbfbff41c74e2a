//! Losses between Redis and an instance: entries trimmed before the tail read them, a lost
//! epoch key, an entry nobody can decode in a replay, and a publish whose confirmation is late.
//! None is silent: connections are told to resynchronise, and what was written is never
//! reported as failed.

mod common;

use std::{sync::Arc, time::Duration};

use common::{Instance, TestKey, WAIT, dispatched, message};
use serde_json::json;
use sse_hub::{Backplane, Channel, ConnectOptions, Cursor, Hub, Identity, Replay, testing::Events};
use sse_redis::RedisBackplane;

fn anonymous() -> ConnectOptions {
    ConnectOptions::new(Identity::anonymous()).channels([Channel::CHAT])
}

/// Entries trimmed while this instance's tail was behind never reach its connections: they
/// are told to resynchronise instead of losing them silently.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_trimmed_before_the_tail_read_them_give_every_connection_a_refresh() {
    let key = TestKey::new("tail-gap");
    let a = key.instance(Hub::builder()).await;
    // An instance whose dispatcher does not run yet, and whose tail holds at most one entry
    // that nobody takes: the tail falls behind.
    let backplane = RedisBackplane::connect(&key.url, key.config().read_count(1))
        .await
        .unwrap();
    let b = Hub::builder()
        .backplane(Arc::clone(&backplane) as _)
        .build();
    let mut on_b = Events::from_subscription(b.connect(anonymous()).await.unwrap()).wait(WAIT);

    let mut sent = Vec::new();
    for n in 0..6 {
        sent.push(
            a.send(message(Channel::CHAT, &format!("m{n}")))
                .await
                .unwrap(),
        );
    }
    // Everything is trimmed away before the tail reads past what it holds.
    let _: u64 = redis::cmd("XTRIM")
        .arg(&key.key)
        .arg("MAXLEN")
        .arg(0)
        .query(&mut key.redis())
        .unwrap();
    let driver = b.clone();
    tokio::spawn(async move { driver.run_dispatcher().await });

    // What the tail held arrives, then the refresh, then live messages.
    let mut before_refresh = Vec::new();
    let refresh = loop {
        let event = on_b.next().await.expect("the stream is open");
        if event.is_history_gap() {
            break event;
        }
        before_refresh.push(event.payload());
    };
    assert!(before_refresh.len() <= 2, "{before_refresh:?}");
    assert_eq!(
        before_refresh,
        ["m0", "m1"][..before_refresh.len()]
            .iter()
            .map(|m| json!(m))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        refresh.json()["data"]["lastEventId"],
        serde_json::Value::Null
    );
    assert_eq!(b.stats().history_gaps, 1);
    let live = a.send(message(Channel::CHAT, "live")).await.unwrap();
    on_b.expect_message(&live, "data", &json!("live")).await;
    assert_eq!(on_b.try_next(), None);
    backplane.close();
}

/// A publish whose entry Redis wrote but whose confirmation by this instance's tail is late
/// succeeds: reporting it as failed would make the caller publish it twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_written_entry_is_never_reported_as_failed() {
    let key = TestKey::new("late-confirmation");
    let backplane = RedisBackplane::connect(
        &key.url,
        key.config()
            .read_count(1)
            .publish_timeout(Duration::from_millis(300)),
    )
    .await
    .unwrap();
    // A tail that nobody reads: it stops after the first entries.
    let _stream = backplane.subscribe().expect("a shared backplane");
    let hub = Hub::new();
    let mut cursors = Vec::new();
    for n in 0..4 {
        let envelope = Arc::new(
            hub.encode(message(Channel::CHAT, &format!("m{n}")))
                .unwrap(),
        );
        let entry = backplane
            .publish(envelope)
            .await
            .expect("written entries are published");
        cursors.push(entry.cursor());
    }
    let written: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(&key.key)
        .arg("-")
        .arg("+")
        .query(&mut key.redis())
        .unwrap();
    assert_eq!(written.len(), 4);
    assert!(cursors.windows(2).all(|w| w[0] < w[1]));
    backplane.close();
}

/// An entry that cannot be decoded is left out of a replay, and counted; the rest replays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_skips_an_entry_it_cannot_decode() {
    let key = TestKey::new("replay-corrupt");
    let a = key.instance(Hub::builder()).await;
    let first = a.send(message(Channel::CHAT, "m1")).await.unwrap();
    let _: String = redis::cmd("XADD")
        .arg(&key.key)
        .arg("*")
        .arg("e")
        .arg("not an envelope")
        .query(&mut key.redis())
        .unwrap();
    let third = a.send(message(Channel::CHAT, "m3")).await.unwrap();
    match a.backplane.replay(&first.cursor, 10).await.unwrap() {
        Replay::Entries(entries) => {
            let cursors: Vec<Cursor> = entries.iter().map(|e| e.cursor()).collect();
            assert_eq!(cursors, [third.cursor]);
        }
        gap => panic!("expected entries, got {gap:?}"),
    }
    assert_eq!(a.backplane.stats().skipped, 1);
    // A client resuming there gets the good one.
    let (connected, mut events) = a.open(anonymous().last_event_id(first.cursor)).await;
    assert!(connected.resumed);
    events.expect_message(&third, "data", &json!("m3")).await;
}

/// Losing only the epoch key (an eviction, a careless `DEL`) gives the same stream a new
/// epoch: live connections are told to resynchronise, and the stream is not delivered again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_epoch_key_neither_replays_the_stream_nor_goes_unnoticed() {
    let key = TestKey::new("epoch-key");
    let a = key.instance(Hub::builder()).await;
    let b = key.instance(Hub::builder()).await;
    let (_, mut on_b) = b.open(anonymous()).await;
    let m1 = a.send(message(Channel::CHAT, "m1")).await.unwrap();
    let m2 = a.send(message(Channel::CHAT, "m2")).await.unwrap();
    on_b.expect_message(&m1, "data", &json!("m1")).await;
    on_b.expect_message(&m2, "data", &json!("m2")).await;

    let _: u64 = redis::cmd("DEL")
        .arg(format!("{}:epoch", key.key))
        .query(&mut key.redis())
        .unwrap();
    let m3 = a.send(message(Channel::CHAT, "m3")).await.unwrap();
    assert!(!m3.cursor.same_epoch(&m2.cursor));

    on_b.expect_history_gap().await;
    on_b.expect_message(&m3, "data", &json!("m3")).await;
    assert_eq!(on_b.try_next(), None, "m1 and m2 are not delivered again");
    dispatched(&b, 3).await;
    assert_eq!(b.stats().history_gaps, 1);
    drop::<Instance>(b);
}
