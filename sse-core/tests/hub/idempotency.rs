//! Idempotent publish on a process-local backplane: a repeat delivers nothing and returns the
//! first report, concurrent repeats too; another message under the same key is a conflict;
//! the window ends.

use std::time::Duration;

use serde_json::json;
use sse_hub::{
    Channel, IdempotencyKey, Message,
    error::SendError,
    testing::{TestClock, drain},
};

use crate::{
    payloads,
    support::{START, connect, msg, user},
};

fn key(text: &str) -> IdempotencyKey {
    text.parse().unwrap()
}

#[tokio::test]
async fn a_repeat_delivers_nothing_and_returns_the_first_report() {
    let hub = sse_hub::Hub::new();
    let mut stream = connect(&hub, user(1).channels([Channel::CHAT])).await;
    let message = msg(Channel::CHAT, 1).idempotency_key(key("order-17"));
    let first = hub.send(message.clone()).await.unwrap();
    assert!(!first.duplicate);
    assert_eq!(first.sent, 1);
    let again = hub.send(message).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(
        (&again.id, again.cursor, again.sent),
        (&first.id, first.cursor, 1)
    );
    assert_eq!(payloads(&mut stream), [json!(1)]);
    assert_eq!(hub.stats().messages_sent, 1);
    let json = serde_json::to_value(&again).unwrap();
    assert_eq!(json["duplicate"], true);
    assert!(
        serde_json::to_value(&first)
            .unwrap()
            .get("duplicate")
            .is_none()
    );
}

#[tokio::test]
async fn the_same_key_on_another_message_is_a_conflict_and_sends_nothing() {
    let hub = sse_hub::Hub::new();
    let mut stream = connect(&hub, user(1).channels([Channel::CHAT])).await;
    hub.send(msg(Channel::CHAT, 1).idempotency_key(key("k")))
        .await
        .unwrap();
    for other in [
        msg(Channel::CHAT, 2).idempotency_key(key("k")),
        msg(Channel::CHAT, 1).priority(9).idempotency_key(key("k")),
        msg(Channel::ALERTS, 1).idempotency_key(key("k")),
    ] {
        match hub.send(other).await {
            Err(SendError::IdempotencyConflict { key }) => assert_eq!(key, "k"),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }
    assert_eq!(payloads(&mut stream), [json!(1)]);
    // The timestamp is not part of what the message says.
    let later = msg(Channel::CHAT, 1).idempotency_key(key("k"));
    assert!(hub.send(later).await.unwrap().duplicate);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_repeats_deliver_once_and_share_the_first_report() {
    let hub = sse_hub::Hub::new();
    let mut stream = connect(&hub, user(1).channels([Channel::CHAT])).await;
    let message = msg(Channel::CHAT, 7).idempotency_key(key("burst"));
    let sends: Vec<_> = (0..16)
        .map(|_| {
            let (hub, message) = (hub.clone(), message.clone());
            tokio::spawn(async move { hub.send(message).await.unwrap() })
        })
        .collect();
    let mut reports = Vec::new();
    for send in sends {
        reports.push(send.await.unwrap());
    }
    let originals: Vec<_> = reports.iter().filter(|r| !r.duplicate).collect();
    assert_eq!(originals.len(), 1, "{reports:?}");
    assert!(reports.iter().all(|r| r.cursor == originals[0].cursor));
    assert_eq!(payloads(&mut stream), [json!(7)]);
}

#[tokio::test(start_paused = true)]
async fn a_key_is_forgotten_when_the_window_ends() {
    let clock = TestClock::new(START);
    let hub = clock
        .hub()
        .idempotency_window(Duration::from_secs(60))
        .build();
    let mut stream = connect(&hub, user(1).channels([Channel::CHAT])).await;
    let message = || msg(Channel::CHAT, 1).idempotency_key(key("once-a-minute"));
    let first = hub.send(message()).await.unwrap();
    clock.advance(Duration::from_millis(59_999)).await;
    assert!(hub.send(message()).await.unwrap().duplicate);
    clock.advance(Duration::from_millis(1)).await;
    let second = hub.send(message()).await.unwrap();
    assert!(!second.duplicate);
    assert_ne!(second.cursor, first.cursor);
    assert_eq!(drain(&mut stream).len(), 2);
}

#[tokio::test]
async fn the_hub_remembers_a_bounded_number_of_keys() {
    let hub = sse_hub::Hub::builder().idempotency_keys(2).build();
    for name in ["a", "b", "c"] {
        hub.send(msg(Channel::CHAT, 1).idempotency_key(key(name)))
            .await
            .unwrap();
    }
    // "a" was forgotten to make room for "c".
    let a = hub
        .send(msg(Channel::CHAT, 1).idempotency_key(key("a")))
        .await
        .unwrap();
    assert!(!a.duplicate);
    let c = hub
        .send(msg(Channel::CHAT, 1).idempotency_key(key("c")))
        .await
        .unwrap();
    assert!(c.duplicate);
}

#[test]
fn keys_are_validated_like_other_names() {
    assert!(IdempotencyKey::new("").is_err());
    assert!(IdempotencyKey::new("a\nb").is_err());
    assert!(IdempotencyKey::new("x".repeat(257)).is_err());
    assert_eq!(
        IdempotencyKey::new("x".repeat(256)).unwrap().as_str().len(),
        256
    );
    let err = serde_json::from_value::<Message>(json!({
        "channel": "chat", "event": "data", "idempotencyKey": ""
    }))
    .unwrap_err();
    assert!(err.to_string().contains("idempotencyKey"), "{err}");
}
