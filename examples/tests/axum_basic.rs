//! Smoke test of the `axum_basic` example over TCP.

mod common;

use common::{
    assert_invalid_message, assert_priority_11_is_refused, publish, publish_welcome, serve_axum,
};
use serde_json::json;
use sse_conformance::client::{self, As};
use sse_hub::Hub;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_message_reaches_the_targeted_stream() {
    let hub = Hub::new();
    let server = serve_axum(examples::axum_basic::app(hub.clone())).await;
    let mut stream =
        client::open(As::user("1").request(&server.stream_url("channels=notifications"))).await;
    let connected = stream.expect_event("connected").await;
    assert_eq!(connected.payload()["userId"], "1");

    publish_welcome(&server, 1, &mut stream).await;

    assert_priority_11_is_refused(&server).await;
    let unknown = publish(
        &server,
        &json!({"channel": "notifications", "event": "notification", "targetUser": [1]}),
    )
    .await;
    assert_invalid_message(unknown, "targetUser: unknown field `targetUser`").await;
}
