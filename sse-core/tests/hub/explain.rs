//! "Why didn't user X get message M?": every outcome the ledger explains, each produced on
//! purpose on a process-local hub.

use std::time::Duration;

use serde_json::json;
use sse_hub::{
    Channel, ConnectOptions, Hub, Identity, Permission, Role, SendReport, Subscription, UserId,
    cluster::{Explanation, Outcome},
    testing::{TestClock, drain},
};

use crate::support::{START, connect, msg};

fn bob() -> ConnectOptions {
    ConnectOptions::new(
        Identity::user(UserId::from(3))
            .with_role(Role::from_static("viewer"))
            .with_permission(Permission::from_static("reports.read")),
    )
}

async fn why(hub: &Hub, report: &SendReport) -> Explanation {
    hub.explain(&report.cursor.to_string(), UserId::from(3))
        .await
}

/// The (outcome, detail) of each of Bob's connections, ordered by connection id.
fn lines(why: &Explanation) -> Vec<(Outcome, String)> {
    why.connections
        .iter()
        .map(|c| (c.outcome, c.detail.clone()))
        .collect()
}

#[tokio::test]
async fn delivered_queued_and_why_a_connection_was_not_a_recipient() {
    let hub = Hub::new();
    let mut read = connect(&hub, bob().channels([Channel::CHAT])).await;
    let _unread = connect(&hub, bob().channels([Channel::CHAT])).await;
    let _elsewhere = connect(&hub, bob().channels([Channel::ALERTS])).await;
    let report = hub.send(msg(Channel::CHAT, 1)).await.unwrap();
    drain(&mut read);
    let why = why(&hub, &report).await;
    assert_eq!(why.instances, [hub.instance()]);
    assert_eq!(
        lines(&why),
        [
            (Outcome::Delivered, "written to the stream".to_owned()),
            (Outcome::Queued, "waiting to be written".to_owned()),
            (
                Outcome::NotRecipient,
                "not subscribed to the channel chat".to_owned()
            ),
        ]
    );
    assert_eq!(why.connections[0].connection_id, read.id());
    // By id too.
    let by_id = hub.explain(report.id.as_str(), UserId::from(3)).await;
    assert_eq!(lines(&by_id), lines(&why));
    let json = serde_json::to_value(&why).unwrap();
    assert_eq!(json["connections"][2]["outcome"], "not-recipient");
    assert_eq!(json["connections"][0]["connectionId"], "conn-1");
}

#[tokio::test]
async fn targeting_reasons_name_what_was_missing() {
    let hub = Hub::new();
    let _chat = connect(&hub, bob().channels([Channel::CHAT])).await;
    let cases = [
        (
            msg(Channel::CHAT, 1).exclude_users([3]),
            "the user is excluded (excludeUsers)",
        ),
        (
            msg(Channel::CHAT, 2).to_users([4]),
            "the user is not among targetUsers",
        ),
        (
            msg(Channel::CHAT, 3)
                .to_roles([Role::from_static("admin"), Role::from_static("editor")]),
            "holds none of the roles admin, editor",
        ),
        (
            msg(Channel::CHAT, 4).to_permissions([Permission::from_static("users.manage")]),
            "holds none of the permissions users.manage",
        ),
    ];
    for (message, detail) in cases {
        let report = hub.send(message).await.unwrap();
        assert_eq!(
            lines(&why(&hub, &report).await),
            [(Outcome::NotRecipient, detail.to_owned())]
        );
    }
}

#[tokio::test]
async fn shed_at_dispatch_shed_later_and_closed_as_too_slow() {
    let hub = Hub::new();
    let mut full = connect(&hub, bob().channels([Channel::CHAT]).queue_capacity(1)).await;
    let important = hub.send(msg(Channel::CHAT, 1).priority(9)).await.unwrap();
    let unimportant = hub.send(msg(Channel::CHAT, 2).priority(1)).await.unwrap();
    assert_eq!(
        lines(&why(&hub, &unimportant).await)[0],
        (
            Outcome::Shed,
            "the connection's queue was full of more important messages".to_owned()
        )
    );
    drain(&mut full);

    let low = hub.send(msg(Channel::CHAT, 3).priority(2)).await.unwrap();
    hub.send(msg(Channel::CHAT, 4).priority(8)).await.unwrap();
    assert_eq!(
        lines(&why(&hub, &low).await)[0],
        (
            Outcome::Shed,
            "shed from the queue for a more important message".to_owned()
        )
    );
    let queued = hub.send(msg(Channel::CHAT, 5).priority(8)).await.unwrap();
    assert_eq!(
        lines(&why(&hub, &queued).await)[0].0,
        Outcome::SlowClosed,
        "the queue held one as important"
    );
    assert_eq!(lines(&why(&hub, &important).await)[0].0, Outcome::Delivered);
    drop(full);
}

