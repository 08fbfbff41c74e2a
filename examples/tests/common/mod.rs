//! Helpers shared by the examples' tests: serve an example on a free port, open its streams with
//! the conformance suite's client (a third-party `EventSource`), and call its publish endpoint.

// Each test binary uses some of these.
#![allow(dead_code, unreachable_pub)]

use serde_json::{Value, json};
use sse_hub::{Hub, testing::Events};

use examples::demo::{self, users::Users};
use sse_conformance::Server;

/// Serves an axum app with `sse_axum::serve`, as the example binaries do.
pub async fn serve_axum(app: axum::Router) -> Server {
    Server::serve(|listener, shutdown| async move {
        sse_axum::serve(listener, app)
            .with_graceful_shutdown(None, shutdown)
            .await
            .unwrap();
    })
    .await
}

/// Serves the demo on `hub` with the built-in users, as the binary does.
pub async fn serve_demo(hub: Hub) -> Server {
    serve_demo_with(hub, Users::builtin()).await
}

/// Serves the demo on `hub` with `users` (as from a `--users` file).
pub async fn serve_demo_with(hub: Hub, users: Users) -> Server {
    Server::serve(|listener, shutdown| async move {
        demo::serve(listener, demo::state(hub, users), shutdown)
            .await
            .unwrap();
    })
    .await
}

/// Posts `body` to the publish endpoint (`/api/sse/publish`) as JSON.
pub async fn publish(server: &Server, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.url("/api/sse/publish"))
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Posts `body` to the demo's publish endpoint as its admin, which must accept it.
pub async fn publish_as_admin(server: &Server, body: &Value) {
    let response = reqwest::Client::new()
        .post(server.url("/api/sse/publish"))
        .bearer_auth("admin-token")
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
}

/// Posts `body` to the publish endpoint as it is, labelled as JSON.
pub async fn publish_raw(server: &Server, body: &'static str) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.url("/api/sse/publish"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Publishes `welcome-1`, a notification for `user` at a fixed timestamp, and checks the send
/// report and the event `stream` (that user's) receives.
pub async fn publish_welcome(server: &Server, user: u64, stream: &mut Events) {
    let timestamp = 1_764_350_000_000_u64;
    let response = publish(
        server,
        &json!({
            "id": "welcome-1",
            "channel": "notifications",
            "event": "notification",
            "data": {"title": "Hi"},
            "timestamp": timestamp,
            "target": "user-specific",
            "targetUsers": [user]
        }),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let report: Value = response.json().await.unwrap();
    let cursor = report["cursor"].as_str().unwrap().to_owned();
    assert_eq!(
        report,
        json!({"id": "welcome-1", "cursor": cursor, "sent": 1, "shed": 0, "closed": 0})
    );

    let event = stream.expect_event("notification").await;
    assert_eq!(event.id, cursor);
    assert_eq!(
        event.json(),
        json!({
            "id": "welcome-1",
            "channel": "notifications",
            "event": "notification",
            "data": {"title": "Hi"},
            "timestamp": timestamp
        })
    );
}

/// The publish endpoint refuses a priority above 10 with a 400 that names the field.
pub async fn assert_priority_11_is_refused(server: &Server) {
    let bad = publish(
        server,
        &json!({"channel": "notifications", "event": "notification", "priority": 11}),
    )
    .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(
        bad.json::<Value>().await.unwrap(),
        json!({"error": "invalid_message", "message": "priority is 11; the maximum is 10", "field": "priority"})
    );
}

/// `response` is a 400 for an invalid message, whose explanation starts with `prefix`.
pub async fn assert_invalid_message(response: reqwest::Response, prefix: &str) {
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_message");
    assert!(
        body["message"].as_str().unwrap().starts_with(prefix),
        "{body}"
    );
}

/// The stream endpoint refuses an unknown channel with sse-tower's status and JSON body.
pub async fn assert_unknown_channel_is_refused(server: &Server) {
    let refused = reqwest::Client::new()
        .get(server.stream_url("channels=billing"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 404);
    assert_eq!(
        refused.json::<Value>().await.unwrap(),
        json!({"error": "not_found", "message": "unknown channel \"billing\""})
    );
}
