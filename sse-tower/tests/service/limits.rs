//! How many may read: the connection rate, the stream caps per IP, per user and per endpoint
//! (429), and a hub that is shutting down (503).

use std::{net::SocketAddr, time::Duration};

use http::{StatusCode, header};
use http_body::Body;
use sse_hub::{Channel, Hub, Role};
use sse_tower::{ClientAddr, RateLimit, SseService, StreamConfig};

use crate::assert_refused;
use crate::support::{assert_opened, call, get, hub, next_chunk, preamble, user};

fn from_ip(ip: &str) -> ClientAddr {
    ClientAddr(SocketAddr::new(ip.parse().unwrap(), 50_000))
}

#[tokio::test]
async fn the_rate_limit_refuses_the_fourth_connection_from_one_ip() {
    let service = SseService::new(
        hub(),
        StreamConfig::new([Channel::CHAT]).rate_limit(RateLimit::new(3, Duration::from_secs(60))),
    );
    // Closed streams still count: the limit is on new connections.
    for _ in 0..3 {
        drop(assert_opened(
            call(&service, get("/").extension(from_ip("10.0.0.1"))).await,
        ));
    }
    // 3 per 60 s refills one every 20 s.
    for _ in 0..2 {
        assert_refused(
            call(&service, get("/").extension(from_ip("10.0.0.1"))).await,
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "too many new connections from 10.0.0.1; retry later",
            &[(header::RETRY_AFTER, "20")],
        )
        .await;
    }
    assert_opened(call(&service, get("/").extension(from_ip("10.0.0.2"))).await);
    // Without a client address the limit cannot apply.
    assert_opened(call(&service, get("/")).await);
}

#[tokio::test]
async fn the_per_ip_cap_is_429_until_a_stream_is_dropped() {
    let hub = hub();
    let service = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT]).max_streams_per_ip(2),
    );
    let first = assert_opened(call(&service, get("/").extension(from_ip("10.0.0.1"))).await);
    let _second = assert_opened(call(&service, get("/").extension(from_ip("10.0.0.1"))).await);
    assert_refused(
        call(&service, get("/").extension(from_ip("10.0.0.1"))).await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        "too many open streams from 10.0.0.1",
        &[(header::RETRY_AFTER, "3")],
    )
    .await;
    let _other = assert_opened(call(&service, get("/").extension(from_ip("10.0.0.2"))).await);
    assert_eq!(hub.connection_count(), 3);
    drop(first);
    assert_eq!(hub.connection_count(), 2);
    assert_opened(call(&service, get("/").extension(from_ip("10.0.0.1"))).await);
}

/// A stream the hub ends gives its places back at once, even while its client reads nothing
/// (so the server never polls its body again).
#[tokio::test]
async fn a_stream_the_hub_closes_frees_its_places_at_once() {
    let hub = sse_hub::Hub::builder().queue_capacity(1).build();
    let service = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT])
            .max_streams_per_ip(1)
            .max_streams_per_user(1),
    );
    let from = |ip: &str| get("/").extension(from_ip(ip)).extension(user(7));
    // Kicked: the body is still held, unread.
    let kicked = assert_opened(call(&service, from("10.0.0.1")).await);
    assert_eq!(hub.disconnect_user(7_u64), 1);
    let slow = assert_opened(call(&service, from("10.0.0.1")).await);
    // Too slow: two messages into a queue of one, never read.
    for n in 0..2 {
        hub.send(sse_hub::Message::new(
            Channel::CHAT,
            sse_hub::EventType::Data,
            n.into(),
        ))
        .await
        .unwrap();
    }
    assert_eq!(hub.stats().closed_slow, 1);
    let _third = assert_opened(call(&service, from("10.0.0.1")).await);
    drop((kicked, slow));
}

#[tokio::test]
async fn the_per_user_cap_is_429_until_a_stream_is_dropped() {
    let hub = hub();
    let service = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT])
            .max_streams_per_user(1)
            .max_streams(2),
    );
    let first = assert_opened(call(&service, get("/").extension(user(7))).await);
    for _ in 0..3 {
        assert_refused(
            call(&service, get("/").extension(user(7))).await,
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "too many open streams for this user",
            &[(header::RETRY_AFTER, "3")],
        )
        .await;
    }
    // The refusals gave back the endpoint-wide places they took: one is still free.
    let _other = assert_opened(call(&service, get("/").extension(user(8))).await);
    drop(first);
    assert_opened(call(&service, get("/").extension(user(7))).await);
}

#[tokio::test]
async fn the_endpoint_cap_is_429_until_a_stream_is_dropped() {
    let hub = hub();
    let service = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT])
            .allowed_roles([Role::from_static("member")])
            .retry(Duration::from_millis(2500))
            .max_streams(2),
    );
    let member = || user(1).with_role(Role::from_static("member"));
    let first = assert_opened(call(&service, get("/").extension(member())).await);
    // A refused request holds no place.
    for _ in 0..3 {
        let response = call(&service, get("/").extension(user(2))).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    let mut second = assert_opened(call(&service, get("/").extension(member())).await);
    assert_refused(
        call(&service, get("/").extension(member())).await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        "this endpoint has too many open streams",
        // 2.5 s, rounded up to whole seconds.
        &[(header::RETRY_AFTER, "3")],
    )
    .await;
    // Dropping the body is the client going away: the place is free at once, even for a body
    // that was never read.
    drop(first);
    assert_eq!(hub.connection_count(), 1);
    let _third = assert_opened(call(&service, get("/").extension(member())).await);
    assert_eq!(preamble(&mut second).await.0, 2500);
    drop(second);
    assert_eq!(hub.connection_count(), 1);
    assert_opened(call(&service, get("/").extension(member())).await);
}

#[tokio::test]
async fn after_shutdown_open_streams_end_and_new_ones_get_503() {
    let hub = Hub::builder()
        .reconnect_retry(Duration::from_secs(5))
        .shutdown_jitter(Duration::ZERO)
        .build();
    let service = SseService::new(hub.clone(), StreamConfig::new([Channel::CHAT]));
    let mut open = assert_opened(call(&service, get("/")).await);
    preamble(&mut open).await;

    assert_eq!(hub.shutdown(), 1);
    assert_refused(
        call(&service, get("/")).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
        "the server is shutting down",
        &[(header::RETRY_AFTER, "3")],
    )
    .await;
    assert_eq!(next_chunk(&mut open).await.unwrap(), "retry: 5000\n\n");
    assert_eq!(next_chunk(&mut open).await, None);
    assert!(open.is_end_stream());
}

/// A writer that keeps what the log subscriber writes.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn per_address_limits_without_client_addresses_are_reported_once() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
    let service = SseService::new(
        hub(),
        StreamConfig::new([Channel::CHAT]).rate_limit(RateLimit::new(3, Duration::from_secs(60))),
    );
    // No client address: the server puts none in the extensions.
    for _ in 0..5 {
        drop(assert_opened(call(&service, get("/")).await));
    }
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert_eq!(text.matches(" WARN ").count(), 1, "{text}");
    assert!(text.contains("requests carry no client address"), "{text}");
    // With addresses, nothing is reported.
    let addressed = SseService::new(
        hub(),
        StreamConfig::new([Channel::CHAT]).rate_limit(RateLimit::new(3, Duration::from_secs(60))),
    );
    drop(assert_opened(
        call(&addressed, get("/").extension(from_ip("10.0.0.1"))).await,
    ));
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert_eq!(text.matches(" WARN ").count(), 1, "{text}");
}
