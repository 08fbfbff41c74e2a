//! The control plane on a process-local backplane, where the hub is the whole cluster: bans,
//! revocation, credentials that expire on open streams, identity refresh, kicks by id, and
//! cluster-wide listings and statistics.

use std::time::Duration;

use serde_json::json;
use sse_hub::{
    Channel, ConnectOptions, ConnectionId, Identity, UserId,
    error::ConnectError,
    testing::{TestClock, drain},
};

use crate::{
    payloads,
    support::{START, connect, msg, user},
};

fn bob(expires_at: Option<u64>) -> ConnectOptions {
    let identity = Identity::user(UserId::from(3));
    let identity = match expires_at {
        Some(at) => identity.with_expiry(at),
        None => identity,
    };
    ConnectOptions::new(identity).channels([Channel::CHAT])
}

#[tokio::test(start_paused = true)]
async fn a_ban_ends_the_users_streams_and_refuses_them_until_it_ends() {
    let clock = TestClock::new(START);
    let hub = clock.hub().reconnect_retry(Duration::from_secs(2)).build();
    let mut first = connect(&hub, bob(None)).await;
    let mut second = connect(&hub, bob(None)).await;
    let mut other = connect(&hub, user(4).channels([Channel::CHAT])).await;

    let report = hub.ban_user(UserId::from(3), Duration::from_secs(60)).await;
    assert_eq!(
        (report.affected, report.instances, report.missing),
        (2, vec![hub.instance()], vec![])
    );
    for stream in [&mut first, &mut second] {
        let events = drain(stream);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].retry, Some(Duration::from_secs(2)));
        assert_eq!(stream.recv().await, None);
    }
    let until = START + 60_000;
    assert_eq!(hub.banned_until(UserId::from(3)), Some(until));
    match hub.connect(bob(None)).await {
        Err(ConnectError::Banned { until: refused }) => assert_eq!(refused, until),
        other => panic!("expected a ban, got {other:?}"),
    }
    // Others are not affected.
    hub.send(msg(Channel::CHAT, 1)).await.unwrap();
    assert_eq!(payloads(&mut other), [json!(1)]);

    clock.advance(Duration::from_millis(59_999)).await;
    assert!(matches!(
        hub.connect(bob(None)).await,
        Err(ConnectError::Banned { .. })
    ));
    clock.advance(Duration::from_millis(1)).await;
    connect(&hub, bob(None)).await;
    assert_eq!(hub.banned_until(UserId::from(3)), None);
}

#[tokio::test]
async fn an_unban_lets_the_user_back_at_once() {
    let hub = sse_hub::Hub::new();
    hub.ban_user(UserId::from(3), Duration::from_secs(3600))
        .await;
    assert!(hub.connect(bob(None)).await.is_err());
    assert_eq!(hub.unban_user(UserId::from(3)).await.affected, 1);
    assert_eq!(hub.unban_user(UserId::from(3)).await.affected, 0);
    connect(&hub, bob(None)).await;
}

#[tokio::test]
async fn a_kick_without_a_ban_lets_the_user_reconnect() {
    let hub = sse_hub::Hub::new();
    let mut stream = connect(&hub, bob(None)).await;
    // A user id is anything that converts: an id, a reference to one, an integer.
    assert_eq!(hub.connections_of(3_u64).len(), 1);
    let bob_id: UserId = "3".try_into().unwrap();
    assert_eq!(hub.connections_of(&bob_id).len(), 1);
    let report = hub.kick_user(bob_id).await;
    assert_eq!(report.affected, 1);
    assert!(drain(&mut stream)[0].is_retry_only());
    connect(&hub, bob(None)).await;
}

#[tokio::test(start_paused = true)]
async fn credentials_that_expire_end_the_stream_and_a_fresh_token_resumes_with_nothing_lost() {
    let clock = TestClock::new(START);
    let hub = clock.hub().reconnect_retry(Duration::from_secs(1)).build();
    let expiry = START + 10_000;
    let mut stream = connect(&hub, bob(Some(expiry))).await;
    assert_eq!(stream.expires_at(), Some(expiry));
    assert_eq!(
        hub.connection_info(stream.id()).unwrap().expires_at,
        Some(expiry)
    );

    let first = hub.send(msg(Channel::CHAT, 1)).await.unwrap();
    let events = drain(&mut stream);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].id, first.cursor.to_string());
    // Queued before the expiry, not written by then: dropped, and replayed later.
    hub.send(msg(Channel::CHAT, 2)).await.unwrap();
    clock.advance(Duration::from_secs(10)).await;
    let events = drain(&mut stream);
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events[0].is_auth_expired(), "{}", events[0]);
    // The refresh has no `id:` line (each drain decodes afresh): the client keeps the last id
    // it received.
    assert_eq!(events[0].id, "");
    assert_eq!(events[1].retry, Some(Duration::from_secs(1)));
    assert_eq!(stream.recv().await, None);
    assert_eq!(hub.connection_count(), 0);

    // Sent while the client is away.
    hub.send(msg(Channel::CHAT, 3)).await.unwrap();
    // The same credentials are refused.
    assert!(matches!(
        hub.connect(bob(Some(expiry)).last_event_id(first.cursor))
            .await,
        Err(ConnectError::CredentialsExpired)
    ));
    // Fresh ones resume after the last id: every message once, in order.
    let mut resumed = connect(
        &hub,
        bob(Some(START + 3_600_000)).last_event_id(first.cursor),
    )
    .await;
    assert_eq!(resumed.connected().replayed, 2);
    hub.send(msg(Channel::CHAT, 4)).await.unwrap();
    assert_eq!(payloads(&mut resumed), [json!(2), json!(3), json!(4)]);
}

