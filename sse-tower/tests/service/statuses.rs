//! The request itself: a stream that opens, and the refusals of a request the endpoint cannot
//! serve (406, 405, 400, 404).

use std::time::Duration;

use http::{HeaderValue, Method, StatusCode, header};
use sse_hub::Channel;
use sse_tower::{SseService, StreamConfig};

use crate::support::{assert_opened, call, connected, get, hub, preamble, user};
use crate::{assert_refused, headers};

#[tokio::test]
async fn an_opened_stream_has_exact_headers_and_preamble() {
    let hub = hub();
    let service = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT, Channel::SYSTEM]),
    );

    let response = call(&service, get("/?channels=chat")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers(),
        &headers(&[
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache, no-transform"),
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ])
    );
    let mut anonymous = response.into_body();
    assert_eq!(
        preamble(&mut anonymous).await,
        (3000, connected(1, &["chat"], None, 15_000))
    );

    // An authenticated client naming no channel gets every served one, in configured order.
    let mut known = assert_opened(call(&service, get("/").extension(user(7))).await);
    assert_eq!(
        preamble(&mut known).await,
        (3000, connected(2, &["chat", "system"], Some("7"), 15_000))
    );
    assert_eq!(hub.connection_count(), 2);

    // The configured hint and interval are what the client is told.
    let tuned = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT])
            .retry(Duration::from_millis(1500))
            .heartbeat_interval(Duration::from_secs(10)),
    );
    let mut body = assert_opened(call(&tuned, get("/?channel=chat&channel=chat")).await);
    assert_eq!(
        preamble(&mut body).await,
        (1500, connected(3, &["chat"], None, 10_000))
    );
}

#[tokio::test]
async fn accept_must_allow_event_streams() {
    let service = SseService::new(hub(), StreamConfig::new([Channel::CHAT]));
    assert_refused(
        call(
            &service,
            get("/").header(header::ACCEPT, "application/json"),
        )
        .await,
        StatusCode::NOT_ACCEPTABLE,
        "not_acceptable",
        "the Accept header excludes text/event-stream",
        &[],
    )
    .await;
    for accept in ["text/event-stream", "*/*"] {
        let response = call(&service, get("/").header(header::ACCEPT, accept)).await;
        assert_opened(response);
    }
    assert_opened(call(&service, get("/")).await);
}

#[tokio::test]
async fn other_methods_get_405_with_allow_get() {
    let service = SseService::new(hub(), StreamConfig::new([Channel::CHAT]));
    for method in [Method::POST, Method::DELETE] {
        assert_refused(
            call(&service, get("/").method(method.clone())).await,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            &format!("{method} is not allowed; use GET"),
            &[(header::ALLOW, "GET")],
        )
        .await;
    }
}

#[tokio::test]
async fn malformed_channels_and_cursors_get_400() {
    let hub = hub();
    let service = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT]).max_query_len(16),
    );
    let refusals = [
        (
            get("/?channels=Bad"),
            "channel contains 'B' at character 0; allowed: a-z 0-9 - _ . :",
        ),
        (
            get("/").header("last-event-id", "nope"),
            "invalid cursor \"nope\": expected <epoch>-<major>-<minor> in decimal",
        ),
        (
            get("/?lastEventId=1-2"),
            "invalid cursor \"1-2\": expected <epoch>-<major>-<minor> in decimal",
        ),
        (
            get("/").header(
                "last-event-id",
                HeaderValue::from_bytes(b"1-2-\xff").unwrap(),
            ),
            "Last-Event-ID is not visible ASCII",
        ),
        // The query is measured in bytes: 17 is refused, 16 accepted.
        (
            get("/?channels=chat&ab1"),
            "the query string is 17 bytes; the maximum is 16",
        ),
    ];
    for (request, message) in refusals {
        assert_refused(
            call(&service, request).await,
            StatusCode::BAD_REQUEST,
            "bad_request",
            message,
            &[],
        )
        .await;
    }
    assert_eq!(hub.connection_count(), 0);
    let _open = assert_opened(call(&service, get("/?channels=chat&ab")).await);
    assert_eq!(hub.connection_count(), 1);
}

#[tokio::test]
async fn unknown_channels_get_404() {
    let service = SseService::new(hub(), StreamConfig::new([Channel::CHAT]));
    assert_refused(
        call(&service, get("/?channels=chat,billing")).await,
        StatusCode::NOT_FOUND,
        "not_found",
        "unknown channel \"billing\"",
        &[],
    )
    .await;
}
