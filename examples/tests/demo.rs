//! The demo's HTTP API over TCP: auth, publish, statistics, connections, chat.

mod common;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sse_hub::{
    Hub,
    testing::{Event, Events},
};

use common::{serve_demo, serve_demo_with};
use examples::demo::users::Users;
use sse_conformance::Server;

async fn start() -> (Server, Hub) {
    let hub = Hub::new();
    (serve_demo(hub.clone()).await, hub)
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// Requests to the demo's API with one bearer token.
struct Caller<'a> {
    server: &'a Server,
    token: &'a str,
}

impl Caller<'_> {
    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        client()
            .request(method, self.server.url(path))
            .bearer_auth(self.token)
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.request(Method::GET, path)
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.request(Method::POST, path)
    }

    fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.request(Method::DELETE, path)
    }
}

/// Sends `request`; the status and the JSON body (`null` when empty).
async fn call(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.unwrap();
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

async fn open(server: &Server, token: &str) -> Events {
    sse_conformance::client::open(client().get(server.stream_url(&format!("token={token}")))).await
}

/// The next event that is not one of the dashboard's ticks (`data` events on `live-updates`,
/// every 2 seconds while anyone is connected).
async fn next(stream: &mut Events) -> Event {
    loop {
        let event = stream.next().await.expect("an event");
        if event.event != "data" {
            return event;
        }
    }
}

/// Asserts that the stream ends next, but for dashboard ticks that came before its end (the
/// dashboard publishes every 2 seconds while anyone is connected).
async fn expect_end(stream: &mut Events) {
    while let Some(event) = stream.next().await {
        assert_eq!(
            event.event, "data",
            "expected the end of the stream, got {event}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_needs_the_right_credentials() {
    let (server, _hub) = start().await;
    let refusals = [
        (
            None,
            StatusCode::UNAUTHORIZED,
            json!({"error": "unauthorized", "message": "authentication required"}),
        ),
        (
            Some("bob-token"),
            StatusCode::FORBIDDEN,
            json!({"error": "forbidden", "message": "the admin role is required"}),
        ),
        (
            Some("nope"),
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_token", "message": "unknown token"}),
        ),
    ];
    for (token, status, body) in refusals {
        let request = match token {
            Some(token) => Caller {
                server: &server,
                token,
            }
            .get("/api/sse/stats"),
            None => client().get(server.url("/api/sse/stats")),
        };
        assert_eq!(call(request).await, (status, body), "{token:?}");
    }
    // The stream refuses unknown tokens the same way, and admin-only channels to others.
    let (status, body) = call(client().get(server.url("/api/sse/stream?token=nope"))).await;
    assert_eq!(
        (status, body["error"].clone()),
        (StatusCode::UNAUTHORIZED, json!("invalid_token"))
    );
    let (status, _) =
        call(client().get(server.url("/api/sse/stream?channels=admin-actions&token=bob-token")))
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_stats_connections_and_disconnects() {
    let (server, hub) = start().await;
    let admin = Caller {
        server: &server,
        token: "admin-token",
    };
    let mut bob = open(&server, "bob-token").await;
    let connected = next(&mut bob).await;
    assert_eq!(connected.event, "connected");
    assert_eq!(connected.payload()["userId"], "3");

    // A toast for Bob through the publish API.
    let (status, report) = call(admin.post("/api/sse/publish").json(&json!({
        "channel": "toasts", "event": "toast",
        "data": {"message": "Quota updated", "type": "success"},
        "target": "user-specific", "targetUsers": [3]
    })))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["sent"], 1);
    let toast = next(&mut bob).await;
    assert_eq!(
        (toast.id.as_str(), toast.event.as_str()),
        (report["cursor"].as_str().unwrap(), "toast")
    );
    assert_eq!(
        toast.payload(),
        json!({"message": "Quota updated", "type": "success"})
    );

    // A bad message names its field.
    let (status, body) = call(
        admin
            .post("/api/sse/publish")
            .json(&json!({"channel": "toasts", "event": "toast", "ttl": 0})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "ttl");

    // Statistics and connections.
    let (_, stats) = call(admin.get("/api/sse/stats")).await;
    assert_eq!(stats["totalConnections"], 1);
    let (_, list) = call(admin.get("/api/sse/connections")).await;
    let id = list[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(list[0]["userId"], "3");
    assert_eq!(
        list[0]["clientAddr"].as_str().unwrap().split(':').next(),
        Some("127.0.0.1")
    );
    let (status, one) = call(admin.get(&format!("/api/sse/connections/{id}"))).await;
    assert_eq!((status, one["id"].clone()), (StatusCode::OK, json!(id)));
    let (status, missing) = call(admin.get("/api/sse/connections/conn-999")).await;
    assert_eq!(
        (status, missing),
        (
            StatusCode::NOT_FOUND,
            json!({"error": "not_found", "message": "connection conn-999 is not open"})
        )
    );

    // Disconnect by user: the stream ends.
    let (status, body) = call(admin.delete("/api/sse/users/3/connections")).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"disconnected": 1, "instances": 1}))
    );
    expect_end(&mut bob).await;
    assert_eq!(hub.connection_count(), 0);
    let (status, _) = call(admin.delete(&format!("/api/sse/connections/{id}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_sets_the_cookie_and_chat_reaches_the_others() {
    let (server, _hub) = start().await;
    let response = client()
        .post(server.url("/api/login"))
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
    let (status, _) = call(
        client()
            .get(server.url("/api/me"))
            .header("cookie", "sse_token=alice-token"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let mut bob = open(&server, "bob-token").await;
    assert_eq!(next(&mut bob).await.event, "connected");
    let alice = Caller {
        server: &server,
        token: "alice-token",
    };
    let (status, _) = call(alice.post("/api/chat/typing")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        alice
            .post("/api/chat/messages")
            .json(&json!({"text": "hello bob"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let typing = next(&mut bob).await;
    assert_eq!(
        (typing.event.as_str(), typing.payload()),
        ("typing", json!({"userId": "2", "name": "Alice"}))
    );
    let message = next(&mut bob).await;
    assert_eq!(
        (message.event.as_str(), message.payload()),
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

/// A publish that names its recipients wrongly or has a field of the wrong type is refused with
/// a 400 naming the field, and reaches nobody.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_refusals_name_the_field_and_deliver_nothing() {
    let (server, _hub) = start().await;
    let admin = Caller {
        server: &server,
        token: "admin-token",
    };
    let mut bob = open(&server, "bob-token").await;
    assert_eq!(next(&mut bob).await.event, "connected");
    let base = json!({"channel": "notifications", "event": "notification", "data": {"for": 2}});
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    // (body, field, how the message starts)
    let cases = [
        // Without a target, the list would be ignored and everyone on the channel reached.
        (
            with("targetUsers", json!([2])),
            "targetUsers",
            "targetUsers is only read with target user-specific; target is all",
        ),
        (
            with("priority", json!(-1)),
            "priority",
            "priority: invalid value: integer `-1`, expected u8",
        ),
        (
            with("target", json!("everyone")),
            "target",
            "target: unknown variant `everyone`, expected one of",
        ),
        (
            with("ttl", json!("soon")),
            "ttl",
            "ttl: invalid type: string \"soon\"",
        ),
        (
            with("channel", json!("Bad")),
            "channel",
            "channel: channel contains 'B' at character 0",
        ),
        (
            with("targetRoles", json!(["admin", "no spaces"])),
            "targetRoles",
            "targetRoles: role contains ' ' at character 2",
        ),
    ];
    for (body, field, message) in cases {
        let (status, answer) = call(admin.post("/api/sse/publish").json(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["error"], "invalid_message", "{answer}");
        assert_eq!(answer["field"], field, "{body}: {answer}");
        let text = answer["message"].as_str().unwrap();
        assert!(
            text.starts_with(message),
            "{text:?} should start with {message:?}"
        );
    }
    // Bob received nothing: the next event is a notification sent to him afterwards.
    let (status, report) = call(
        admin.post("/api/sse/publish").json(
            &with("target", json!("user-specific"))
                .as_object()
                .map(|o| {
                    let mut o = o.clone();
                    o.insert("targetUsers".into(), json!([3]));
                    Value::Object(o)
                })
                .unwrap(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let event = next(&mut bob).await;
    assert_eq!(
        (event.event.as_str(), event.id.as_str()),
        ("notification", report["cursor"].as_str().unwrap())
    );
}

/// State-changing endpoints take JSON only, and a write authenticated by the cookie must come
/// from the demo's own pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_need_json_and_cookie_writes_the_same_origin() {
    let (server, hub) = start().await;
    let message = r#"{"channel":"alerts","event":"alert","data":"hi"}"#;
    let publish = |content_type: Option<&str>| {
        let request = client()
            .post(server.url("/api/sse/publish"))
            .bearer_auth("admin-token")
            .body(message);
        match content_type {
            Some(value) => request.header("content-type", value),
            None => request,
        }
    };
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        assert_eq!(
            call(publish(content_type)).await,
            (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                json!({"error": "unsupported_media_type", "message": "the body must be JSON (content-type: application/json)"})
            ),
            "{content_type:?}"
        );
    }
    let chat = client()
        .post(server.url("/api/chat/messages"))
        .bearer_auth("alice-token")
        .header("content-type", "text/plain")
        .body(r#"{"text":"hi"}"#);
    assert_eq!(call(chat).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(hub.stats().messages_sent, 0);

    // The cookie goes with every request the browser makes to the demo, even from another
    // site's page: such writes are refused.
    let with_cookie = || {
        client()
            .post(server.url("/api/sse/publish"))
            .header("cookie", "sse_token=admin-token")
            .header("content-type", "application/json")
            .body(message)
    };
    let forbidden =
        json!({"error": "cross_origin", "message": "cross-origin writes are not allowed"});
    assert_eq!(
        call(with_cookie().header("origin", "http://evil.example")).await,
        (StatusCode::FORBIDDEN, forbidden.clone())
    );
    assert_eq!(
        call(with_cookie().header("sec-fetch-site", "cross-site")).await,
        (StatusCode::FORBIDDEN, forbidden)
    );
    let own = format!("http://{}", server.addr());
    let (status, _) = call(
        with_cookie()
            .header("origin", own)
            .header("sec-fetch-site", "same-origin"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(hub.stats().messages_sent, 1);
}

/// Any id that is not an open connection, malformed ones included, is a 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_are_not_open_are_404_whatever_the_id() {
    let (server, _hub) = start().await;
    let admin = Caller {
        server: &server,
        token: "admin-token",
    };
    for id in ["conn-999", "abc", "conn-", "-1"] {
        let not_open = (
            StatusCode::NOT_FOUND,
            json!({"error": "not_found", "message": format!("connection {id} is not open")}),
        );
        let path = format!("/api/sse/connections/{id}");
        assert_eq!(call(admin.get(&path)).await, not_open, "GET {id}");
        assert_eq!(call(admin.delete(&path)).await, not_open, "DELETE {id}");
    }
}

/// The demo shows only the built-in users' tokens, answers only to its own host names, and
/// slows down guessing at tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_keeps_its_secrets() {
    let (server, _hub) = start().await;
    let (status, users) = call(client().get(server.url("/api/demo-users"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(users.as_array().unwrap().len(), 3);
    assert_eq!(users[0]["token"], "admin-token");

    // A users file's tokens are secrets: never served.
    let file = Users::new(vec![
        serde_json::from_value(json!({"token": "s3cret", "userId": 9})).unwrap(),
    ])
    .unwrap();
    let private = serve_demo_with(Hub::new(), file).await;
    assert_eq!(
        call(client().get(private.url("/api/demo-users"))).await,
        (StatusCode::OK, json!([]))
    );

    // A page on another host name that resolves to the loopback address (DNS rebinding).
    let rebound = client()
        .get(server.url("/api/demo-users"))
        .header("host", format!("evil.example:{}", server.addr().port()));
    assert_eq!(
        call(rebound).await,
        (
            StatusCode::MISDIRECTED_REQUEST,
            json!({"error": "invalid_host", "message": "this server does not answer for host evil.example"})
        )
    );
    let localhost = client()
        .get(server.url("/api/demo-users"))
        .header("host", format!("localhost:{}", server.addr().port()));
    assert_eq!(call(localhost).await.0, StatusCode::OK);

    // Ten failed sign-ins a minute from one address; the eleventh is refused at once.
    let login = |token: &str| {
        client()
            .post(server.url("/api/login"))
            .json(&json!({"token": token}))
    };
    for _ in 0..10 {
        assert_eq!(call(login("guess")).await.0, StatusCode::UNAUTHORIZED);
    }
    let refused = login("admin-token").send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_honours_idempotency_keys_from_the_header_and_the_body() {
    let (server, _hub) = start().await;
    let admin = Caller {
        server: &server,
        token: "admin-token",
    };
    let mut bob = sse_conformance::client::open(
        client().get(server.stream_url("channels=toasts&token=bob-token")),
    )
    .await;
    bob.expect_event("connected").await;
    let toast = json!({"channel": "toasts", "event": "toast", "data": {"message": "Saved"}});

    let (status, first) = call(
        admin
            .post("/api/sse/publish")
            .header("idempotency-key", "save-1")
            .json(&toast),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(first.get("duplicate").is_none(), "{first}");
    let mut with_body_key = toast.clone();
    with_body_key["idempotencyKey"] = json!("save-1");
    for request in [
        admin
            .post("/api/sse/publish")
            .header("idempotency-key", "save-1")
            .json(&toast),
        admin.post("/api/sse/publish").json(&with_body_key),
    ] {
        let (status, again) = call(request).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            (&again["id"], &again["cursor"], &again["duplicate"]),
            (&first["id"], &first["cursor"], &json!(true))
        );
    }
    // Another message under the same key: 409, nothing sent.
    let mut other = toast.clone();
    other["data"]["message"] = json!("Deleted");
    let (status, body) = call(
        admin
            .post("/api/sse/publish")
            .header("idempotency-key", "save-1")
            .json(&other),
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::CONFLICT, &json!("idempotency_conflict"))
    );
    // Header and body disagree: 400 naming the field.
    let (status, body) = call(
        admin
            .post("/api/sse/publish")
            .header("idempotency-key", "save-2")
            .json(&with_body_key),
    )
    .await;
    assert_eq!(
        (status, &body["field"]),
        (StatusCode::BAD_REQUEST, &json!("idempotencyKey"))
    );
    let (status, body) = call(
        admin
            .post("/api/sse/publish")
            .header("idempotency-key", "")
            .json(&toast),
    )
    .await;
    assert_eq!(
        (status, &body["field"]),
        (StatusCode::BAD_REQUEST, &json!("idempotencyKey"))
    );

    assert_eq!(
        bob.expect_event("toast").await.id,
        first["cursor"].as_str().unwrap()
    );
    bob.expect_no_event_within(std::time::Duration::from_millis(100))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_says_what_happened_to_a_message_at_each_of_a_users_connections() {
    let (server, _hub) = start().await;
    let admin = Caller {
        server: &server,
        token: "admin-token",
    };
    let mut bob = sse_conformance::client::open(
        client().get(server.stream_url("channels=toasts&token=bob-token")),
    )
    .await;
    let connected = bob.expect_event("connected").await;
    let bobs_id = connected.payload()["connectionId"].clone();
    let toast = |users: Value| {
        json!({"channel": "toasts", "event": "toast", "data": {"message": "hi"},
               "target": "user-specific", "targetUsers": users})
    };
    let (_, for_alice) = call(admin.post("/api/sse/publish").json(&toast(json!([2])))).await;
    let (_, for_bob) = call(admin.post("/api/sse/publish").json(&toast(json!([3])))).await;
    assert_eq!(
        bob.expect_event("toast").await.id,
        for_bob["cursor"].as_str().unwrap()
    );

    let explain = |message: &Value| {
        format!(
            "/api/sse/explain?message={}&userId=3",
            message.as_str().unwrap()
        )
    };
    let (status, why) = call(admin.get(&explain(&for_alice["cursor"]))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        why,
        json!({
            "message": for_alice["cursor"],
            "userId": "3",
            "connections": [{
                "connectionId": bobs_id,
                "instance": why["connections"][0]["instance"],
                "outcome": "not-recipient",
                "detail": "the user is not among targetUsers",
            }],
        })
    );
    // By message id too.
    let (_, why) = call(admin.get(&explain(&for_bob["id"]))).await;
    assert_eq!(why["connections"][0]["outcome"], "delivered");
    assert_eq!(why["connections"][0]["detail"], "written to the stream");

    let (status, body) = call(admin.get("/api/sse/explain?message=x")).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &json!("bad_request"))
    );
    let bob_caller = Caller {
        server: &server,
        token: "bob-token",
    };
    let (status, _) = call(bob_caller.get(&explain(&for_bob["id"]))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_lists_who_is_in_a_channel_for_those_who_may_read_it() {
    let hub = examples::demo::hub_builder().build();
    let server = common::serve_demo(hub).await;
    let mut bob = sse_conformance::client::open(
        client().get(server.stream_url("channels=chat&presence=true&token=bob-token")),
    )
    .await;
    bob.expect_event("connected").await;
    assert_eq!(
        bob.expect_event("presence-join").await.payload(),
        json!({"userId": "3", "connections": 1})
    );
    let mut alice = open(&server, "alice-token").await;
    next(&mut alice).await;
    assert_eq!(
        bob.expect_event("presence-join").await.payload(),
        json!({"userId": "2", "connections": 1})
    );

    let bob_caller = Caller {
        server: &server,
        token: "bob-token",
    };
    let (status, here) = call(bob_caller.get("/api/sse/presence/chat")).await;
    assert_eq!(status, StatusCode::OK);
    let since = |i: usize| here["users"][i]["since"].as_u64().unwrap();
    assert_eq!(
        here,
        json!({
            "channel": "chat",
            "users": [
                {"userId": "2", "connections": 1, "since": since(0)},
                {"userId": "3", "connections": 1, "since": since(1)},
            ],
            "anonymous": 0,
            "total": 2,
        })
    );
    // Only for those who may read the channel.
    let (status, _) = call(client().get(server.url("/api/sse/presence/chat"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call(bob_caller.get("/api/sse/presence/admin-actions")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(bob_caller.get("/api/sse/presence/nowhere")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Alerts are open to anonymous readers.
    let (status, here) = call(client().get(server.url("/api/sse/presence/alerts"))).await;
    assert_eq!((status, &here["total"]), (StatusCode::OK, &json!(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_the_committed_one_mounted_at_api_sse() {
    let (server, _hub) = start().await;
    let (status, served) = call(client().get(server.url("/api/sse/openapi.json"))).await;
    assert_eq!(status, StatusCode::OK);
    let mut committed: Value =
        serde_json::from_str(include_str!("../../sse-axum/openapi.json")).unwrap();
    committed["servers"] = json!([{ "url": "/api/sse" }]);
    assert_eq!(served, committed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_banner_board_publishes_its_changes_and_asks_clients_to_refetch() {
    let (server, _hub) = start().await;
    let admin = Caller {
        server: &server,
        token: "admin-token",
    };
    let bob = Caller {
        server: &server,
        token: "bob-token",
    };
    let mut stream = sse_conformance::client::open(
        client().get(server.stream_url("channels=alerts&token=bob-token")),
    )
    .await;
    assert_eq!(next(&mut stream).await.event, "connected");

    let banner =
        json!({"message": "Maintenance at 22:00", "level": "warning", "title": "Heads up"});
    let (status, body) = call(
        admin
            .request(Method::PUT, "/api/alerts/maint")
            .json(&banner),
    )
    .await;
    let stored = json!({"id": "maint", "title": "Heads up", "message": "Maintenance at 22:00", "level": "warning"});
    assert_eq!((status, &body), (StatusCode::OK, &stored));
    let update = next(&mut stream).await;
    assert_eq!(
        (update.event.as_str(), update.payload()),
        ("update", stored.clone())
    );
    let (status, list) = call(client().get(server.url("/api/alerts"))).await;
    assert_eq!((status, list), (StatusCode::OK, json!([stored])));

    // Refusals: not an admin, a bad id, a bad level or message, a body that is not JSON.
    let (status, _) = call(bob.request(Method::PUT, "/api/alerts/x").json(&banner)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for (path, body) in [
        ("/api/alerts/bad%20id", json!({"message": "m"})),
        ("/api/alerts/ok", json!({"message": "m", "level": "loud"})),
        ("/api/alerts/ok", json!({"message": " "})),
        ("/api/alerts/ok", json!({"text": "m"})),
    ] {
        let (status, refused) = call(admin.request(Method::PUT, path).json(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}");
        assert_eq!(refused["error"], "bad_request");
    }

    // An invalidation: the clients refetch.
    let (status, _) = call(admin.post("/api/alerts/invalidate")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let refresh = next(&mut stream).await;
    assert_eq!(
        (refresh.event.as_str(), refresh.payload()),
        (
            "refresh",
            json!({"type": "cache-invalidation", "channel": "alerts"})
        )
    );

    // Removal: a dismissal; a second removal is 404.
    let (status, _) = call(admin.delete("/api/alerts/maint")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let dismissed = next(&mut stream).await;
    assert_eq!(
        (dismissed.event.as_str(), dismissed.payload()),
        ("alert", json!({"id": "maint", "dismissed": true}))
    );
    let (status, body) = call(admin.delete("/api/alerts/maint")).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::NOT_FOUND, &json!("not_found"))
    );
    let (_, list) = call(client().get(server.url("/api/alerts"))).await;
    assert_eq!(list, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_react_example_app_is_served_at_react() {
    let (server, _hub) = start().await;
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = no_redirect.get(server.url("/react")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(response.headers()["location"], "/react/");
    let page = client().get(server.url("/react/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains(r#"src="/react/app.js""#)
    );
    let script = client()
        .get(server.url("/react/app.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let missing = client()
        .get(server.url("/react/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
