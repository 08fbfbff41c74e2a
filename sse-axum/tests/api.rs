//! `sse_axum::api`: the publish and administration router, its guards and its OpenAPI document.
#![cfg(feature = "api")]

use std::collections::{BTreeMap, BTreeSet};

use axum::{
    Router,
    body::Body,
    extract::{FromRequestParts, Request},
    http::{StatusCode, request::Parts},
    middleware::{self, Next},
    response::Response,
};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sse_axum::api::{self, Api};
use sse_hub::{
    Channel, ConnectOptions, EventType, Hub, Identity, Message, Role, UserId, error::ConnectError,
};
use sse_tower::{ChannelRule, StreamConfig};
use tower::ServiceExt;

/// The identity middleware of these tests: `x-user` and `x-roles` (comma-separated).
async fn identity(mut request: Request, next: Next) -> Response {
    if let Some(identity) = identity_of(request.headers()) {
        request.extensions_mut().insert(identity);
    }
    next.run(request).await
}

fn identity_of(headers: &axum::http::HeaderMap) -> Option<Identity> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let user = UserId::new(header("x-user")?).ok()?;
    let roles = header("x-roles").unwrap_or_default();
    Some(Identity::user(user).with_roles(roles.split(',').filter_map(|r| Role::new(r.trim()).ok())))
}

fn stream_config() -> StreamConfig {
    StreamConfig::new([
        Channel::CHAT,
        Channel::NOTIFICATIONS,
        Channel::ADMIN_ACTIONS,
    ])
    .channel_rule(Channel::CHAT, ChannelRule::new().require_auth())
    .channel_rule(
        Channel::ADMIN_ACTIONS,
        ChannelRule::new().roles([Role::from_static("admin")]),
    )
}

fn app(hub: &Hub) -> Router {
    Router::new()
        .nest(
            "/api/sse",
            Api::new(hub.clone(), api::require_role(Role::from_static("admin")))
                .presence(stream_config())
                .into_router(),
        )
        .layer(middleware::from_fn(identity))
}

/// A request as the admin (user 1).
fn admin(method: &str, uri: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("x-user", "1")
        .header("x-roles", "admin")
}

async fn call(
    app: &Router,
    request: axum::http::request::Builder,
    body: &str,
) -> (StatusCode, Value) {
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes)))
    };
    (status, json)
}

fn publish(body: &str) -> (axum::http::request::Builder, String) {
    (
        admin("POST", "/api/sse/publish").header("content-type", "application/json"),
        body.to_owned(),
    )
}

async fn connect(hub: &Hub, user: u64, channel: Channel) -> sse_hub::Subscription {
    hub.connect(ConnectOptions::new(Identity::user(user)).channels([channel]))
        .await
        .unwrap()
}

#[tokio::test]
async fn the_committed_openapi_document_is_current() {
    let document = Api::new(Hub::new(), api::require(|_| true))
        .presence(stream_config())
        .openapi();
    let current = serde_json::to_string_pretty(&document).unwrap() + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &current).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == current,
        "sse-axum/openapi.json is stale: regenerate it with \
         `UPDATE_OPENAPI=1 cargo test -p sse-axum --features api --test api`"
    );
    let parsed: Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(parsed["openapi"], "3.1.0");
    let paths: Vec<&str> = parsed["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        paths,
        [
            "/connections",
            "/connections/{id}",
            "/explain",
            "/presence/{channel}",
            "/publish",
            "/stats",
            "/users/{user}/ban",
            "/users/{user}/connections",
            "/users/{user}/revoke",
        ]
    );
}

