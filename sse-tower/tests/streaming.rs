//! Stream behaviour on a paused clock: heartbeats, lifetimes, batching and cleanup.

mod support;

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Wake, Waker},
    time::Duration,
};

use bytes::Bytes;
use http::StatusCode;
use http_body_util::BodyExt;
use serde_json::json;
use sse_hub::{
    Channel, EventType, Hub, Message, Role, UserId,
    testing::{Events, TestClock, decode},
};
use sse_tower::{ChannelRule, SseBody, SseService, StreamConfig};
use tokio::time::Instant;

use support::{NOW_MS, assert_opened, call, get, next_chunk, preamble, user};

/// Opens a stream for user 1.
async fn open(service: &SseService, uri: &str) -> SseBody {
    assert_opened(call(service, get(uri).extension(user(1))).await)
}

/// Whether a chunk is exactly one heartbeat.
fn is_heartbeat(chunk: &Bytes) -> bool {
    matches!(&decode(chunk)[..], [event] if event.is_heartbeat())
}

#[tokio::test(start_paused = true)]
async fn heartbeats_come_at_the_interval_and_skip_streams_that_just_wrote() {
    let hub = Hub::new();
    let service = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT]).heartbeat_interval(Duration::from_secs(15)),
    );
    let start = Instant::now();
    let mut events = Events::from_body(open(&service, "/").await).wait(Duration::from_secs(60));
    events.expect_event("connected").await;
    assert_eq!(events.retry(), Some(Duration::from_millis(3000)));

    events.expect_event("heartbeat").await;
    assert_eq!(start.elapsed(), Duration::from_secs(15));
    events.expect_event("heartbeat").await;
    assert_eq!(start.elapsed(), Duration::from_secs(30));

    // A message at 40 s: the tick at 45 s finds the stream recently written and skips it.
    tokio::time::sleep_until(start + Duration::from_secs(40)).await;
    let report = hub
        .send(Message::new(Channel::CHAT, EventType::Data, json!("hi")))
        .await
        .unwrap();
    events.expect_message(&report, "data", &json!("hi")).await;
    events.expect_event("heartbeat").await;
    assert_eq!(start.elapsed(), Duration::from_secs(60));
    let info = hub.connections()[0].clone();
    assert_eq!(info.delivered, 1);
}

