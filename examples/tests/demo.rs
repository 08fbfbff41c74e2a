//! The demo's HTTP API over TCP: auth, publish, statistics, connections, chat.

use std::{net::SocketAddr, time::Duration};

use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest_eventsource::{Event, EventSource, retry::Never};
use serde_json::{Value, json};
use sse_core::Hub;

use examples::demo::{self, users::Users};

async fn start() -> (SocketAddr, Hub) {
    let hub = Hub::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = demo::state(hub.clone(), Users::builtin());
    tokio::spawn(demo::serve(listener, state, std::future::pending()));
    (addr, hub)
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        },
    )
}

async fn open(addr: SocketAddr, token: &str) -> EventSource {
    let mut source =
        EventSource::new(client().get(format!("http://{addr}/api/sse/stream?token={token}")))
            .unwrap();
    source.set_retry_policy(Box::new(Never));
    source
}

async fn next(source: &mut EventSource) -> (String, String, Value) {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), source.next()).await {
            Ok(Some(Ok(Event::Open))) => {}
            Ok(Some(Ok(Event::Message(m)))) if m.event == "data" => {} // dashboard ticks
            Ok(Some(Ok(Event::Message(m)))) => {
                return (m.id, m.event, serde_json::from_str(&m.data).unwrap());
            }
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_needs_the_right_credentials() {
    let (addr, _hub) = start().await;
    let url = |path: &str| format!("http://{addr}{path}");
    let (status, body) = json_of(client().get(url("/api/sse/stats")).send().await.unwrap()).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"error": "unauthorized", "message": "authentication required"})
        )
    );
    let (status, body) = json_of(
        client()
            .get(url("/api/sse/stats"))
            .bearer_auth("bob-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::FORBIDDEN,
            json!({"error": "forbidden", "message": "the admin role is required"})
        )
    );
    let (status, body) = json_of(
        client()
            .get(url("/api/sse/stats"))
            .bearer_auth("nope")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_token", "message": "unknown token"})
        )
    );
    // The stream refuses unknown tokens the same way, and admin-only channels to others.
    let (status, body) = json_of(
        client()
            .get(url("/api/sse/stream?token=nope"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"].clone()),
        (StatusCode::UNAUTHORIZED, json!("invalid_token"))
    );
    let (status, _) = json_of(
        client()
            .get(url(
                "/api/sse/stream?channels=admin-actions&token=bob-token",
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_stats_connections_and_disconnects() {
    let (addr, hub) = start().await;
    let url = |path: &str| format!("http://{addr}{path}");
    let mut bob = open(addr, "bob-token").await;
    let (_, event, connected) = next(&mut bob).await;
    assert_eq!(event, "connected");
    assert_eq!(connected["data"]["userId"], "3");

    // A toast for Bob through the publish API.
    let (status, report) = json_of(
        client()
            .post(url("/api/sse/publish"))
            .bearer_auth("admin-token")
            .json(&json!({
                "channel": "toasts", "event": "toast",
                "data": {"message": "Quota updated", "type": "success"},
                "target": "user-specific", "targetUsers": [3]
            }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["sent"], 1);
    let (id, event, toast) = next(&mut bob).await;
    assert_eq!(
        (id.as_str(), event.as_str()),
        (report["cursor"].as_str().unwrap(), "toast")
    );
    assert_eq!(
        toast["data"],
        json!({"message": "Quota updated", "type": "success"})
    );

    // A bad message names its field.
    let (status, body) = json_of(
        client()
            .post(url("/api/sse/publish"))
            .bearer_auth("admin-token")
            .json(&json!({"channel": "toasts", "event": "toast", "ttl": 0}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "ttl");

    // Statistics and connections.
    let (_, stats) = json_of(
        client()
            .get(url("/api/sse/stats"))
            .bearer_auth("admin-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(stats["totalConnections"], 1);
    let (_, list) = json_of(
        client()
            .get(url("/api/sse/connections"))
            .bearer_auth("admin-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let id = list[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(list[0]["userId"], "3");
    assert_eq!(
        list[0]["clientAddr"].as_str().unwrap().split(':').next(),
        Some("127.0.0.1")
    );
    let (status, one) = json_of(
        client()
            .get(url(&format!("/api/sse/connections/{id}")))
            .bearer_auth("admin-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, one["id"].clone()), (StatusCode::OK, json!(id)));
    let (status, missing) = json_of(
        client()
            .get(url("/api/sse/connections/conn-999"))
            .bearer_auth("admin-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, missing),
        (
            StatusCode::NOT_FOUND,
            json!({"error": "not_found", "message": "connection conn-999 is not open"})
        )
    );

    // Disconnect by user: the stream ends.
    let (status, body) = json_of(
        client()
            .delete(url("/api/sse/users/3/connections"))
            .bearer_auth("admin-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"disconnected": 1})));
    match tokio::time::timeout(Duration::from_secs(5), bob.next()).await {
        Ok(Some(Err(reqwest_eventsource::Error::StreamEnded)) | None) => {}
        other => panic!("expected the stream to end, got {other:?}"),
    }
    assert_eq!(hub.connection_count(), 0);
    let (status, _) = json_of(
        client()
            .delete(url(&format!("/api/sse/connections/{id}")))
            .bearer_auth("admin-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_sets_the_cookie_and_chat_reaches_the_others() {
    let (addr, _hub) = start().await;
    let url = |path: &str| format!("http://{addr}{path}");
    let response = client()
        .post(url("/api/login"))
        .json(&json!({"token": "alice-token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["set-cookie"],
        "sse_token=alice-token; Path=/; HttpOnly; SameSite=Strict"
    );
    let me: Value = response.json().await.unwrap();
    assert_eq!(
        me,
        json!({"userId": "2", "name": "Alice", "roles": ["editor"], "permissions": ["dashboard.view"]})
    );
    let (status, _) = json_of(
        client()
            .get(url("/api/me"))
            .header("cookie", "sse_token=alice-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let mut bob = open(addr, "bob-token").await;
    assert_eq!(next(&mut bob).await.1, "connected");
    let (status, _) = json_of(
        client()
            .post(url("/api/chat/typing"))
            .bearer_auth("alice-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = json_of(
        client()
            .post(url("/api/chat/messages"))
            .bearer_auth("alice-token")
            .json(&json!({"text": "hello bob"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, event, typing) = next(&mut bob).await;
    assert_eq!(
        (event.as_str(), typing["data"].clone()),
        ("typing", json!({"userId": "2", "name": "Alice"}))
    );
    let (_, event, message) = next(&mut bob).await;
    assert_eq!(
        (event.as_str(), message["data"].clone()),
        (
            "chat-message",
            json!({"userId": "2", "name": "Alice", "text": "hello bob"})
        )
    );
}

#[tokio::test]
async fn a_users_file_is_validated() {
    let dir = std::env::temp_dir().join(format!("demo-users-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.json");
    std::fs::write(
        &good,
        r#"[{"token": "t1", "userId": 7, "roles": ["admin"]}]"#,
    )
    .unwrap();
    let users = Users::from_file(&good).unwrap();
    assert_eq!(users.by_token("t1").unwrap().user_id.as_str(), "7");
    let twice = dir.join("twice.json");
    std::fs::write(
        &twice,
        r#"[{"token": "t", "userId": 1}, {"token": "t", "userId": 2}]"#,
    )
    .unwrap();
    let err = Users::from_file(&twice).unwrap_err();
    assert!(err.ends_with("token \"t\" is used twice"), "{err}");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"[{"token": "t", "user": 1}]"#).unwrap();
    assert!(
        Users::from_file(&bad)
            .unwrap_err()
            .contains("unknown field `user`")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