#[tokio::test]
async fn the_document_is_served_with_its_mount_point_and_without_presence_when_not_offered() {
    let hub = Hub::new();
    let (status, document) = call(&app(&hub), Request::get("/api/sse/openapi.json"), "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(document["servers"], json!([{ "url": "/api/sse" }]));
    assert!(document["paths"]["/presence/{channel}"].is_object());

    let bare: Router = Router::new().nest(
        "/admin",
        Api::new(hub, api::require(|_| true)).into_router(),
    );
    let (status, document) = call(&bare, Request::get("/admin/openapi.json"), "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(document["servers"], json!([{ "url": "/admin" }]));
    assert!(document["paths"].get("/presence/{channel}").is_none());
    let (status, _) = call(&bare, Request::get("/admin/presence/chat"), "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_role_guard_answers_401_without_an_identity_and_403_without_the_role() {
    let hub = Hub::new();
    let app = app(&hub);
    let (status, body) = call(&app, Request::get("/api/sse/stats"), "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"error": "unauthorized", "message": "authentication required"})
    );
    let (status, body) = call(
        &app,
        Request::get("/api/sse/stats").header("x-user", "3"),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        json!({"error": "forbidden", "message": "not allowed"})
    );
    let (status, body) = call(&app, admin("GET", "/api/sse/stats"), "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["totalConnections"], 0);
    assert!(body.get("cluster").is_none(), "{body}");
}

/// The app's own admin extractor: a key header.
struct AdminKey;

impl<S: Send + Sync> FromRequestParts<S> for AdminKey {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get("x-admin-key") {
            Some(key) if key == "let-me-in" => Ok(Self),
            _ => Err((StatusCode::IM_A_TEAPOT, "no key")),
        }
    }
}

#[tokio::test]
async fn an_extractor_guard_answers_with_the_extractors_rejection() {
    let hub = Hub::new();
    let app: Router = Router::new().nest(
        "/admin",
        Api::new(hub.clone(), api::extractor::<AdminKey>()).into_router(),
    );
    let (status, body) = call(&app, Request::get("/admin/connections"), "").await;
    assert_eq!((status, body), (StatusCode::IM_A_TEAPOT, json!("no key")));
    let _bob = connect(&hub, 3, Channel::CHAT).await;
    let (status, body) = call(
        &app,
        Request::get("/admin/connections").header("x-admin-key", "let-me-in"),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_array().unwrap().len(), 1);
    assert_eq!(body[0]["userId"], "3");
}

#[tokio::test]
async fn publish_names_the_field_at_fault_and_a_repeat_answers_the_first_report() {
    let hub = Hub::new();
    let app = app(&hub);
    let bob = connect(&hub, 3, Channel::NOTIFICATIONS).await;

    let (status, body) = call(
        &app,
        admin("POST", "/api/sse/publish").header("content-type", "text/plain"),
        "{}",
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(body["error"], "unsupported_media_type");

    let huge = format!(
        r#"{{"channel":"notifications","event":"notification","data":"{}"}}"#,
        "x".repeat(2 << 20)
    );
    let (request, body) = publish(&huge);
    let (status, refused) = call(&app, request, &body).await;
    assert_eq!(
        (status, &refused["error"]),
        (StatusCode::PAYLOAD_TOO_LARGE, &json!("payload_too_large"))
    );

    let (request, body) =
        publish(r#"{"channel":"notifications","event":"notification","priority":11}"#);
    let (status, body) = call(&app, request, &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "invalid_message", "message": "priority is 11; the maximum is 10", "field": "priority"})
    );
    let (request, body) =
        publish(r#"{"channel":"notifications","event":"notification","target":"everyone"}"#);
    let (status, body) = call(&app, request, &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "target");

    let message = r#"{"channel":"notifications","event":"notification","data":{"n":1},"target":"user-specific","targetUsers":[3]}"#;
    let (request, body) = publish(message);
    let (status, first) = call(&app, request.header("idempotency-key", "order-17"), &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (first["sent"].as_u64(), first.get("duplicate")),
        (Some(1), None)
    );
    let (request, body) = publish(message);
    let (status, again) = call(&app, request.header("idempotency-key", "order-17"), &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["duplicate"], true);
    assert_eq!(
        (&again["id"], &again["cursor"]),
        (&first["id"], &first["cursor"])
    );

    let (request, body) =
        publish(r#"{"channel":"notifications","event":"notification","data":{"n":2}}"#);
    let (status, conflict) = call(&app, request.header("idempotency-key", "order-17"), &body).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(conflict["error"], "idempotency_conflict");
    let (request, body) =
        publish(r#"{"channel":"notifications","event":"notification","idempotencyKey":"a"}"#);
    let (status, differs) = call(&app, request.header("idempotency-key", "b"), &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(differs["field"], "idempotencyKey");

    // Bob got the first message once; nothing else reached him.
    let mut events = sse_hub::testing::Events::from_subscription(bob);
    let event = events.expect_event("notification").await;
    assert_eq!(event.payload(), json!({"n": 1}));
    assert!(events.try_next().is_none());
}

#[tokio::test]
async fn connections_kicks_bans_and_revocation() {
    let hub = Hub::new();
    let app = app(&hub);
    let bob = connect(&hub, 3, Channel::CHAT).await;
    let id = bob.id().to_string();

    let (status, rows) = call(&app, admin("GET", "/api/sse/connections"), "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(
        (&rows[0]["id"], &rows[0]["userId"]),
        (&json!(id), &json!("3"))
    );
    let (status, row) = call(
        &app,
        admin("GET", &format!("/api/sse/connections/{id}")),
        "",
    )
    .await;
    assert_eq!(
        (status, &row["channels"]),
        (StatusCode::OK, &json!(["chat"]))
    );
    for missing in ["conn-99", "not-an-id", "%FF"] {
        let (status, body) = call(
            &app,
            admin("GET", &format!("/api/sse/connections/{missing}")),
            "",
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(body["error"], "not_found");
    }
    let (status, body) = call(
        &app,
        admin("DELETE", &format!("/api/sse/connections/{id}")),
        "",
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"disconnected": 1})));
    let (status, _) = call(
        &app,
        admin("DELETE", &format!("/api/sse/connections/{id}")),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let _bob = connect(&hub, 3, Channel::CHAT).await;
    for bad in ["0", "31536001", "soon", "-1"] {
        let (status, body) = call(
            &app,
            admin("DELETE", &format!("/api/sse/users/3/connections?ban={bad}")),
            "",
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(
            body["message"],
            format!("ban must be a number of seconds from 1 to 31536000, not {bad:?}")
        );
    }
    let (status, body) = call(
        &app,
        admin("DELETE", "/api/sse/users/3/connections?bann=5"),
        "",
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &json!("bad_request"))
    );
    let (status, body) = call(
        &app,
        admin("DELETE", "/api/sse/users/3/connections?ban=600"),
        "",
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"disconnected": 1, "instances": 1}))
    );
    let refused = hub
        .connect(ConnectOptions::new(Identity::user(3)).channels([Channel::CHAT]))
        .await;
    assert!(
        matches!(refused, Err(ConnectError::Banned { .. })),
        "{refused:?}"
    );
    let (status, body) = call(&app, admin("DELETE", "/api/sse/users/3/ban"), "").await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));

    let _bob = connect(&hub, 3, Channel::CHAT).await;
    let _bob2 = connect(&hub, 3, Channel::NOTIFICATIONS).await;
    let (status, body) = call(&app, admin("POST", "/api/sse/users/3/revoke"), "").await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"revoked": 2, "instances": 1}))
    );
    let (status, body) = call(&app, admin("POST", "/api/sse/users/%01/revoke"), "").await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &json!("bad_request"))
    );
}