#[tokio::test(start_paused = true)]
async fn expired_coalesced_and_closed_before_written() {
    let clock = TestClock::new(START);
    let hub = clock.hub().build();
    let mut stream = connect(&hub, bob().channels([Channel::CHAT])).await;
    let short = hub
        .send(msg(Channel::CHAT, 1).ttl(Duration::from_secs(1)))
        .await
        .unwrap();
    let key = || "dashboard".parse().unwrap();
    let replaced = hub
        .send(msg(Channel::CHAT, 2).coalesce_key(key()))
        .await
        .unwrap();
    let newer = hub
        .send(msg(Channel::CHAT, 3).coalesce_key(key()))
        .await
        .unwrap();
    clock.advance(Duration::from_secs(2)).await;
    assert_eq!(
        drain(&mut stream)
            .iter()
            .map(|e| e.payload())
            .collect::<Vec<_>>(),
        [json!(3)]
    );
    assert_eq!(
        lines(&why(&hub, &short).await)[0],
        (
            Outcome::Expired,
            "its TTL passed while it was queued".to_owned()
        )
    );
    assert_eq!(
        lines(&why(&hub, &replaced).await)[0],
        (
            Outcome::Coalesced,
            "replaced by a newer message with the same coalescing key".to_owned()
        )
    );
    assert_eq!(lines(&why(&hub, &newer).await)[0].0, Outcome::Delivered);

    let unwritten = hub.send(msg(Channel::CHAT, 4)).await.unwrap();
    let id = stream.id();
    assert!(hub.disconnect(id));
    drop(stream);
    // The connection ended; the ledger still explains it for its user.
    let why = why(&hub, &unwritten).await;
    assert_eq!(why.connections.len(), 1);
    assert_eq!(why.connections[0].connection_id, id);
    assert_eq!(
        lines(&why)[0],
        (
            Outcome::Closed,
            "the stream ended before it was written".to_owned()
        )
    );
}

#[tokio::test]
async fn connections_opened_after_the_message_say_whether_replay_delivered_it() {
    let hub = Hub::new();
    let first = connect(&hub, bob().channels([Channel::CHAT])).await;
    let before = hub.send(msg(Channel::CHAT, 0)).await.unwrap();
    drop(first);
    let report = hub.send(msg(Channel::CHAT, 1)).await.unwrap();
    let ephemeral = hub
        .send(msg(Channel::CHAT, 2).retryable(false))
        .await
        .unwrap();
    let mut resumed: Subscription = connect(
        &hub,
        bob().channels([Channel::CHAT]).last_event_id(before.cursor),
    )
    .await;
    let _fresh = connect(&hub, bob().channels([Channel::CHAT])).await;
    drain(&mut resumed);
    let why = why(&hub, &report).await;
    assert_eq!(
        lines(&why),
        [
            (
                Outcome::Delivered,
                "written to the stream (opened after the message; it came by replay)".to_owned()
            ),
            (
                Outcome::NotConnected,
                "opened after the message; replay did not deliver it: the connection did not \
                 resume from before it (no Last-Event-ID, or a later one)"
                    .to_owned()
            ),
        ]
    );
    let why = self::why(&hub, &ephemeral).await;
    assert_eq!(
        lines(&why)[0],
        (
            Outcome::NotConnected,
            "opened after the message; replay did not deliver it: it is not retryable, so it is \
             not replayed"
                .to_owned()
        )
    );
}

#[tokio::test]
async fn a_message_the_ledger_no_longer_holds_is_unknown() {
    let hub = Hub::builder().delivery_ledger(1, 1 << 20).build();
    let _stream = connect(&hub, bob().channels([Channel::CHAT])).await;
    let evicted = hub.send(msg(Channel::CHAT, 1)).await.unwrap();
    let kept = hub.send(msg(Channel::CHAT, 2)).await.unwrap();
    assert_eq!(lines(&why(&hub, &evicted).await)[0].0, Outcome::Unknown);
    assert_eq!(lines(&why(&hub, &kept).await)[0].0, Outcome::Queued);
    assert!(hub.stats().memory.ledger > 0);

    let off = Hub::builder().without_delivery_ledger().build();
    let _stream = connect(&off, bob().channels([Channel::CHAT])).await;
    let report = off.send(msg(Channel::CHAT, 1)).await.unwrap();
    assert_eq!(
        lines(&why(&off, &report).await),
        [(
            Outcome::Unknown,
            "the delivery ledger is switched off on this instance".to_owned()
        )]
    );
    assert_eq!(off.stats().memory.ledger, 0);
}
