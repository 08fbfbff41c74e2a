//! Three demo instances on one Redis, driven through the HTTP API: kicks, bans, revocations,
//! listings and statistics cover every instance; a token that expires ends its stream, and a
//! fresh token resumes it.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sse_hub::{Hub, UserId, testing::Events};
use sse_redis::{RedisBackplane, RedisConfig};

use common::{serve_demo, serve_demo_with};
use examples::demo::users::{DemoUser, Users};
use sse_conformance::{Server, client};

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A stream key of this test's own, removed when dropped.
struct Key(String);

impl Key {
    fn new() -> Self {
        Self(format!("sse:demo-cluster-test:{:016x}", fastrand::u64(..)))
    }

    async fn hub(&self) -> Hub {
        let backplane = RedisBackplane::connect(&redis_url(), RedisConfig::default().key(&self.0))
            .await
            .unwrap_or_else(|err| panic!("a Redis server at {} is needed: {err}", redis_url()));
        sse_redis::hub(backplane, Hub::builder()).await
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        if let Ok(mut conn) = redis::Client::open(redis_url())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(2)))
        {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{}*", self.0))
                .query(&mut conn)
                .unwrap_or_default();
            if !keys.is_empty() {
                let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut conn);
            }
        }
    }
}

/// An admin request to `server`, answered with its status and JSON body (`null` for none).
async fn admin(method: reqwest::Method, server: &Server, path: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .request(method, server.url(path))
        .bearer_auth("admin-token")
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = response.text().await.unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Bob's chat stream on `server`, through a third-party client.
async fn bob_on(server: &Server) -> Events {
    let mut events = client::open(
        reqwest::Client::new().get(server.stream_url("channels=chat&token=bob-token")),
    )
    .await;
    events.expect_event("connected").await;
    events
}

/// A stream request that the server refuses: its status and JSON body.
async fn refused(url: String) -> (StatusCode, Value) {
    let response = reqwest::Client::new().get(url).send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kicks_bans_revocations_listings_and_statistics_cover_every_instance() {
    let key = Key::new();
    let (a, b, c) = (
        serve_demo(key.hub().await).await,
        serve_demo(key.hub().await).await,
        serve_demo(key.hub().await).await,
    );

    // Listings and statistics from A cover B and C.
    let mut bob_b = bob_on(&b).await;
    let mut bob_c = bob_on(&c).await;
    let (status, rows) = admin(reqwest::Method::GET, &a, "/api/sse/connections").await;
    assert_eq!(status, StatusCode::OK);
    let rows = rows.as_array().unwrap().clone();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let instances: Vec<&str> = rows
        .iter()
        .map(|r| r["instance"].as_str().unwrap())
        .collect();
    assert_ne!(instances[0], instances[1]);
    let on_c = rows
        .iter()
        .find(|row| {
            let id = row["id"].as_str().unwrap();
            id.starts_with(&format!("conn-{}-", row["instance"].as_str().unwrap()))
        })
        .expect("ids name their instance");
    let (status, one) = admin(
        reqwest::Method::GET,
        &a,
        &format!("/api/sse/connections/{}", on_c["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!((status, &one["id"]), (StatusCode::OK, &on_c["id"]));
    let (status, stats) = admin(reqwest::Method::GET, &a, "/api/sse/stats").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stats["totalConnections"], 0, "A's own");
    assert_eq!(stats["cluster"]["instances"].as_array().unwrap().len(), 3);
    assert_eq!(stats["cluster"]["totalConnections"], 2);

    // A kick with a ban, from A: both streams end, and every instance refuses Bob with 403.
    let (status, body) = admin(
        reqwest::Method::DELETE,
        &a,
        "/api/sse/users/3/connections?ban=60",
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"disconnected": 2, "instances": 3}))
    );
    bob_b.expect_end().await;
    bob_c.expect_end().await;
    for server in [&a, &b, &c] {
        let (status, body) = refused(server.stream_url("channels=chat&token=bob-token")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["error"], "banned");
        assert!(body["until"].as_u64().unwrap() > now_ms());
    }
    let (status, body) = admin(
        reqwest::Method::DELETE,
        &a,
        "/api/sse/users/3/connections?ban=forever",
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &json!("bad_request"))
    );
    let (status, _) = admin(reqwest::Method::DELETE, &b, "/api/sse/users/3/ban").await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Lifted: Bob is back on C; a kick by id from A ends that stream.
    let mut bob_c = bob_on(&c).await;
    let (_, rows) = admin(reqwest::Method::GET, &a, "/api/sse/connections").await;
    let id = rows[0]["id"].as_str().unwrap().to_owned();
    let (status, body) = admin(
        reqwest::Method::DELETE,
        &a,
        &format!("/api/sse/connections/{id}"),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"disconnected": 1})));
    bob_c.expect_end().await;
    let (status, _) = admin(
        reqwest::Method::DELETE,
        &a,
        &format!("/api/sse/connections/{id}"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A revocation, from A: the streams end with the auth-expired refresh.
    let mut bob_b = bob_on(&b).await;
    let mut bob_c = bob_on(&c).await;
    let (status, body) = admin(reqwest::Method::POST, &a, "/api/sse/users/3/revoke").await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"revoked": 2, "instances": 3}))
    );
    for stream in [&mut bob_b, &mut bob_c] {
        let refresh = stream.expect_event("refresh").await;
        assert!(refresh.is_auth_expired(), "{refresh}");
        stream.expect_end().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiring_token_ends_its_stream_and_a_fresh_one_resumes_on_another_instance() {
    let key = Key::new();
    let expires_at = now_ms() + 1_000;
    let users = Users::new(vec![
        DemoUser {
            token: "admin-token".to_owned(),
            user_id: UserId::from(1),
            name: None,
            roles: vec![sse_hub::Role::from_static("admin")],
            permissions: Vec::new(),
            expires_at: None,
        },
        DemoUser {
            token: "short-lived".to_owned(),
            user_id: UserId::from(3),
            name: None,
            roles: Vec::new(),
            permissions: Vec::new(),
            expires_at: Some(expires_at),
        },
        DemoUser {
            token: "renewed".to_owned(),
            user_id: UserId::from(3),
            name: None,
            roles: Vec::new(),
            permissions: Vec::new(),
            expires_at: None,
        },
    ])
    .unwrap();
    let a = serve_demo_with(key.hub().await, users.clone()).await;
    let b = serve_demo_with(key.hub().await, users).await;
    let mut stream =
        client::open(reqwest::Client::new().get(a.stream_url("channels=chat&token=short-lived")))
            .await;
    stream.expect_event("connected").await;
    let publish = |text: &str| {
        let body = json!({"channel": "chat", "event": "data", "data": text});
        let b = &b;
        async move { common::publish_as_admin(b, &body).await }
    };
    publish("before").await;
    let before = stream.expect_event("data").await;
    assert_eq!(before.payload(), json!("before"));

    // At the expiry the stream ends with the auth-expired refresh.
    let refresh = stream.expect_event("refresh").await;
    assert!(refresh.is_auth_expired(), "{refresh}");
    assert!(now_ms() >= expires_at);
    stream.expect_end().await;
    publish("while away").await;

    // The same token is refused; a fresh one resumes from the last id, on the other instance.
    let (status, body) = refused(a.stream_url("channels=chat&token=short-lived")).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"error": "token_expired", "message": "the token expired"})
        )
    );
    let mut resumed = client::open(
        reqwest::Client::new()
            .get(b.stream_url("channels=chat&token=renewed"))
            .header("last-event-id", &before.id),
    )
    .await;
    let connected = resumed.expect_event("connected").await;
    assert_eq!(connected.payload()["replayed"], 1);
    assert_eq!(
        resumed.expect_event("data").await.payload(),
        json!("while away")
    );
    publish("after").await;
    assert_eq!(resumed.expect_event("data").await.payload(), json!("after"));
}

fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}
