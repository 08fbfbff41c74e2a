//! Smoke test of the `custom_auth` example over TCP.

use std::{net::SocketAddr, time::Duration};

use futures_util::StreamExt;
use reqwest_eventsource::{Event, EventSource, retry::Never};
use serde_json::{Value, json};
use sse_core::{Channel, EventType, Hub, Message, Permission};

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

async fn status_and_body(addr: SocketAddr, token: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(format!("http://{addr}/api/analytics/stream"));
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
    let addr = serve(examples::custom_auth::app(hub.clone())).await;
    assert_eq!(
        status_and_body(addr, None).await,
        (
            401,
            json!({"error": "unauthorized", "message": "authentication required"})
        )
    );
    assert_eq!(
        status_and_body(addr, Some("Bearer stolen")).await,
        (
            401,
            json!({"error": "invalid_token", "message": "unknown or expired token"})
        )
    );
    assert_eq!(
        status_and_body(addr, Some("Basic abc")).await,
        (
            401,
            json!({"error": "unauthorized", "message": "expected a bearer token"})
        )
    );
    assert_eq!(
        status_and_body(addr, Some("Bearer viewer-token")).await,
        (
            403,
            json!({"error": "forbidden", "message": "one of the permissions \"analytics.view\" is required"})
        )
    );

    let request = reqwest::Client::new()
        .get(format!("http://{addr}/api/analytics/stream"))
        .header("authorization", "Bearer analyst-token");
    let mut source = EventSource::new(request).unwrap();
    source.set_retry_policy(Box::new(Never));
    let mut events = Vec::new();
    while events.len() < 2 {
        match tokio::time::timeout(Duration::from_secs(5), source.next()).await {
            Ok(Some(Ok(Event::Open))) => {}
            Ok(Some(Ok(Event::Message(m)))) => {
                events.push((m.event, serde_json::from_str::<Value>(&m.data).unwrap()));
                if events.len() == 1 {
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
                }
            }
            other => panic!("expected a message, got {other:?}"),
        }
    }
    assert_eq!(events[0].0, "connected");
    assert_eq!(events[0].1["data"]["userId"], "10");
    assert_eq!(events[1].0, "data");
    assert_eq!(events[1].1["data"], json!({"visits": 42}));
    let info = hub.connections();
    assert_eq!(
        info[0].permissions,
        [Permission::from_static("analytics.view")]
    );
}
