//! Two hubs on one shared log: the dispatcher path a cross-instance backplane uses.
//!
//! Streams are read with `sse_hub::testing::Events`, each wait bounded.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::FutureExt;
use serde_json::{Value, json};
use sse_hub::{
    Backplane, Channel, ConnectOptions, Cursor, Entry, EntryStream, Envelope, EventType, Hub,
    Identity, Message, Replay,
    error::{BackplaneError, SendError},
    testing::{Event, Events},
};
use tokio::sync::broadcast;

use crate::support::{connect, msg, user};

#[path = "support/mod.rs"]
mod support;

/// A log shared by several hubs in one process, standing in for a shared store: every publish
/// is appended under one lock and broadcast to every subscriber in log order. Envelopes cross
/// it as transport bytes, as they would cross a network.
#[derive(Debug)]
struct SharedLog {
    entries: Mutex<Vec<(Cursor, bytes::Bytes)>>,
    /// Each entry in log order, or `None` where entries were lost on their way.
    tx: broadcast::Sender<Option<(Cursor, bytes::Bytes)>>,
    /// Whether publishes are written but never reach the subscribers (a tail that skips them).
    lose: std::sync::atomic::AtomicBool,
}

#[derive(Debug, Clone)]
struct Handle(Arc<SharedLog>);

impl SharedLog {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            entries: Mutex::new(Vec::new()),
            tx: broadcast::channel(1024).0,
            lose: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Tells every subscriber that entries were lost on their way to it.
    fn announce_loss(&self) {
        let _ = self.tx.send(None);
    }
}

#[async_trait::async_trait]
impl Backplane for Handle {
    async fn publish(&self, envelope: Arc<Envelope>) -> Result<Entry, BackplaneError> {
        let mut entries = self.0.entries.lock().unwrap();
        let cursor = Cursor::new(5, entries.len() as u64 + 1, 0);
        let bytes = envelope.to_transport();
        entries.push((cursor, bytes.clone()));
        if !self.0.lose.load(std::sync::atomic::Ordering::Relaxed) {
            let _ = self.0.tx.send(Some((cursor, bytes)));
        }
        Ok(Entry::new(cursor, envelope))
    }

    fn subscribe(&self) -> Option<EntryStream> {
        let rx = self.0.tx.subscribe();
        Some(Box::pin(futures_util::stream::unfold(
            rx,
            |mut rx| async move {
                let item = match rx.recv().await.ok()? {
                    Some((cursor, bytes)) => Envelope::from_transport(&bytes)
                        .map(|envelope| Entry::new(cursor, Arc::new(envelope))),
                    None => Err(BackplaneError::Lost("the test log lost entries".into())),
                };
                Some((item, rx))
            },
        )))
    }

    async fn replay(&self, after: &Cursor, max: usize) -> Result<Replay, BackplaneError> {
        let entries = self.0.entries.lock().unwrap();
        if after.epoch() != 5 {
            return Ok(Replay::Gap { head: None });
        }
        let newer: Vec<Entry> = entries
            .iter()
            .filter(|(c, _)| c > after)
            .map(|(cursor, bytes)| {
                Entry::new(*cursor, Arc::new(Envelope::from_transport(bytes).unwrap()))
            })
            .collect();
        Ok(if newer.len() > max {
            Replay::Gap {
                head: entries.last().map(|(c, _)| *c),
            }
        } else {
            Replay::Entries(newer)
        })
    }
}

fn hub_on(log: &Arc<SharedLog>) -> Hub {
    let hub = Hub::builder()
        .backplane(Arc::new(Handle(Arc::clone(log))))
        .build();
    let driver = hub.clone();
    tokio::spawn(async move { driver.run_dispatcher().await });
    hub
}

/// The SSE id and the message data of `event`.
fn id_and_payload(event: &Event) -> (String, Value) {
    (event.id.clone(), event.payload())
}

