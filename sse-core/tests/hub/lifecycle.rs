//! The life of connections: disconnects, shutdown, statistics, and publishers and connections
//! that come and go concurrently.

use std::{collections::HashSet, time::Duration};

use futures_util::FutureExt;
use serde_json::{Value, json};
use sse_hub::{
    Channel, ConnectOptions, EventType, Hub, Identity, Message, Subscription, UserId,
    error::{ConnectError, SendError},
    testing::{Event, Events, TestClock, drain},
};

use crate::support::{START, connect, msg, user};

#[tokio::test]
async fn disconnects_end_streams_with_retry() {
    let hub = Hub::builder()
        .reconnect_retry(Duration::from_secs(2))
        .build();
    let mut a1 = connect(&hub, user(1).channels([Channel::CHAT])).await;
    let mut a2 = connect(&hub, user(1).channels([Channel::ALERTS])).await;
    let mut b = connect(&hub, user(2).channels([Channel::CHAT])).await;
    assert_eq!(hub.connections_of(UserId::from(1)).len(), 2);

    assert!(hub.disconnect(b.id()));
    assert!(!hub.disconnect(b.id()));
    assert_eq!(drain(&mut b)[0].retry, Some(Duration::from_secs(2)));
    assert_eq!(b.recv().await, None);

    assert_eq!(hub.disconnect_user(UserId::from(1)), 2);
    for sub in [&mut a1, &mut a2] {
        assert_eq!(drain(sub)[0].retry, Some(Duration::from_secs(2)));
        assert_eq!(sub.recv().await, None);
    }
    assert_eq!(hub.connection_count(), 0);
    assert!(hub.connection_info(a1.id()).is_none());
}

#[tokio::test]
async fn frames_a_close_leaves_unwritten_are_counted() {
    let hub = Hub::builder().queue_capacity(2).build();
    let mut kicked = connect(&hub, user(1).channels([Channel::CHAT])).await;
    let gone = connect(&hub, user(2).channels([Channel::CHAT])).await;
    let mut slow = connect(&hub, user(3).channels([Channel::CHAT])).await;
    for n in 0..2 {
        hub.send(msg(Channel::CHAT, n)).await.unwrap();
    }
    // Kicked with two frames unwritten; the client of `gone` goes away with two; `slow` is
    // closed as too slow by the third message, with two queued and the third.
    assert!(hub.disconnect(kicked.id()));
    drop(gone);
    let report = hub.send(msg(Channel::CHAT, 2)).await.unwrap();
    assert_eq!(report.closed, 1);
    let stats = hub.stats();
    assert_eq!(stats.cleared, 2 + 2 + 3, "{stats:?}");
    assert_eq!(stats.closed_slow, 1);
    assert_eq!(serde_json::to_value(&stats).unwrap()["cleared"], 7);
    assert!(drain(&mut kicked).iter().all(Event::is_retry_only));
    assert!(drain(&mut slow).iter().all(Event::is_retry_only));
}

#[tokio::test]
async fn shutdown_ends_every_stream_with_a_jittered_retry_and_refuses_more() {
    let hub = Hub::builder()
        .reconnect_retry(Duration::from_secs(1))
        .shutdown_jitter(Duration::from_secs(4))
        .build();
    let mut subs = Vec::new();
    for id in 0..50 {
        subs.push(connect(&hub, user(id).channels([Channel::SYSTEM])).await);
    }
    hub.send(msg(Channel::SYSTEM, 1)).await.unwrap();
    assert_eq!(hub.shutdown(), 50);
    let mut retries = HashSet::new();
    for sub in &mut subs {
        // Queued messages are dropped: the client resumes them from history.
        let got = drain(sub);
        assert_eq!(got.len(), 1);
        let retry = got[0].retry.unwrap().as_millis();
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

#[tokio::test(start_paused = true)]
async fn stats_after_a_scripted_scenario() {
    let clock = TestClock::new(START);
    let hub = clock.hub().queue_capacity(2).build();
    let addr = "127.0.0.1:4000".parse().unwrap();
    let mut a = connect(
        &hub,
        user(1)
            .channels([Channel::CHAT, Channel::ALERTS])
            .client_addr(addr),
    )
    .await;
    let mut b = connect(&hub, user(2).channels([Channel::CHAT])).await;
    let c = connect(
        &hub,
        ConnectOptions::new(Identity::anonymous())
            .channels([Channel::ALERTS])
            .queue_capacity(1),
    )
    .await;

    hub.send(msg(Channel::CHAT, 1)).await.unwrap(); // a, b
    hub.send(msg(Channel::ALERTS, 2)).await.unwrap(); // a, c
    clock.advance(Duration::from_secs(30)).await;
    hub.send(msg(Channel::CHAT, 3).to_users([2])).await.unwrap(); // b
    assert_eq!(drain(&mut a).len(), 2);
    assert_eq!(drain(&mut b).len(), 2);
    hub.send(msg(Channel::ALERTS, 4)).await.unwrap(); // a; c is full and closed
    clock.advance(Duration::from_secs(31)).await;

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

/// The size of the next chunk queued, if any: what the queue held in memory.
fn frames_bytes(sub: &mut Subscription) -> usize {
    sub.recv().now_or_never().flatten().map_or(0, |b| b.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_publishers_and_churning_connections() {
    const PUBLISHERS: u64 = 4;
    const PER_PUBLISHER: u64 = 250;
    const TOTAL: usize = (PUBLISHERS * PER_PUBLISHER) as usize;
    let hub = Hub::builder().queue_capacity(4_096).build();

    // Long-lived connections that must see every message exactly once, in per-publisher order.
    let mut steady = Vec::new();
    for id in 0..8 {
        steady.push(connect(&hub, user(id).channels([Channel::LIVE_UPDATES])).await);
    }
    let readers: Vec<_> = steady
        .into_iter()
        .map(|sub| {
            tokio::spawn(async move {
                let mut events = Events::from_subscription(sub).wait(Duration::from_secs(10));
                let seen: Vec<Value> = events
                    .take(TOTAL)
                    .await
                    .iter()
                    .map(Event::payload)
                    .collect();
                (events, seen)
            })
        })
        .collect();

    // Connections that come and go while messages flow.
    let churn = {
        let hub = hub.clone();
        tokio::spawn(async move {
            for round in 0..200u64 {
                let sub =
                    connect(&hub, user(1_000 + round).channels([Channel::LIVE_UPDATES])).await;
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
        let (mut events, seen) = reader.await.unwrap();
        assert_eq!(seen.len(), TOTAL);
        // Every message is sent and queued by now: nothing beyond them is waiting.
        assert_eq!(events.try_next(), None);
        for p in 0..PUBLISHERS {
            let order: Vec<u64> = seen
                .iter()
                .filter(|v| v["p"] == p)
                .map(|v| v["n"].as_u64().unwrap())
                .collect();
            assert_eq!(order, (0..PER_PUBLISHER).collect::<Vec<_>>());
        }
        drop(events);
    }
    assert_eq!(hub.connection_count(), 0);
    let stats = hub.stats();
    assert_eq!(stats.messages_sent, PUBLISHERS * PER_PUBLISHER);
    assert_eq!(stats.total_connections, 0);
    assert_eq!(stats.memory.queues, 0);
    assert_eq!((stats.shed, stats.closed_slow), (0, 0));
}
