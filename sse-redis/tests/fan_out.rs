//! Two hubs on one Redis stream: what is sent on one reaches the other's connections.

mod common;

use std::sync::Arc;

use common::{TestKey, message, until_fence};
use serde_json::json;
use sse_hub::{
    Backplane, Channel, ConnectOptions, Cursor, Hub, Identity, Role, UserId,
    error::{BackplaneError, SendError},
};
use sse_redis::RedisBackplane;

/// A connection to `channel` and the system channel (where the fence goes).
fn options(identity: Identity, channel: Channel) -> ConnectOptions {
    ConnectOptions::new(identity).channels([channel, Channel::SYSTEM])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targeted_messages_reach_exactly_the_matching_connections_on_every_instance() {
    let key = TestKey::new("targeting");
    let a = key.instance(Hub::builder()).await;
    let b = key.instance(Hub::builder()).await;
    let admin = Role::from_static("admin");

    let user = |id: u64| Identity::user(UserId::from(id));
    let admin_user = |id: u64| user(id).with_role(admin.clone());
    let (_, mut b_user1) = b.open(options(user(1), Channel::NOTIFICATIONS)).await;
    let (_, mut b_user2) = b.open(options(user(2), Channel::NOTIFICATIONS)).await;
    let (_, mut b_admin) = b.open(options(admin_user(3), Channel::NOTIFICATIONS)).await;
    let (_, mut b_chat) = b.open(options(Identity::anonymous(), Channel::CHAT)).await;
    let (_, mut b_user1_chat) = b.open(options(user(1), Channel::CHAT)).await;
    let (_, mut a_user1) = a.open(options(user(1), Channel::NOTIFICATIONS)).await;
    let (_, mut a_admin) = a.open(options(admin_user(4), Channel::NOTIFICATIONS)).await;

    let for_user1 = a
        .send(message(Channel::NOTIFICATIONS, "for-user-1").to_users([1]))
        .await
        .unwrap();
    let for_admins = a
        .send(message(Channel::NOTIFICATIONS, "for-admins").to_roles([admin]))
        .await
        .unwrap();
    let chat1 = a.send(message(Channel::CHAT, "chat-1")).await.unwrap();
    let for_user2 = a
        .send(
            message(Channel::NOTIFICATIONS, "for-user-2")
                .to_users([2, 1])
                .exclude_users([1]),
        )
        .await
        .unwrap();
    let chat2 = a.send(message(Channel::CHAT, "chat-2")).await.unwrap();
    let fence = a.send(message(Channel::SYSTEM, "fence")).await.unwrap();

    // Reports count the sending instance's own recipients.
    assert_eq!(
        [
            for_user1.sent,
            for_admins.sent,
            chat1.sent,
            for_user2.sent,
            chat2.sent,
            fence.sent
        ],
        [1, 1, 0, 0, 0, 2]
    );
    let cursors = [&for_user1, &for_admins, &chat1, &for_user2, &chat2, &fence].map(|r| r.cursor);
    assert!(cursors.windows(2).all(|w| w[0] < w[1]), "{cursors:?}");
    assert!(cursors.iter().all(|c| c.same_epoch(&cursors[0])));

    let c = |r: &sse_hub::SendReport| r.cursor.to_string();
    let expect = [
        (&mut b_user1, vec![("for-user-1", c(&for_user1))]),
        (&mut b_user2, vec![("for-user-2", c(&for_user2))]),
        (&mut b_admin, vec![("for-admins", c(&for_admins))]),
        (
            &mut b_chat,
            vec![("chat-1", c(&chat1)), ("chat-2", c(&chat2))],
        ),
        (
            &mut b_user1_chat,
            vec![("chat-1", c(&chat1)), ("chat-2", c(&chat2))],
        ),
        (&mut a_user1, vec![("for-user-1", c(&for_user1))]),
        (&mut a_admin, vec![("for-admins", c(&for_admins))]),
    ];
    for (n, (events, expected)) in expect.into_iter().enumerate() {
        let got = until_fence(events).await;
        let got: Vec<(String, String)> = got
            .iter()
            .map(|e| {
                assert_eq!(e.event, "data");
                (e.payload().as_str().unwrap().to_owned(), e.id.clone())
            })
            .collect();
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(p, id)| (p.to_owned(), id))
            .collect();
        assert_eq!(got, expected, "connection #{n}");
        // Nothing after the fence.
        assert_eq!(events.try_next(), None, "connection #{n}");
    }

    let (sa, sb) = (a.stats(), b.stats());
    assert_eq!((sa.messages_sent, sb.messages_sent), (6, 0));
    assert_eq!((sa.messages_dispatched, sb.messages_dispatched), (6, 6));
    assert_eq!((sa.backplane_errors, sb.backplane_errors), (0, 0));
    // The shared stream's length, seen by both; its bytes live in Redis.
    assert_eq!((sa.backplane.entries, sb.backplane.entries), (6, 6));
    assert_eq!((sa.backplane.bytes, sa.memory.history), (0, 0));
    assert_eq!(a.backplane.epoch(), cursors[0].epoch(), "{:?}", a.backplane);
    assert_eq!(b.backplane.epoch(), a.backplane.epoch());
    let debug = format!("{:?}", a.backplane);
    assert!(
        debug.starts_with("RedisBackplane {")
            && debug.contains(&key.key)
            && debug.contains("entries: 6"),
        "{debug}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_instance_delivers_concurrent_sends_in_the_same_order() {
    let key = TestKey::new("order");
    let a = key.instance(Hub::builder()).await;
    let b = key.instance(Hub::builder()).await;
    let options = || ConnectOptions::new(Identity::anonymous()).channels([Channel::LIVE_UPDATES]);
    let (_, mut on_a) = a.open(options()).await;
    let (_, mut on_b) = b.open(options()).await;

    let sends: Vec<_> = (0..40)
        .map(|n| {
            let hub = if n % 2 == 0 {
                a.hub.clone()
            } else {
                b.hub.clone()
            };
            tokio::spawn(async move {
                hub.send(message(Channel::LIVE_UPDATES, &n.to_string()))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut reports = Vec::new();
    for send in sends {
        reports.push(send.await.unwrap());
    }
    let seen_a = on_a.take(40).await;
    let seen_b = on_b.take(40).await;
    assert_eq!((on_a.try_next(), on_b.try_next()), (None, None));
    assert_eq!(seen_a, seen_b);
    let cursors: Vec<Cursor> = seen_a.iter().map(|e| e.id.parse().unwrap()).collect();
    assert!(cursors.windows(2).all(|w| w[0] < w[1]));
    // Each send's report names the cursor its message was delivered with.
    let mut by_cursor: Vec<(Cursor, String)> = reports
        .iter()
        .enumerate()
        .map(|(n, r)| (r.cursor, n.to_string()))
        .collect();
    by_cursor.sort_by_key(|(c, _)| c.position());
    let delivered: Vec<(Cursor, String)> = cursors
        .into_iter()
        .zip(&seen_a)
        .map(|(c, e)| (c, e.payload().as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(delivered, by_cursor);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_entries_are_counted_and_tailing_goes_on() {
    let key = TestKey::new("corrupt");
    let a = key.instance(Hub::builder()).await;
    let b = key.instance(Hub::builder()).await;
    let (_, mut on_b) = b
        .open(ConnectOptions::new(Identity::anonymous()).channels([Channel::CHAT]))
        .await;

    let mut redis = key.redis();
    for (field, value) in [("e", "not an envelope"), ("other-field", "x")] {
        let _: String = redis::cmd("XADD")
            .arg(&key.key)
            .arg("*")
            .arg(field)
            .arg(value)
            .query(&mut redis)
            .unwrap();
    }
    let report = a.send(message(Channel::CHAT, "after")).await.unwrap();

    on_b.expect_message(&report, "data", &json!("after")).await;
    assert_eq!(on_b.try_next(), None);
    // Both hubs read both corrupt entries before the good one, and counted them.
    assert_eq!(a.stats().backplane_errors, 2);
    assert_eq!(b.stats().backplane_errors, 2);
    assert_eq!(b.stats().messages_dispatched, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_fail_fast_while_no_dispatcher_runs_and_after_close() {
    let key = TestKey::new("no-dispatcher");
    let backplane = RedisBackplane::connect(&key.url, key.config())
        .await
        .unwrap();
    let hub = Hub::builder()
        .backplane(Arc::clone(&backplane) as _)
        .build();
    let err = hub
        .send(message(Channel::CHAT, "nobody dispatches"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SendError::Backplane(BackplaneError::Unavailable(_))),
        "{err}"
    );

    let running = key.instance(Hub::builder()).await;
    running.send(message(Channel::CHAT, "ok")).await.unwrap();
    running.backplane.close();
    assert!(running.backplane.is_closed());
    // The dispatcher ends with the tail; from then on sends fail at once.
    tokio::time::timeout(common::WAIT, async {
        while running.send(message(Channel::CHAT, "late")).await.is_ok() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the dispatcher stops after close");
    let envelope = running.encode(message(Channel::CHAT, "direct")).unwrap();
    let err = running
        .backplane
        .publish(Arc::new(envelope))
        .await
        .unwrap_err();
    assert!(matches!(err, BackplaneError::Closed), "{err}");
    let err = running
        .backplane
        .replay(&Cursor::new(1, 1, 0), 10)
        .await
        .unwrap_err();
    assert!(matches!(err, BackplaneError::Closed), "{err}");
}
