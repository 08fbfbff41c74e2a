//! One control plane across instances on one Redis: kicks, bans, revocations and identity
//! refreshes reach every instance; statistics and listings count every live instance and drop
//! a dead one; persistent messages reach instances started later; credentials that expire
//! mid-stream end it, and a client with fresh ones resumes with nothing lost.

mod common;

use std::{
    collections::BTreeSet,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use common::{Instance, TestKey, WAIT, message, until_fence};
use serde_json::json;
use sse_hub::{
    Backplane, Channel, ConnectOptions, Hub, Identity, UserId,
    error::ConnectError,
    testing::{Event, Events},
};

fn bob() -> ConnectOptions {
    ConnectOptions::new(Identity::user(UserId::from(3))).channels([Channel::CHAT])
}

fn carol() -> ConnectOptions {
    ConnectOptions::new(Identity::user(UserId::from(4))).channels([Channel::CHAT])
}

fn sorted<T: Ord + Clone>(items: &[T]) -> Vec<T> {
    let mut items = items.to_vec();
    items.sort();
    items
}

/// Reads a stream the hub ended: everything up to the end, then the final `retry:`.
async fn ended(events: &mut Events) -> Vec<Event> {
    let mut seen = Vec::new();
    while let Some(event) = events.next().await {
        seen.push(event);
    }
    assert!(events.retry().is_some(), "no final retry after {seen:?}");
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kicks_bans_and_revocations_from_one_instance_reach_every_instance() {
    let key = TestKey::new("control");
    let a = key.instance(Hub::builder()).await;
    let b = key.instance(Hub::builder()).await;
    let c = key.instance(Hub::builder()).await;
    let everyone = sorted(&[a.instance(), b.instance(), c.instance()]);

    // A kick by user, from A: Bob's streams on B and C end, Carol's does not.
    let (_, mut bob_b) = b.open(bob()).await;
    let (_, mut bob_c) = c.open(bob()).await;
    let (_, mut carol_c) = c.open(carol()).await;
    let report = a.kick_user(UserId::from(3)).await;
    assert_eq!(report.affected, 2);
    assert_eq!(sorted(&report.instances), everyone);
    assert!(
        report.missing.is_empty() && report.error.is_none(),
        "{report:?}"
    );
    assert!(ended(&mut bob_b).await.is_empty());
    assert!(ended(&mut bob_c).await.is_empty());
    assert_eq!(c.connection_count(), 1);

    // Without a ban, Bob comes back at once. A kick by id from A finds his stream on C.
    let (connected, mut bob_c) = c.open(bob()).await;
    let id = connected.connection_id;
    assert_eq!(id.instance(), Some(c.instance()));
    assert_eq!(
        id.to_string(),
        format!("conn-{}-{}", c.instance(), id.get())
    );
    let info = a.cluster_connection_info(id).await.expect("C holds it");
    assert_eq!((info.id, info.instance), (id, c.instance()));
    let report = a.kick(id).await;
    assert_eq!(report.affected, 1);
    ended(&mut bob_c).await;
    assert!(a.cluster_connection_info(id).await.is_none());
    assert_eq!(a.kick(id).await.affected, 0);

    // A ban, from A: Bob's streams end and every instance refuses him until it is lifted.
    let (_, mut bob_b) = b.open(bob()).await;
    let (_, mut bob_c) = c.open(bob()).await;
    let report = a.ban_user(UserId::from(3), Duration::from_secs(60)).await;
    assert_eq!(report.affected, 2);
    assert_eq!(sorted(&report.instances), everyone);
    ended(&mut bob_b).await;
    ended(&mut bob_c).await;
    let until = a.banned_until(UserId::from(3)).expect("A holds the ban");
    for instance in [&a, &b, &c] {
        match instance.connect(bob()).await {
            Err(ConnectError::Banned { until: refused }) => assert_eq!(refused, until),
            other => panic!("expected a ban, got {other:?}"),
        }
        instance
            .connect(carol())
            .await
            .expect("Carol is not banned");
    }
    // An instance that starts during the ban knows it.
    let d = key.instance(Hub::builder()).await;
    assert!(matches!(
        d.connect(bob()).await,
        Err(ConnectError::Banned { .. })
    ));
    let report = b.unban_user(UserId::from(3)).await;
    assert_eq!(report.affected, 4);
    for instance in [&a, &b, &c, &d] {
        instance.connect(bob()).await.expect("the ban is lifted");
    }
    drop(d);

    // A revocation, from A: Bob's streams end with the auth-expired refresh.
    let (_, mut bob_b) = b.open(bob()).await;
    let (_, mut bob_c) = c.open(bob()).await;
    let report = a.revoke_user(UserId::from(3)).await;
    assert_eq!(report.affected, 2);
    for stream in [&mut bob_b, &mut bob_c] {
        let seen = ended(stream).await;
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert!(seen[0].is_auth_expired(), "{}", seen[0]);
    }
    // Carol's stream saw none of it.
    a.send(message(Channel::CHAT, "still here")).await.unwrap();
    assert_eq!(carol_c.next().await.unwrap().payload(), json!("still here"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_and_listings_count_every_instance_and_drop_a_dead_one() {
    let key = TestKey::new("cluster-stats");
    let config = key
        .config()
        .stats(Duration::from_millis(100), Duration::from_secs(3))
        .control_timeout(Duration::from_millis(300));
    let a = Instance::start(&key.url, config.clone(), Hub::builder()).await;
    let b = Instance::start(&key.url, config.clone(), Hub::builder()).await;
    // C runs on a runtime of its own, so that it can die without cleaning up.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (url, c_config) = (key.url.clone(), config.clone());
    let c = runtime
        .spawn(async move { Instance::start(&url, c_config, Hub::builder()).await })
        .await
        .unwrap();
    let _a1 = a.open(bob()).await;
    let _b1 = b.open(bob()).await;
    let _b2 = b.open(carol()).await;
    let _c1 = c.open(carol().channels([Channel::ALERTS])).await;
    let everyone = sorted(&[a.instance(), b.instance(), c.instance()]);

    let listing = a.cluster_connections(None).await;
    assert_eq!(sorted(&listing.instances), everyone);
    let rows: Vec<_> = listing
        .connections
        .iter()
        .map(|row| (row.instance, row.user_id.clone().unwrap()))
        .collect();
    let mut expected = vec![
        (a.instance(), UserId::from(3)),
        (b.instance(), UserId::from(3)),
        (b.instance(), UserId::from(4)),
        (c.instance(), UserId::from(4)),
    ];
    expected.sort_by_key(|(instance, _)| *instance);
    let mut rows_sorted = rows.clone();
    rows_sorted.sort();
    expected.sort();
    assert_eq!(rows_sorted, expected);
    let json = serde_json::to_value(&listing.connections[0]).unwrap();
    assert_eq!(
        json["instance"],
        listing.connections[0].instance.to_string()
    );
    let carols = b.cluster_connections(Some(&UserId::from(4))).await;
    assert_eq!(carols.connections.len(), 2);

    // Every instance answers with its statistics as they are now.
    let stats = a.cluster_stats().await;
    assert_eq!(stats.total_connections, 4);
    let ids: Vec<_> = stats.instances.iter().map(|i| i.instance).collect();
    assert_eq!(ids, everyone);
    assert_eq!(stats.connections_per_channel[&Channel::CHAT], 3);
    assert_eq!(stats.connections_per_channel[&Channel::ALERTS], 1);

    // Each instance publishes a snapshot every 100 ms: C's soon shows its connection.
    tokio::time::timeout(WAIT, async {
        loop {
            let snapshots = a.backplane.cluster_stats().await.unwrap();
            if snapshots
                .iter()
                .any(|s| s.instance == c.instance() && s.stats.total_connections == 1)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("C publishes its statistics");

    // C dies: right away a command names it as missing, and the statistics count it from the
    // snapshot it last published; that ends within its TTL.
    runtime.shutdown_background();
    let report = a.kick_user(UserId::from(99)).await;
    assert_eq!(report.missing, [c.instance()], "{report:?}");
    assert_eq!(
        sorted(&report.instances),
        sorted(&[a.instance(), b.instance()])
    );
    let stats = a.cluster_stats().await;
    let last = stats
        .instances
        .iter()
        .find(|i| i.instance == c.instance())
        .expect("C's last snapshot lives on");
    assert_eq!(last.stats.total_connections, 1);
    assert!(last.updated_at < a.clock().now_ms());
    assert_eq!(stats.total_connections, 4);
    let stats = wait_for_stats(&a, |s| s.instances.len() == 2).await;
    assert_eq!(stats.total_connections, 3);
    assert!(stats.instances.iter().all(|i| i.instance != c.instance()));
    let report = a.kick_user(UserId::from(99)).await;
    assert!(report.missing.is_empty(), "{report:?}");

    // A clean stop leaves without waiting for its snapshot to end.
    let stopped = std::time::Instant::now();
    drop(b);
    wait_for_stats(&a, |s| s.instances.len() == 1).await;
    assert!(stopped.elapsed() < Duration::from_secs(3));
    std::mem::forget(c);
}

/// Polls `hub.cluster_stats()` until `done` holds, within [`WAIT`].
async fn wait_for_stats(
    hub: &Hub,
    done: impl Fn(&sse_hub::cluster::ClusterStats) -> bool,
) -> sse_hub::cluster::ClusterStats {
    tokio::time::timeout(WAIT, async {
        loop {
            let stats = hub.cluster_stats().await;
            if done(&stats) {
                return stats;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the cluster's statistics settle in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_messages_published_before_an_instance_started_reach_its_new_connections() {
    let key = TestKey::new("cluster-persistent");
    let config = key.config().persistent(2, Duration::from_secs(3600));
    let a = Instance::start(&key.url, config.clone(), Hub::builder()).await;
    let banner = |text: &str| message(Channel::ALERTS, text).persistent();
    a.send(banner("first")).await.unwrap();
    a.send(message(Channel::ALERTS, "not persistent"))
        .await
        .unwrap();
    a.send(banner("maintenance v1").coalesce_key("maintenance".parse().unwrap()))
        .await
        .unwrap();
    let replaced = a
        .send(banner("maintenance v2").coalesce_key("maintenance".parse().unwrap()))
        .await
        .unwrap();
    let newest = a.send(banner("newest")).await.unwrap();
    a.send(banner("expired").ttl(Duration::from_millis(1)))
        .await
        .unwrap();

    // At most two are kept: the first went to make room.
    let c = Instance::start(&key.url, config, Hub::builder()).await;
    let (connected, mut events) = c
        .open(ConnectOptions::new(Identity::anonymous()).channels([Channel::ALERTS]))
        .await;
    assert_eq!(connected.replayed, 2);
    let first = events.next().await.unwrap();
    assert_eq!(first.payload(), json!("maintenance v2"));
    assert_eq!(first.id, replaced.cursor.to_string());
    let second = events.next().await.unwrap();
    assert_eq!(second.payload(), json!("newest"));
    assert_eq!(second.id, newest.cursor.to_string());
    events
        .expect_no_event_within(Duration::from_millis(50))
        .await;
    assert_eq!(c.stats().persistent_messages, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_that_expire_mid_stream_end_it_and_fresh_ones_resume_with_nothing_lost() {
    let key = TestKey::new("cluster-expiry");
    let a = key.instance(Hub::builder()).await;
    let b = key.instance(Hub::builder()).await;
    let c = key.instance(Hub::builder()).await;
    let now = a.clock().now_ms();
    let with_expiry = |at: u64| {
        ConnectOptions::new(Identity::user(UserId::from(3)).with_expiry(at))
            .channels([Channel::CHAT, Channel::SYSTEM])
    };
    let (_, mut on_b) = b.open(with_expiry(now + 300)).await;

    // Messages flow from A, one every 5 ms, while the credentials expire.
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let (hub, stop) = (a.hub.clone(), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(Duration::from_millis(5));
            let mut sent = 0_u64;
            while !stop.load(Ordering::SeqCst) && sent < 2_000 {
                ticks.tick().await;
                sent += 1;
                hub.send(message(Channel::CHAT, &sent.to_string()))
                    .await
                    .unwrap();
            }
            sent
        })
    };
    let mut received: Vec<u64> = Vec::new();
    let refresh = loop {
        let event = on_b.next().await.expect("the stream ends with a refresh");
        if event.event == "refresh" {
            break event;
        }
        received.push(event.payload().as_str().unwrap().parse().unwrap());
    };
    assert!(refresh.is_auth_expired(), "{refresh}");
    assert!(on_b.next().await.is_none());
    // The refresh has no id of its own: the client's last id is the last message's.
    assert!(!received.is_empty());
    let last_id = refresh.id.parse().unwrap();

    // The same credentials are refused on another instance; fresh ones resume there.
    assert!(matches!(
        c.connect(with_expiry(now + 300).last_event_id(last_id))
            .await,
        Err(ConnectError::CredentialsExpired)
    ));
    let (connected, mut on_c) = c
        .open(with_expiry(now + 3_600_000).last_event_id(last_id))
        .await;
    assert!(connected.resumed && !connected.history_gap);
    stop.store(true, Ordering::SeqCst);
    let sent = sender.await.unwrap();
    a.send(message(Channel::SYSTEM, "fence")).await.unwrap();
    for event in until_fence(&mut on_c).await {
        received.push(event.payload().as_str().unwrap().parse().unwrap());
    }
    let expected: Vec<u64> = (1..=sent).collect();
    assert_eq!(received, expected, "every message once, in order");
    let unique: BTreeSet<_> = received.iter().collect();
    assert_eq!(unique.len(), received.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_publish_holds_across_instances_with_concurrent_repeats() {
    let key = TestKey::new("cluster-idempotency");
    let a = key.instance(Hub::builder()).await;
    let b = key.instance(Hub::builder()).await;
    let (_, mut on_b) = b
        .open(bob().channels([Channel::CHAT, Channel::SYSTEM]))
        .await;
    let message = message(Channel::CHAT, "once").idempotency_key("order-17".parse().unwrap());

    let sends: Vec<_> = (0..16)
        .map(|i| {
            let hub = if i % 2 == 0 {
                a.hub.clone()
            } else {
                b.hub.clone()
            };
            let message = message.clone();
            tokio::spawn(async move { hub.send(message).await.unwrap() })
        })
        .collect();
    let mut reports = Vec::new();
    for send in sends {
        reports.push(send.await.unwrap());
    }
    let originals: Vec<_> = reports.iter().filter(|r| !r.duplicate).collect();
    assert_eq!(originals.len(), 1, "{reports:?}");
    assert!(
        reports
            .iter()
            .all(|r| r.cursor == originals[0].cursor && r.id == originals[0].id)
    );

    // Another message under the same key, on either instance: a conflict, nothing sent.
    for hub in [&a, &b] {
        let other =
            common::message(Channel::CHAT, "other").idempotency_key("order-17".parse().unwrap());
        assert!(matches!(
            hub.send(other).await,
            Err(sse_hub::error::SendError::IdempotencyConflict { .. })
        ));
    }
    a.send(common::message(Channel::SYSTEM, "fence"))
        .await
        .unwrap();
    let seen = until_fence(&mut on_b).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].payload(), json!("once"));
    assert_eq!(a.stats().messages_sent + b.stats().messages_sent, 2);

    // The record lives for the window (5 minutes by default).
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{}:idem:order-17", key.key))
        .query(&mut key.redis())
        .unwrap();
    assert!((290_000..=300_000).contains(&ttl), "{ttl}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_answers_for_the_users_connections_on_every_instance() {
    let key = TestKey::new("cluster-explain");
    let a = key.instance(Hub::builder()).await;
    let b = key.instance(Hub::builder()).await;
    let (on_a, mut chat_a) = a
        .open(bob().channels([Channel::CHAT, Channel::SYSTEM]))
        .await;
    let (on_b, _alerts_b) = b.open(bob().channels([Channel::ALERTS])).await;
    let report = b.send(message(Channel::CHAT, "hello")).await.unwrap();
    chat_a
        .expect_message(&report, "data", &json!("hello"))
        .await;

    let why = b.explain(&report.cursor.to_string(), UserId::from(3)).await;
    assert_eq!(
        sorted(&why.instances),
        sorted(&[a.instance(), b.instance()])
    );
    let lines: Vec<_> = why
        .connections
        .iter()
        .map(|c| (c.connection_id, c.instance, c.outcome, c.detail.as_str()))
        .collect();
    let mut expected = vec![
        (
            on_a.connection_id,
            a.instance(),
            sse_hub::cluster::Outcome::Delivered,
            "written to the stream",
        ),
        (
            on_b.connection_id,
            b.instance(),
            sse_hub::cluster::Outcome::NotRecipient,
            "not subscribed to the channel chat",
        ),
    ];
    expected.sort_by_key(|line| (line.1, line.0));
    assert_eq!(lines, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_is_cluster_wide_with_one_join_and_one_debounced_leave_per_user() {
    let key = TestKey::new("cluster-presence");
    let builder = || {
        Hub::builder()
            .presence_channels([Channel::CHAT])
            .presence_debounce(Duration::from_millis(300))
    };
    let a = Instance::start(&key.url, key.config(), builder()).await;
    let b = Instance::start(&key.url, key.config(), builder()).await;
    let watcher = ConnectOptions::new(Identity::user(UserId::from(99)))
        .channels([Channel::CHAT, Channel::SYSTEM])
        .presence(true);
    let (_, mut watching) = a.open(watcher).await;
    assert_eq!(
        watching.expect_event("presence-join").await.payload(),
        json!({"userId": "99", "connections": 1})
    );

    // Bob's tabs on both instances, opened at once: one join.
    let (on_a, on_b) = tokio::join!(a.connect(bob()), b.connect(bob()));
    let (on_a, on_b) = (on_a.unwrap(), on_b.unwrap());
    assert_eq!(
        watching.expect_event("presence-join").await.payload(),
        json!({"userId": "3", "connections": 1})
    );
    let here = b.presence(&Channel::CHAT).await;
    let users: Vec<_> = here
        .users
        .iter()
        .map(|u| (u.user_id.as_str().to_owned(), u.connections))
        .collect();
    assert_eq!(users, [("3".to_owned(), 2), ("99".to_owned(), 1)]);
    assert_eq!((here.total, here.anonymous), (3, 0));

    // Closing one instance's tab is no leave; closing the last one is, after the debounce.
    drop(on_b);
    a.send(message(Channel::SYSTEM, "fence")).await.unwrap();
    assert_eq!(until_fence(&mut watching).await, []);
    let closed = std::time::Instant::now();
    drop(on_a);
    assert_eq!(
        watching.expect_event("presence-leave").await.payload(),
        json!({"userId": "3", "connections": 0})
    );
    assert!(closed.elapsed() >= Duration::from_millis(300));

    // Back on another instance within the debounce: neither a leave nor a join.
    let again = a.connect(bob()).await.unwrap();
    watching.expect_event("presence-join").await;
    drop(again);
    let _back = b.connect(bob()).await.unwrap();
    watching
        .expect_no_event_within(Duration::from_millis(800))
        .await;
    assert_eq!(a.presence(&Channel::CHAT).await.users.len(), 2);

    // An instance that dies takes its users with it: they are gone from the listing at once
    // (it cannot answer), and it is named.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (url, config) = (key.url.clone(), key.config());
    let c = runtime
        .spawn(async move { Instance::start(&url, config, builder()).await })
        .await
        .unwrap();
    let _carol = c.connect(carol()).await.unwrap();
    watching.expect_event("presence-join").await;
    assert_eq!(a.presence(&Channel::CHAT).await.users.len(), 3);
    runtime.shutdown_background();
    let here = a.presence(&Channel::CHAT).await;
    assert_eq!(here.users.len(), 2, "{here:?}");
    assert_eq!(here.missing, [c.instance()]);
    std::mem::forget(c);
}