#[tokio::test(start_paused = true)]
async fn a_stream_past_its_lifetime_ends_with_retry() {
    let hub = Hub::new();
    let service = SseService::new(hub.clone(), StreamConfig::chat());
    let start = Instant::now();
    let mut events = Events::from_body(open(&service, "/").await).wait(Duration::from_secs(60));
    events.expect_event("connected").await;
    let mut heartbeats = 0;
    while let Some(event) = events.next().await {
        assert!(event.is_heartbeat(), "{event}");
        heartbeats += 1;
    }
    // chat(): a heartbeat every 10 s, a lifetime of 10 minutes.
    assert_eq!(heartbeats, 59);
    assert_eq!(events.expect_end().await, Some(Duration::from_millis(3000)));
    assert_eq!(start.elapsed(), Duration::from_secs(600));
    drop(events);
    assert_eq!(hub.connection_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn one_timer_and_one_encoded_frame_serve_every_stream() {
    const STREAMS: usize = 500;
    let hub = Hub::new();
    let service = SseService::new(hub.clone(), StreamConfig::new([Channel::SYSTEM]));
    let mut bodies = Vec::with_capacity(STREAMS);
    for _ in 0..STREAMS {
        let mut body = open(&service, "/").await;
        next_chunk(&mut body).await.unwrap();
        bodies.push(body);
    }
    assert_eq!(hub.connection_count(), STREAMS);
    // The shared ticker is the only task: no stream has a task or timer of its own.
    assert_eq!(
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks(),
        1
    );
    let start = Instant::now();
    let mut beats = Vec::with_capacity(STREAMS);
    for body in &mut bodies {
        beats.push(next_chunk(body).await.unwrap());
    }
    assert_eq!(start.elapsed(), StreamConfig::DEFAULT_HEARTBEAT);
    assert!(beats.iter().all(is_heartbeat));
    // Encoded once per tick: every stream writes the same bytes.
    assert!(beats.iter().all(|b| b.as_ptr() == beats[0].as_ptr()));
    drop(bodies);
    assert_eq!(hub.connection_count(), 0);
}

#[tokio::test]
async fn queued_frames_are_written_in_few_chunks_in_order() {
    let hub = Hub::new();
    let service = SseService::new(hub.clone(), StreamConfig::new([Channel::LIVE_UPDATES]));
    let mut body = open(&service, "/").await;
    for n in 0..100 {
        hub.send(Message::new(
            Channel::LIVE_UPDATES,
            EventType::Data,
            json!(n),
        ))
        .await
        .unwrap();
    }
    let mut chunks = 0;
    let mut received = Vec::new();
    let mut seen = Vec::new();
    while seen.len() < 100 {
        received.extend_from_slice(&next_chunk(&mut body).await.unwrap());
        chunks += 1;
        seen = decode(&received)
            .iter()
            .filter(|event| event.event == "data")
            .map(|event| event.payload().as_i64().unwrap())
            .collect();
    }
    assert!(chunks < 10, "{chunks} chunks");
    assert_eq!(seen, (0..100).collect::<Vec<_>>());
}

#[tokio::test]
async fn dropping_the_body_unregisters_the_connection() {
    let hub = Hub::new();
    let service = SseService::new(hub.clone(), StreamConfig::new([Channel::ALERTS]));
    let body = open(&service, "/?channels=alerts").await;
    assert_eq!(hub.connection_count(), 1);
    assert_eq!(hub.stats().connections_per_channel[&Channel::ALERTS], 1);
    drop(body);
    assert_eq!(hub.connection_count(), 0);
    assert_eq!(hub.stats().active_channels, 0);
}

#[tokio::test]
async fn hub_shutdown_ends_open_streams() {
    let hub = Hub::new();
    let service = SseService::new(hub.clone(), StreamConfig::new([Channel::SYSTEM]));
    let mut events = Events::from_body(open(&service, "/").await);
    events.expect_event("connected").await;
    assert_eq!(hub.shutdown(), 1);
    assert!(events.expect_end().await.is_some(), "a final retry");
}

#[tokio::test]
async fn default_channels_leave_out_those_the_client_may_not_read() {
    let hub = Hub::new();
    let config = StreamConfig::new([Channel::ALERTS]).channel_rule(
        Channel::ADMIN_ACTIONS,
        ChannelRule::new().roles([Role::from_static("admin")]),
    );
    let service = SseService::new(hub.clone(), config);
    // Named explicitly, the admin channel is refused.
    let response = call(&service, get("/?channels=admin-actions").extension(user(1))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // By default, it is left out.
    let mut body = open(&service, "/").await;
    assert_eq!(
        preamble(&mut body).await.1["data"]["channels"],
        json!(["alerts"])
    );
    // An admin gets both.
    let admin = user(2).with_role(Role::from_static("admin"));
    let mut body = call(&service, get("/").extension(admin)).await.into_body();
    assert_eq!(
        preamble(&mut body).await.1["data"]["channels"],
        json!(["alerts", "admin-actions"])
    );
}

/// Durations too large to add to a clock saturate: a stream with a lifetime and a heartbeat of
/// `Duration::MAX` opens, streams and never ends on its own.
#[tokio::test(start_paused = true)]
async fn extreme_durations_saturate_instead_of_panicking() {
    let hub = Hub::new();
    let service = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT])
            .connection_timeout(Duration::MAX)
            .heartbeat_interval(Duration::MAX)
            .retry(Duration::MAX),
    );
    let mut events = Events::from_body(open(&service, "/").await).wait(Duration::from_secs(3600));
    events.expect_event("connected").await;
    assert_eq!(events.retry(), Some(Duration::from_millis(u64::MAX)));
    let report = hub
        .send(Message::new(Channel::CHAT, EventType::Data, json!(1)))
        .await
        .unwrap();
    events.expect_message(&report, "data", &json!(1)).await;
    // A day later: no heartbeat, no end.
    events
        .expect_no_event_within(Duration::from_secs(86_400))
        .await;
    let report = hub
        .send(Message::new(Channel::CHAT, EventType::Data, json!(2)))
        .await
        .unwrap();
    events.expect_message(&report, "data", &json!(2)).await;
}

