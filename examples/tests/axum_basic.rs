//! Smoke test of the `axum_basic` example over TCP.

use std::{net::SocketAddr, time::Duration};

use futures_util::StreamExt;
use reqwest_eventsource::{Event, EventSource, retry::Never};
use serde_json::{Value, json};
use sse_core::Hub;

async fn serve(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

async fn next_message(source: &mut EventSource) -> (String, Value) {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), source.next()).await {
            Ok(Some(Ok(Event::Open))) => {}
            Ok(Some(Ok(Event::Message(m)))) => {
                return (m.event, serde_json::from_str(&m.data).unwrap());
            }
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_message_reaches_the_targeted_stream() {
    let hub = Hub::new();
    let addr = serve(examples::axum_basic::app(hub.clone())).await;
    let request = reqwest::Client::new()
        .get(format!(
            "http://{addr}/api/sse/stream?channels=notifications"
        ))
        .header("x-user", "1");
    let mut source = EventSource::new(request).unwrap();
    source.set_retry_policy(Box::new(Never));
    let (event, connected) = next_message(&mut source).await;
    assert_eq!(event, "connected");
    assert_eq!(connected["data"]["userId"], "1");

    let client = reqwest::Client::new();
    let response = client
        .post(format!("http://{addr}/api/sse/publish"))
        .json(&json!({
            "id": "welcome-1",
            "channel": "notifications",
            "event": "notification",
            "data": {"title": "Hi"},
            "target": "user-specific",
            "targetUsers": [1]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["id"], "welcome-1");
    assert_eq!(report["sent"], 1);

    let (event, message) = next_message(&mut source).await;
    assert_eq!(event, "notification");
    assert_eq!(message["id"], "welcome-1");
    assert_eq!(message["channel"], "notifications");
    assert_eq!(message["data"], json!({"title": "Hi"}));

    let bad = client
        .post(format!("http://{addr}/api/sse/publish"))
        .json(&json!({"channel": "notifications", "event": "notification", "priority": 11}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        bad.json::<Value>().await.unwrap(),
        json!({"error": "invalid_message", "message": "priority is 11; the maximum is 10", "field": "priority"})
    );
    let unknown = client
        .post(format!("http://{addr}/api/sse/publish"))
        .json(&json!({"channel": "notifications", "event": "notification", "targetUser": [1]}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["error"], "invalid_message");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("unknown field `targetUser`"),
        "{body}"
    );
}