#[tokio::test]
async fn presence_is_judged_as_the_stream_would_judge_the_caller() {
    let hub = Hub::new();
    let app = app(&hub);
    let _bob = connect(&hub, 3, Channel::CHAT).await;

    let (status, body) = call(&app, Request::get("/api/sse/presence/chat"), "").await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::UNAUTHORIZED, &json!("unauthorized"))
    );
    let as_bob = || Request::get("/api/sse/presence/admin-actions").header("x-user", "3");
    let (status, _) = call(&app, as_bob(), "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &app,
        Request::get("/api/sse/presence/billing").header("x-user", "3"),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &app,
        Request::get("/api/sse/presence/Bad!").header("x-user", "3"),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = call(
        &app,
        Request::get("/api/sse/presence/chat").header("x-user", "4"),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            &body["channel"],
            &body["users"][0]["userId"],
            &body["users"][0]["connections"]
        ),
        (&json!("chat"), &json!("3"), &json!(1))
    );
    assert_eq!((&body["anonymous"], &body["total"]), (&json!(0), &json!(1)));
    assert_eq!(body.as_object().unwrap().len(), 4, "{body}");
}

#[tokio::test]
async fn explain_says_what_happened_at_each_connection() {
    let hub = Hub::new();
    let app = app(&hub);
    let _bob = connect(&hub, 3, Channel::CHAT).await;
    let report = hub
        .send(Message::new(Channel::CHAT, EventType::Data, json!(1)).to_users([4]))
        .await
        .unwrap();
    let uri = format!("/api/sse/explain?message={}&userId=3", report.cursor);
    let (status, body) = call(&app, admin("GET", &uri), "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["userId"], "3");
    assert_eq!(body["connections"][0]["outcome"], "not-recipient");
    assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
    let (status, _) = call(&app, admin("GET", "/api/sse/explain?message=&userId=3"), "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(&app, admin("GET", "/api/sse/explain?userId=3"), "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// The properties of `schema` (its `allOf` parts merged, references resolved in `doc`): each
/// with its schema, and the required ones.
fn schema_properties(doc: &Value, schema: &Value) -> (BTreeMap<String, Value>, BTreeSet<String>) {
    let schema = resolve(doc, schema);
    let mut properties = BTreeMap::new();
    let mut required = BTreeSet::new();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        let (p, r) = schema_properties(doc, part);
        properties.extend(p);
        required.extend(r);
    }
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        properties.insert(name.clone(), resolve(doc, property).clone());
    }
    for name in schema["required"].as_array().into_iter().flatten() {
        required.insert(name.as_str().unwrap().to_owned());
    }
    (properties, required)
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.strip_prefix("#/components/schemas/").unwrap();
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// Checks `value` against the document's schema `name`: every property it names and no other,
/// every required one, each of the JSON type and enum value its schema says.
#[track_caller]
fn assert_matches_schema(doc: &Value, name: &str, value: &Value) {
    let schema = &doc["components"]["schemas"][name];
    assert!(schema.is_object(), "no schema {name}");
    let (properties, required) = schema_properties(doc, schema);
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("{name}: {value} is not an object"));
    let keys: BTreeSet<String> = object.keys().cloned().collect();
    let named: BTreeSet<String> = properties.keys().cloned().collect();
    assert_eq!(keys, named, "{name}: the properties of {value}");
    assert!(
        required.is_subset(&keys),
        "{name}: {required:?} required in {value}"
    );
    for (key, property) in &properties {
        let field = &object[key];
        if let Some(values) = property["enum"].as_array() {
            assert!(
                values.contains(field),
                "{name}.{key}: {field} not in {values:?}"
            );
        }
        let kind = match field {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_u64() || n.is_i64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let types = match &property["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            // `oneOf` a null and a reference: either.
            _ => property["oneOf"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| resolve(doc, s)["type"].as_str().unwrap_or("any"))
                .collect(),
        };
        assert!(
            types.is_empty() || types.contains(&kind) || types.contains(&"any"),
            "{name}.{key}: {field} is not of {types:?}"
        );
    }
}

/// The events a stream carries match the schemas the document gives them (the schemas the
/// browser client's TypeScript types are generated from): the connected event, a heartbeat,
/// a history gap, the user's own presence join, a toast, a cache invalidation, a resource
/// refresh and the refresh of a revocation.
#[tokio::test(start_paused = true)]
async fn the_stream_events_match_their_schemas_in_the_document() {
    use sse_hub::{
        HistoryConfig, RefreshOptions, ToastKind, ToastOptions, system, testing::Events,
    };
    use std::time::Duration;

    let doc = serde_json::to_value(Api::new(Hub::new(), api::require(|_| true)).openapi()).unwrap();
    let data_of = |frame: &[u8]| -> Value {
        let text = std::str::from_utf8(frame).unwrap();
        let line = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
        serde_json::from_str(line).unwrap()
    };

    let hub = Hub::builder()
        .history(HistoryConfig::default().capacity(1))
        .presence_channels([Channel::CHAT])
        .presence_debounce(Duration::from_millis(10))
        .build();
    tokio::spawn({
        let hub = hub.clone();
        async move { hub.run_presence(tokio::time::sleep).await }
    });
    let first = hub
        .send(Message::new(Channel::CHAT, EventType::Data, json!(1)))
        .await
        .unwrap();
    for n in 2..4 {
        hub.send(Message::new(Channel::CHAT, EventType::Data, json!(n)))
            .await
            .unwrap();
    }
    let subscription = hub
        .connect(
            ConnectOptions::new(Identity::user(7))
                .channels([Channel::CHAT, Channel::TOASTS])
                .presence(true)
                .last_event_id(first.cursor),
        )
        .await
        .unwrap();

    let connected = data_of(&system::connected(
        &subscription.connected(),
        Duration::from_secs(15),
        1,
    ));
    assert_matches_schema(&doc, "EventEnvelope", &connected);
    assert_eq!(connected["event"], "connected");
    assert_matches_schema(&doc, "ConnectedData", &connected["data"]);
    assert_eq!(connected["data"]["historyGap"], true);
    assert_matches_schema(&doc, "HeartbeatData", &data_of(&system::heartbeat(2)));

    let mut events = Events::from_subscription(subscription).ignore_heartbeats();
    let gap = events.expect_history_gap().await.json();
    assert_matches_schema(&doc, "EventEnvelope", &gap);
    assert_matches_schema(&doc, "HistoryGapData", &gap["data"]);
    assert_eq!(gap["data"]["lastEventId"], first.cursor.to_string());
    let join = events.expect_event(system::PRESENCE_JOIN).await.json();
    assert_matches_schema(&doc, "EventEnvelope", &join);
    assert_matches_schema(&doc, "PresenceData", &join["data"]);
    assert_eq!(join["data"], json!({"userId": "7", "connections": 1}));

    hub.send_toast(7, "saved", ToastKind::Success, ToastOptions::default())
        .await
        .unwrap();
    let toast = events.expect_event("toast").await.json();
    assert_matches_schema(&doc, "EventEnvelope", &toast);
    assert_matches_schema(&doc, "ToastData", &toast["data"]);
    assert_eq!(toast["data"]["type"], "success");

    hub.invalidate_client_caches([Channel::CHAT], None::<Vec<UserId>>)
        .await
        .unwrap();
    let invalidation = events.expect_event("refresh").await.json();
    assert_matches_schema(&doc, "CacheInvalidationData", &invalidation["data"]);

    hub.trigger_refresh("orders", RefreshOptions::default().channel(Channel::CHAT))
        .await
        .unwrap();
    let refresh = events.expect_event("refresh").await.json();
    assert_matches_schema(&doc, "ResourceRefreshData", &refresh["data"]);
    assert_eq!(
        refresh["data"],
        json!({"resource": "orders", "reason": null})
    );

    hub.revoke_user(7).await;
    let revoked = events.expect_event("refresh").await;
    assert!(revoked.is_auth_expired());
    assert_matches_schema(&doc, "AuthExpiredData", &revoked.json()["data"]);
}
