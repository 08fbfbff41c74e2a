//! Smoke test of the `custom_auth` example over TCP.

mod common;

use common::serve_axum;
use serde_json::{Value, json};
use sse_conformance::{Server, client};
use sse_hub::{Channel, EventType, Hub, Message, Permission};

const STREAM: &str = "/api/analytics/stream";

async fn status_and_body(server: &Server, token: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(server.url(STREAM));
    if let Some(token) = token {
        request = request.header("authorization", token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = if status == 200 {
        Value::Null
    } else {
        response.json().await.unwrap()
    };
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_and_role_permissions_decide_who_streams() {
    let hub = Hub::new();
    let server = serve_axum(examples::custom_auth::app(hub.clone())).await;
    let refusals = [
        (
            None,
            401,
            json!({"error": "unauthorized", "message": "authentication required"}),
        ),
        (
            Some("Bearer stolen"),
            401,
            json!({"error": "invalid_token", "message": "unknown or expired token"}),
        ),
        (
            Some("Basic abc"),
            401,
            json!({"error": "unauthorized", "message": "expected a bearer token"}),
        ),
        (
            Some("Bearer viewer-token"),
            403,
            json!({"error": "forbidden", "message": "one of the permissions \"analytics.view\" is required"}),
        ),
    ];
    for (token, status, body) in refusals {
        assert_eq!(
            status_and_body(&server, token).await,
            (status, body),
            "{token:?}"
        );
    }

    let mut stream = client::open(
        reqwest::Client::new()
            .get(server.url(STREAM))
            .header("authorization", "Bearer analyst-token"),
    )
    .await;
    let connected = stream.next().await.expect("the connected event");
    // Connected: the resolver gave the analyst `analytics.view`.
    let report = hub
        .send(
            Message::new(
                Channel::LIVE_UPDATES,
                EventType::Data,
                json!({"visits": 42}),
            )
            .to_permissions([Permission::from_static("analytics.view")]),
        )
        .await
        .unwrap();
    assert_eq!(report.sent, 1);
    let data = stream.next().await.expect("the data event");
    assert_eq!(connected.event, "connected");
    assert_eq!(connected.payload()["userId"], "10");
    assert_eq!(data.event, "data");
    assert_eq!(data.payload(), json!({"visits": 42}));
    let info = hub.connections();
    assert_eq!(
        info[0].permissions,
        [Permission::from_static("analytics.view")]
    );
}