#[tokio::test(start_paused = true)]
async fn a_stream_ends_when_its_credentials_expire_and_follows_an_identity_refresh() {
    let clock = TestClock::new(NOW_MS);
    let hub = clock.hub().build();
    let service = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT]).heartbeat_interval(Duration::from_secs(3600)),
    );
    let start = Instant::now();
    let expiring = user(1).with_expiry(NOW_MS + 10_000);
    let body = assert_opened(call(&service, get("/").extension(expiring.clone())).await);
    let mut events = Events::from_body(body).wait(Duration::from_secs(60));
    events.expect_event("connected").await;
    let report = hub
        .refresh_user(UserId::from(1), Some(NOW_MS + 20_000))
        .await;
    assert_eq!(report.affected, 1);

    // The old expiry passes: nothing happens.
    clock.advance(Duration::from_secs(10)).await;
    let sent = hub.send(message("after the old expiry")).await.unwrap();
    events
        .expect_message(&sent, "data", &json!("after the old expiry"))
        .await;
    // The reader waits (polled once, so that it is parked on the body) while the clock moves:
    // the body's own timer must wake it.
    let mut refresh = Box::pin(events.expect_event("refresh"));
    let woken = Arc::new(Woken::default());
    let waker = Waker::from(Arc::clone(&woken));
    let parked = refresh.as_mut().poll(&mut Context::from_waker(&waker));
    assert!(parked.is_pending());
    clock.advance(Duration::from_secs(10)).await;
    assert!(
        woken.0.load(Ordering::SeqCst),
        "the expiry did not wake the stream"
    );
    let refresh = refresh.await;
    assert!(refresh.is_auth_expired(), "{refresh}");
    assert_eq!(start.elapsed(), Duration::from_secs(20));
    assert_eq!(events.expect_end().await, Some(Duration::from_millis(3000)));
    assert_eq!(hub.connection_count(), 0);

    // The same credentials again: 401.
    let response = call(&service, get("/").extension(expiring)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
        json!({"error": "credentials_expired", "message": "the credentials expired"})
    );
}

#[tokio::test]
async fn a_banned_user_is_refused_with_403_and_the_end_of_the_ban() {
    let hub = Hub::new();
    let service = SseService::new(hub.clone(), StreamConfig::new([Channel::CHAT]));
    let mut events = Events::from_body(open(&service, "/").await);
    events.expect_event("connected").await;
    let report = hub
        .ban_user(UserId::from(1), Duration::from_secs(600))
        .await;
    assert_eq!(report.affected, 1);
    assert_eq!(events.expect_end().await, Some(Duration::from_millis(3000)));

    let response = call(&service, get("/").extension(user(1))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let until = hub.banned_until(UserId::from(1)).unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
        json!({"error": "banned", "message": "this user is banned", "until": until})
    );
    // Others still connect.
    assert_opened(call(&service, get("/").extension(user(2))).await);
}

fn message(data: &str) -> Message {
    Message::new(Channel::CHAT, EventType::Data, json!(data))
}

/// A waker that records that it was woken.
#[derive(Default)]
struct Woken(AtomicBool);

impl Wake for Woken {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn presence_events_are_offered_only_where_the_endpoint_permits_them() {
    let hub = Hub::builder().presence_channels([Channel::CHAT]).build();
    let refusing = SseService::new(hub.clone(), StreamConfig::new([Channel::CHAT]));
    let response = call(&refusing, get("/?presence=true").extension(user(1))).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["message"],
        "this endpoint does not offer presence events"
    );
    let response = call(&refusing, get("/?presence=maybe").extension(user(1))).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let offering = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT]).presence(true),
    );
    let mut watching = Events::from_body(assert_opened(
        call(&offering, get("/?presence=true").extension(user(1))).await,
    ));
    watching.expect_event("connected").await;
    assert_eq!(
        watching.expect_event("presence-join").await.payload(),
        json!({"userId": "1", "connections": 1})
    );
    let mut other = Events::from_body(open(&offering, "/").await);
    other.expect_event("connected").await;
    // User 1 again (the helper's user): no join; the driver started with the first stream.
    let _third = assert_opened(call(&offering, get("/").extension(user(2))).await);
    assert_eq!(
        watching.expect_event("presence-join").await.payload(),
        json!({"userId": "2", "connections": 1})
    );
    // The stream that did not ask gets no presence events.
    other
        .expect_no_event_within(Duration::from_millis(50))
        .await;
}
