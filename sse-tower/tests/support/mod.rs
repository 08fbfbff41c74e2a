//! What sse-tower's test binaries share: a hub on a fixed clock, calling a service, and reading
//! the first chunk of a stream.

// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body::Body;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sse_hub::{
    Hub, Identity, UserId,
    testing::{TestClock, decode},
};
use tower::{Service, ServiceExt};

/// The hub clock of every test that uses [`hub`]: timestamps in bodies are exact.
pub(crate) const NOW_MS: u64 = 1_764_350_000_000;

/// A hub whose clock stands at [`NOW_MS`].
pub(crate) fn hub() -> Hub {
    TestClock::new(NOW_MS).hub().build()
}

pub(crate) fn get(uri: &str) -> http::request::Builder {
    Request::get(uri)
}

pub(crate) fn user(id: u64) -> Identity {
    Identity::user(UserId::from(id))
}

/// Sends one request through a clone of `service`.
pub(crate) async fn call<S, B>(service: &S, request: http::request::Builder) -> Response<B>
where
    S: Service<Request<()>, Response = Response<B>, Error = Infallible> + Clone,
{
    service
        .clone()
        .oneshot(request.body(()).unwrap())
        .await
        .unwrap_or_else(|never| match never {})
}

/// Asserts a stream opened, and returns its body.
#[track_caller]
pub(crate) fn assert_opened<B>(response: Response<B>) -> B {
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    response.into_body()
}

/// The next chunk the body writes, as it is; `None` at the end of the body.
pub(crate) async fn next_chunk<B>(body: &mut B) -> Option<Bytes>
where
    B: Body<Data = Bytes, Error = Infallible> + Unpin,
{
    let frame = body.frame().await?;
    Some(
        frame
            .unwrap_or_else(|never| match never {})
            .into_data()
            .unwrap(),
    )
}

/// Reads the first chunk of a stream, which must be exactly its preamble: the `retry:` hint,
/// then a lone `connected` event without an id, its data on one line. Returns the hint in
/// milliseconds and the event's JSON.
pub(crate) async fn preamble<B>(body: &mut B) -> (u64, Value)
where
    B: Body<Data = Bytes, Error = Infallible> + Unpin,
{
    let chunk = next_chunk(body).await.expect("a preamble");
    let [retry, connected] = &decode(&chunk)[..] else {
        panic!("not a retry and an event: {chunk:?}");
    };
    assert!(retry.is_retry_only(), "not a retry hint first: {chunk:?}");
    let retry = u64::try_from(retry.retry.unwrap().as_millis()).unwrap();
    assert_eq!(
        chunk,
        format!(
            "retry: {retry}\n\nevent: connected\ndata: {}\n\n",
            connected.data
        ),
        "not a lone connected event with one data line"
    );
    (retry, connected.json())
}

/// The JSON of the `connected` event of a fresh (not resumed) connection `conn-{id}` on [`hub`].
pub(crate) fn connected(
    id: u64,
    channels: &[&str],
    user: Option<&str>,
    heartbeat_ms: u64,
) -> Value {
    json!({
        "id": format!("conn-{id}"),
        "channel": "system",
        "event": "connected",
        "data": {
            "connectionId": format!("conn-{id}"),
            "channels": channels,
            "userId": user,
            "resumed": false,
            "replayed": 0,
            "historyGap": false,
            "heartbeatInterval": heartbeat_ms,
        },
        "timestamp": NOW_MS,
    })
}

/// `connected`, for a connection that resumed from a `Last-Event-ID` and was replayed
/// `replayed` messages.
pub(crate) fn resumed(mut connected: Value, replayed: u64) -> Value {
    connected["data"]["resumed"] = json!(true);
    connected["data"]["replayed"] = json!(replayed);
    connected
}