async fn started(hub: &Hub) {
    // The dispatcher task starts on the next scheduling point.
    for _ in 0..100 {
        if hub
            .send(Message::new(
                Channel::from_static("probe"),
                EventType::Data,
                json!(null),
            ))
            .await
            .is_ok()
        {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("dispatcher did not start");
}

#[tokio::test]
async fn a_send_on_one_hub_reaches_targeted_connections_on_the_other() {
    let log = SharedLog::new();
    let a = hub_on(&log);
    let b = hub_on(&log);
    started(&a).await;
    started(&b).await;

    let on_b = connect(&b, user(1).channels([Channel::NOTIFICATIONS])).await;
    let mut on_b = Events::from_subscription(on_b);
    let mut other_on_b = connect(&b, user(2).channels([Channel::NOTIFICATIONS])).await;
    let report = a
        .send(
            Message::new(Channel::NOTIFICATIONS, EventType::Notification, json!("hi"))
                .to_users([1]),
        )
        .await
        .unwrap();
    // The report counts the sending instance's own connections.
    assert_eq!(report.sent, 0);
    let (id, data) = id_and_payload(&on_b.expect_event("notification").await);
    assert_eq!(id, report.cursor.to_string());
    assert_eq!(data, json!("hi"));
    on_b.expect_no_event_within(Duration::ZERO).await;
    // Both hubs dispatched it; user 2 got nothing.
    assert_eq!(other_on_b.queue_len(), 0);
    assert!(other_on_b.recv().now_or_never().is_none());

    // A client of A that drops out resumes on B with exactly what it missed.
    let on_a = connect(&a, user(3).channels([Channel::CHAT])).await;
    let mut on_a = Events::from_subscription(on_a);
    let first = a.send(msg(Channel::CHAT, 1)).await.unwrap();
    assert_eq!(first.sent, 1);
    assert_eq!(on_a.expect_event("data").await.payload(), json!(1));
    on_a.expect_no_event_within(Duration::ZERO).await;
    drop(on_a);
    for n in 2..=3 {
        a.send(msg(Channel::CHAT, n)).await.unwrap();
    }
    let resumed = connect(
        &b,
        user(3)
            .channels([Channel::CHAT])
            .last_event_id(first.cursor),
    )
    .await;
    assert!(resumed.connected().resumed);
    let mut resumed = Events::from_subscription(resumed);
    let missed: Vec<Value> = resumed.take(2).await.iter().map(Event::payload).collect();
    assert_eq!(missed, [json!(2), json!(3)]);
    // Nothing more is ready, and the stream is open.
    resumed.expect_no_event_within(Duration::ZERO).await;
    assert_eq!(b.stats().messages_dispatched, a.stats().messages_dispatched);
}

#[tokio::test]
async fn every_instance_delivers_in_the_same_order() {
    let log = SharedLog::new();
    let a = hub_on(&log);
    let b = hub_on(&log);
    started(&a).await;
    started(&b).await;
    let options = || ConnectOptions::new(Identity::anonymous()).channels([Channel::LIVE_UPDATES]);
    let mut on_a = Events::from_subscription(connect(&a, options()).await);
    let mut on_b = Events::from_subscription(connect(&b, options()).await);
    let sends: Vec<_> = (0..40)
        .map(|n| {
            let hub = if n % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { hub.send(msg(Channel::LIVE_UPDATES, n)).await.unwrap() })
        })
        .collect();
    for s in sends {
        s.await.unwrap();
    }
    let seen_a: Vec<_> = on_a.take(40).await.iter().map(id_and_payload).collect();
    let seen_b: Vec<_> = on_b.take(40).await.iter().map(id_and_payload).collect();
    on_a.expect_no_event_within(Duration::ZERO).await;
    on_b.expect_no_event_within(Duration::ZERO).await;
    assert_eq!(seen_a, seen_b);
    let mut values: Vec<u64> = seen_a.iter().map(|(_, v)| v.as_u64().unwrap()).collect();
    values.sort_unstable();
    assert_eq!(values, (0..40).collect::<Vec<_>>());
    let cursors: Vec<Cursor> = seen_a.iter().map(|(c, _)| c.parse().unwrap()).collect();
    assert!(cursors.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn sends_fail_fast_while_no_dispatcher_runs() {
    let log = SharedLog::new();
    let hub = Hub::builder().backplane(Arc::new(Handle(log))).build();
    let err = hub.send(msg(Channel::CHAT, 1)).await.unwrap_err();
    assert!(
        matches!(err, SendError::Backplane(BackplaneError::Unavailable(_))),
        "{err}"
    );
}

#[tokio::test]
async fn concurrent_sends_that_reuse_a_message_id_each_get_their_own_report() {
    let log = SharedLog::new();
    let hub = hub_on(&log);
    started(&hub).await;
    let sub = connect(
        &hub,
        ConnectOptions::new(Identity::anonymous()).channels([Channel::CHAT]),
    )
    .await;
    let mut sub = Events::from_subscription(sub);
    let message = |n: u64| msg(Channel::CHAT, n).id("quota-42".parse().unwrap());
    let (first, second) = tokio::join!(hub.send(message(1)), hub.send(message(2)));
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_ne!(first.cursor, second.cursor);
    assert_eq!((first.sent, second.sent), (1, 1));
    let got: Vec<_> = sub.take(2).await.iter().map(id_and_payload).collect();
    sub.expect_no_event_within(Duration::ZERO).await;
    let mut by_cursor: Vec<(String, Value)> = vec![
        (first.cursor.to_string(), json!(1)),
        (second.cursor.to_string(), json!(2)),
    ];
    by_cursor.sort_by_key(|(c, _)| c.parse::<Cursor>().unwrap().position());
    assert_eq!(got, by_cursor);
}

/// A send waits for its message to come back from the log; when this instance's dispatcher
/// skips it, the send still returns (the message is in the log: it did not fail) as soon as
/// the dispatcher shows it will not come, and a send abandoned by its caller leaves nothing
/// waiting.
#[tokio::test]
async fn a_send_whose_entry_is_skipped_returns_once_the_dispatcher_shows_it() {
    let log = SharedLog::new();
    let hub = hub_on(&log);
    started(&hub).await;
    let mut sub = Events::from_subscription(connect(&hub, user(1).channels([Channel::CHAT])).await);
    let lose = |on: bool| log.lose.store(on, std::sync::atomic::Ordering::Relaxed);

    // Lost on the way here, and the backplane says so.
    let written = || log.entries.lock().unwrap().len();
    let before = written();
    lose(true);
    let sending = tokio::spawn({
        let hub = hub.clone();
        async move { hub.send(msg(Channel::CHAT, 1)).await }
    });
    while written() == before {
        tokio::task::yield_now().await;
    }
    log.announce_loss();
    let report = tokio::time::timeout(Duration::from_secs(5), sending)
        .await
        .expect("the send returns")
        .unwrap()
        .expect("the message was written: the send did not fail");
    assert_eq!(report.cursor, log.entries.lock().unwrap()[before].0);
    assert_eq!((report.sent, report.shed, report.closed), (0, 0, 0));
    sub.expect_history_gap().await;

    // Skipped without a word: the next entry dispatched shows it.
    let skipped = tokio::spawn({
        let hub = hub.clone();
        async move { hub.send(msg(Channel::CHAT, 2)).await }
    });
    while written() < before + 2 {
        tokio::task::yield_now().await;
    }
    lose(false);
    let next = hub.send(msg(Channel::CHAT, 3)).await.unwrap();
    let report = tokio::time::timeout(Duration::from_secs(5), skipped)
        .await
        .expect("the skipped send returns")
        .unwrap()
        .unwrap();
    assert_eq!((report.sent, next.sent), (0, 1));
    assert_eq!(sub.next().await.unwrap().payload(), json!(3));

    // Abandoned while it waits: nothing is left waiting.
    lose(true);
    assert!(hub.send(msg(Channel::CHAT, 4)).now_or_never().is_none());
    assert_eq!(hub.stats().pending_sends, 0);
}

#[tokio::test]
async fn connections_resynchronise_when_entries_are_lost_on_their_way() {
    let log = SharedLog::new();
    let hub = hub_on(&log);
    started(&hub).await;
    let mut a = Events::from_subscription(connect(&hub, user(1).channels([Channel::CHAT])).await);
    let mut b = Events::from_subscription(connect(&hub, user(2).channels([Channel::ALERTS])).await);
    let before = hub.send(msg(Channel::CHAT, 1)).await.unwrap();
    a.expect_message(&before, "data", &json!(1)).await;
    log.announce_loss();
    // The refresh carries no id of its own: each client keeps the last id it had.
    for (events, last) in [(&mut a, before.cursor.to_string()), (&mut b, String::new())] {
        let refresh = events.expect_history_gap().await;
        assert_eq!(refresh.id, last, "{refresh}");
        assert_eq!(
            refresh.json()["data"]["lastEventId"],
            serde_json::Value::Null
        );
    }
    assert_eq!(hub.stats().history_gaps, 2);
    assert_eq!(hub.stats().backplane_errors, 1);
    let after = hub.send(msg(Channel::CHAT, 2)).await.unwrap();
    a.expect_message(&after, "data", &json!(2)).await;
}
