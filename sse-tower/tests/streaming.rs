//! Stream behaviour on a paused clock: heartbeats, lifetimes, batching and cleanup.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use sse_core::{Channel, EventType, Hub, Identity, Message, UserId};
use sse_tower::{SseBody, SseService, StreamConfig};
use tokio::time::Instant;
use tower::ServiceExt;

async fn open(service: &SseService, uri: &str) -> SseBody {
    let mut request = Request::get(uri).body(()).unwrap();
    request
        .extensions_mut()
        .insert(Identity::user(UserId::from(1)));
    let response = service.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.into_body()
}

async fn next(body: &mut SseBody) -> Option<Bytes> {
    body.frame()
        .await
        .map(|frame| frame.unwrap().into_data().unwrap())
}

fn text(chunk: &Bytes) -> &str {
    std::str::from_utf8(chunk).unwrap()
}

fn is_heartbeat(chunk: &Bytes) -> bool {
    text(chunk).starts_with("event: heartbeat\ndata: {\"timestamp\":")
        && text(chunk).ends_with("}\n\n")
}

#[tokio::test(start_paused = true)]
async fn heartbeats_come_at_the_interval_and_skip_streams_that_just_wrote() {
    let hub = Hub::new();
    let service = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT]).heartbeat_interval(Duration::from_secs(15)),
    );
    let start = Instant::now();
    let mut body = open(&service, "/").await;
    let preamble = next(&mut body).await.unwrap();
    assert!(text(&preamble).starts_with("retry: 3000\n\nevent: connected\n"));

    let beat = next(&mut body).await.unwrap();
    assert!(is_heartbeat(&beat), "{beat:?}");
    assert_eq!(start.elapsed(), Duration::from_secs(15));
    let beat = next(&mut body).await.unwrap();
    assert!(is_heartbeat(&beat));
    assert_eq!(start.elapsed(), Duration::from_secs(30));

    // A message at 40 s: the tick at 45 s finds the stream recently written and skips it.
    tokio::time::sleep_until(start + Duration::from_secs(40)).await;
    hub.send(Message::new(Channel::CHAT, EventType::Data, json!("hi")))
        .await
        .unwrap();
    let message = next(&mut body).await.unwrap();
    assert!(text(&message).contains("event: data\n"));
    let beat = next(&mut body).await.unwrap();
    assert!(is_heartbeat(&beat));
    assert_eq!(start.elapsed(), Duration::from_secs(60));
    let info = hub.connections()[0].clone();
    assert_eq!(info.delivered, 1);
}

#[tokio::test(start_paused = true)]
async fn a_stream_past_its_lifetime_ends_with_retry() {
    let hub = Hub::new();
    let service = SseService::new(hub.clone(), StreamConfig::chat());
    let start = Instant::now();
    let mut body = open(&service, "/").await;
    next(&mut body).await.unwrap();
    let mut heartbeats = 0;
    let last = loop {
        let chunk = next(&mut body).await.unwrap();
        if !is_heartbeat(&chunk) {
            break chunk;
        }
        heartbeats += 1;
    };
    // chat(): a heartbeat every 10 s, a lifetime of 10 minutes.
    assert_eq!(heartbeats, 59);
    assert_eq!(text(&last), "retry: 3000\n\n");
    assert_eq!(start.elapsed(), Duration::from_secs(600));
    assert!(next(&mut body).await.is_none());
    drop(body);
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
        next(&mut body).await.unwrap();
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
        beats.push(next(body).await.unwrap());
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
    let mut seen = Vec::new();
    while seen.len() < 100 {
        let chunk = next(&mut body).await.unwrap();
        chunks += 1;
        for line in text(&chunk).lines() {
            if let Some(data) = line.strip_prefix("data: ") {
                let value: serde_json::Value = serde_json::from_str(data).unwrap();
                if value["event"] == "data" {
                    seen.push(value["data"].as_i64().unwrap());
                }
            }
        }
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
    let mut body = open(&service, "/").await;
    next(&mut body).await.unwrap();
    assert_eq!(hub.shutdown(), 1);
    let last = next(&mut body).await.unwrap();
    assert!(text(&last).starts_with("retry: "), "{last:?}");
    assert!(next(&mut body).await.is_none());
}

#[tokio::test]
async fn default_channels_leave_out_those_the_client_may_not_read() {
    let hub = Hub::new();
    let config = StreamConfig::new([Channel::ALERTS]).channel_rule(
        Channel::ADMIN_ACTIONS,
        sse_tower::ChannelRule::new().roles([sse_core::Role::from_static("admin")]),
    );
    let service = SseService::new(hub.clone(), config);
    let channels_of = |preamble: &Bytes| -> serde_json::Value {
        let data = text(preamble)
            .lines()
            .find_map(|l| l.strip_prefix("data: "))
            .unwrap();
        serde_json::from_str::<serde_json::Value>(data).unwrap()["data"]["channels"].clone()
    };
    // Named explicitly, the admin channel is refused.
    let mut request = Request::get("/?channels=admin-actions").body(()).unwrap();
    request
        .extensions_mut()
        .insert(Identity::user(UserId::from(1)));
    let response = service.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // By default, it is left out.
    let mut body = open(&service, "/").await;
    assert_eq!(
        channels_of(&next(&mut body).await.unwrap()),
        json!(["alerts"])
    );
    // An admin gets both.
    let mut request = Request::get("/").body(()).unwrap();
    request
        .extensions_mut()
        .insert(Identity::user(UserId::from(2)).with_role(sse_core::Role::from_static("admin")));
    let mut body = service.clone().oneshot(request).await.unwrap().into_body();
    assert_eq!(
        channels_of(&next(&mut body).await.unwrap()),
        json!(["alerts", "admin-actions"])
    );
}