#[tokio::test(start_paused = true)]
async fn a_refreshed_identity_keeps_the_stream_open_past_the_old_expiry() {
    let clock = TestClock::new(START);
    let hub = clock.hub().build();
    let mut stream = connect(&hub, bob(Some(START + 1_000))).await;
    let mut other = connect(&hub, user(4).channels([Channel::CHAT])).await;
    let report = hub.refresh_user(UserId::from(3), Some(START + 5_000)).await;
    assert_eq!(report.affected, 1);
    assert_eq!(stream.expires_at(), Some(START + 5_000));

    clock.advance(Duration::from_secs(2)).await;
    hub.send(msg(Channel::CHAT, 1)).await.unwrap();
    assert_eq!(payloads(&mut stream), [json!(1)]);
    assert_eq!(payloads(&mut other), [json!(1)]);

    clock.advance(Duration::from_secs(3)).await;
    let events = drain(&mut stream);
    assert!(events[0].is_auth_expired());
    assert!(events[1].is_retry_only());
    // Another user's connection has no expiry.
    hub.send(msg(Channel::CHAT, 2)).await.unwrap();
    assert_eq!(payloads(&mut other), [json!(2)]);

    // Refreshing to "never" removes the expiry.
    let mut forever = connect(&hub, bob(Some(START + 6_000))).await;
    hub.refresh_user(UserId::from(3), None).await;
    assert_eq!(forever.expires_at(), None);
    clock.advance(Duration::from_secs(3600)).await;
    hub.send(msg(Channel::CHAT, 3)).await.unwrap();
    assert_eq!(payloads(&mut forever), [json!(3)]);
}

#[tokio::test]
async fn revocation_ends_the_users_streams_with_the_auth_expired_refresh() {
    let hub = sse_hub::Hub::builder()
        .reconnect_retry(Duration::from_secs(3))
        .build();
    let mut first = connect(&hub, bob(None)).await;
    let mut second = connect(&hub, bob(None).channels([Channel::ALERTS])).await;
    let mut other = connect(&hub, user(4).channels([Channel::CHAT])).await;
    hub.send(msg(Channel::CHAT, 1)).await.unwrap();

    let report = hub.revoke_user(UserId::from(3)).await;
    assert_eq!(report.affected, 2);
    let events = drain(&mut first);
    // What was queued is dropped: the client gets it back from history.
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events[0].is_auth_expired());
    assert_eq!(events[1].retry, Some(Duration::from_secs(3)));
    let events = drain(&mut second);
    assert!(events[0].is_auth_expired());
    assert!(events[1].is_retry_only());
    assert_eq!(payloads(&mut other), [json!(1)]);
    assert_eq!(hub.connection_count(), 1);
    assert_eq!(hub.stats().cleared, 1);
    // Revocation is not a ban.
    connect(&hub, bob(None)).await;
}

#[tokio::test]
async fn kicks_listings_and_statistics_answer_for_the_one_instance() {
    let hub = sse_hub::Hub::new();
    let stream = connect(&hub, bob(None)).await;
    let _other = connect(&hub, user(4).channels([Channel::CHAT])).await;
    let instance = hub.instance();

    let listing = hub.cluster_connections(None).await;
    assert_eq!(listing.instances, [instance]);
    assert_eq!(listing.connections.len(), 2);
    assert!(listing.connections.iter().all(|c| c.instance == instance));
    let json = serde_json::to_value(&listing.connections[0]).unwrap();
    assert_eq!(json["instance"], instance.to_string());
    assert_eq!(json["id"], "conn-1");
    let bobs = hub.cluster_connections(Some(&UserId::from(3))).await;
    assert_eq!(bobs.connections.len(), 1);
    assert_eq!(
        hub.cluster_connection_info(stream.id()).await.unwrap().id,
        stream.id()
    );

    let stats = hub.cluster_stats().await;
    assert_eq!(stats.instances.len(), 1);
    assert_eq!(stats.instances[0].instance, instance);
    assert_eq!(stats.total_connections, 2);
    assert_eq!(stats.connections_per_channel[&Channel::CHAT], 2);

    let id: ConnectionId = "conn-1".parse().unwrap();
    assert_eq!(hub.kick(id).await.affected, 1);
    assert_eq!(hub.kick(id).await.affected, 0);
    assert_eq!(hub.cluster_stats().await.total_connections, 1);
}
