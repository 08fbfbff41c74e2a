//! The scenarios. Each starts its own hub and server, and checks exact values, counts and order.

use std::time::Duration;

use serde_json::{Value, json};
use sse_hub::{Channel, EventType, Hub, Message, Permission, Role, SendReport, testing::Event};
use sse_tower::{ChannelRule, RateLimit, StreamConfig};

use crate::{
    Harness, Server, WAIT,
    client::{self, As},
};

/// Waits until `condition` holds, within [`WAIT`].
async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(WAIT, async {
        while !condition() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out waiting until {what}");
}

/// A new hub, and `H` serving `config`'s endpoint from it.
async fn start<H: Harness>(config: StreamConfig) -> (Hub, Server) {
    let hub = Hub::new();
    let server = H::start(hub.clone(), config).await;
    (hub, server)
}

/// Sends `n` on the chat channel.
async fn send_chat(hub: &Hub, n: u64) -> SendReport {
    let message = Message::new(Channel::CHAT, EventType::Data, json!(n));
    hub.send(message).await.expect("the hub takes the message")
}

/// The JSON body of `response`.
async fn json(response: reqwest::Response) -> Value {
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

/// `200 OK` with the SSE headers, and a `connected` event that carries the connection's id,
/// channels, user and heartbeat interval; the hub sees the identity from the host's middleware
/// and the client address from the framework.
pub async fn headers_and_connected_event<H: Harness>() {
    let (hub, server) = start::<H>(StreamConfig::new([Channel::CHAT, Channel::ALERTS])).await;
    let response = As::user("1").get(&server.stream_url("channels=chat")).await;
    assert_eq!(response.status(), 200, "{}", H::NAME);
    let headers = response.headers();
    assert_eq!(headers["content-type"], "text/event-stream", "{}", H::NAME);
    assert_eq!(
        headers["cache-control"],
        "no-cache, no-transform",
        "{}",
        H::NAME
    );
    assert_eq!(headers["x-accel-buffering"], "no", "{}", H::NAME);
    drop(response);
    until("the first stream is gone", || hub.connection_count() == 0).await;

    let mut stream = client::open(
        As::user_with_roles("1", "admin").request(&server.stream_url("channels=chat")),
    )
    .await;
    let connected = stream.expect_event("connected").await;
    assert_eq!(connected.id, "", "{}", H::NAME);
    let mut data = connected.payload();
    let id = data["connectionId"].as_str().unwrap().to_owned();
    assert!(id.starts_with("conn-"), "{id}");
    data["connectionId"] = json!("*");
    assert_eq!(
        data,
        json!({
            "connectionId": "*",
            "channels": ["chat"],
            "userId": "1",
            "resumed": false,
            "replayed": 0,
            "historyGap": false,
            "heartbeatInterval": 15000,
        }),
        "{}",
        H::NAME
    );
    let info = hub.connections();
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].roles, [Role::from_static("admin")], "{}", H::NAME);
    assert_eq!(
        info[0].client_addr.map(|a| a.ip()),
        Some([127, 0, 0, 1].into()),
        "{}: the adapter must pass the client address",
        H::NAME
    );
    drop(stream);
    server.shutdown().await;
}

/// A message reaches the subscribers of its channel and nobody else.
pub async fn delivery_by_channel<H: Harness>() {
    let (hub, server) = start::<H>(StreamConfig::new([Channel::CHAT, Channel::ALERTS])).await;
    let mut chat = client::open(As::user("1").request(&server.stream_url("channels=chat"))).await;
    let mut alerts =
        client::open(As::user("2").request(&server.stream_url("channel=alerts"))).await;
    chat.expect_event("connected").await;
    alerts.expect_event("connected").await;
    for (channel, n) in [
        (Channel::CHAT, 1),
        (Channel::ALERTS, 2),
        (Channel::CHAT, 3),
        (Channel::ALERTS, 4),
    ] {
        hub.send(Message::new(channel, EventType::Data, json!(n)))
            .await
            .unwrap();
    }
    let got_chat = chat.take(2).await;
    let got_alerts = alerts.take(2).await;
    assert_eq!(
        got_chat.iter().map(Event::payload).collect::<Vec<_>>(),
        [json!(1), json!(3)],
        "{}",
        H::NAME
    );
    assert_eq!(
        got_alerts.iter().map(Event::payload).collect::<Vec<_>>(),
        [json!(2), json!(4)],
        "{}",
        H::NAME
    );
    assert!(
        got_chat
            .iter()
            .all(|r| r.json()["channel"] == "chat" && r.event == "data")
    );
    drop((chat, alerts));
    server.shutdown().await;
}

/// Users, roles, permissions and exclusions, with two identities side by side.
pub async fn targeting_side_by_side<H: Harness>() {
    let (hub, server) = start::<H>(StreamConfig::new([Channel::NOTIFICATIONS])).await;
    let mut admin =
        client::open(As::user_with_roles("1", "admin").request(&server.stream_url(""))).await;
    let mut plain = client::open(
        As {
            user: Some("2"),
            roles: "",
            permissions: "reports.view",
        }
        .request(&server.stream_url("")),
    )
    .await;
    admin.expect_event("connected").await;
    plain.expect_event("connected").await;
    let n = |n: u64| Message::new(Channel::NOTIFICATIONS, EventType::Notification, json!(n));
    for message in [
        n(1).to_users([2]),
        n(2).to_roles([Role::from_static("admin")]),
        n(3).exclude_users([1]),
        n(4).to_permissions([Permission::from_static("reports.view")]),
        n(5),
    ] {
        hub.send(message).await.unwrap();
    }
    let got_admin: Vec<Value> = admin.take(2).await.iter().map(Event::payload).collect();
    let got_plain: Vec<Value> = plain.take(4).await.iter().map(Event::payload).collect();
    assert_eq!(got_admin, [json!(2), json!(5)], "{}", H::NAME);
    assert_eq!(
        got_plain,
        [json!(1), json!(3), json!(4), json!(5)],
        "{}",
        H::NAME
    );
    drop((admin, plain));
    server.shutdown().await;
}

/// 401, 403, 404 and 429, each with its JSON body, before any stream starts.
pub async fn refusals_have_statuses_and_json_bodies<H: Harness>() {
    let config = StreamConfig::new([Channel::CHAT])
        .require_auth(true)
        .channel_rule(
            Channel::ADMIN_ACTIONS,
            ChannelRule::new().roles([Role::from_static("admin")]),
        )
        .rate_limit(RateLimit::new(4, Duration::from_secs(60)));
    let (_hub, server) = start::<H>(config).await;
    let cases = [
        (
            As::anonymous(),
            "",
            401,
            json!({"error": "unauthorized", "message": "authentication required"}),
        ),
        (
            As::user("2"),
            "channels=admin-actions",
            403,
            json!({"error": "forbidden", "message": "channel \"admin-actions\" requires one of the roles \"admin\""}),
        ),
        (
            As::user("2"),
            "channels=billing",
            404,
            json!({"error": "not_found", "message": "unknown channel \"billing\""}),
        ),
    ];
    for (who, query, status, body) in cases {
        let response = who.get(&server.stream_url(query)).await;
        assert_eq!(response.status(), status, "{}: {query}", H::NAME);
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{}",
            H::NAME
        );
        assert_eq!(json(response).await, body, "{}: {query}", H::NAME);
    }
    // The fourth connection from 127.0.0.1 in the window is the last one allowed.
    let allowed = As::user("2").get(&server.stream_url("")).await;
    assert_eq!(allowed.status(), 200, "{}", H::NAME);
    drop(allowed);
    let limited = As::user("2").get(&server.stream_url("")).await;
    assert_eq!(limited.status(), 429, "{}", H::NAME);
    assert_eq!(limited.headers()["retry-after"], "15", "{}", H::NAME);
    assert_eq!(
        json(limited).await,
        json!({"error": "too_many_requests", "message": "too many new connections from 127.0.0.1; retry later"}),
        "{}",
        H::NAME
    );
    server.shutdown().await;
}

/// A client that reconnects with `Last-Event-ID` gets exactly what it missed, once, in order,
/// then live messages.
pub async fn reconnect_with_last_event_id<H: Harness>() {
    let (hub, server) = start::<H>(StreamConfig::new([Channel::CHAT])).await;
    let url = server.stream_url("");
    let mut first = client::open(As::user("1").request(&url)).await;
    first.expect_event("connected").await;
    let seen = send_chat(&hub, 1).await;
    first.expect_message(&seen, "data", &json!(1)).await;
    drop(first);
    until("the first connection is gone", || {
        hub.connection_count() == 0
    })
    .await;
    let mut missed = Vec::new();
    for n in 2..=3 {
        missed.push(send_chat(&hub, n).await);
    }
    let mut second = client::open(
        As::user("1")
            .request(&url)
            .header("Last-Event-ID", seen.cursor.to_string()),
    )
    .await;
    let connected = second.expect_event("connected").await.payload();
    assert_eq!(connected["resumed"], true, "{}", H::NAME);
    assert_eq!(connected["replayed"], 2, "{}", H::NAME);
    for (n, report) in (2..=3).zip(&missed) {
        second.expect_message(report, "data", &json!(n)).await;
    }
    let live = send_chat(&hub, 4).await;
    second.expect_message(&live, "data", &json!(4)).await;
    drop(second);
    server.shutdown().await;
}

/// Idle streams receive `heartbeat` events at the configured interval.
pub async fn heartbeats<H: Harness>() {
    let config =
        StreamConfig::new([Channel::SYSTEM]).heartbeat_interval(Duration::from_millis(100));
    let (_hub, server) = start::<H>(config).await;
    let mut stream = client::open(As::anonymous().request(&server.stream_url(""))).await;
    stream.expect_event("connected").await;
    for _ in 0..2 {
        let beat = stream.expect_event("heartbeat").await.json();
        assert!(beat["timestamp"].as_u64().unwrap() > 1_700_000_000_000);
        assert_eq!(beat.as_object().unwrap().len(), 1);
    }
    drop(stream);
    server.shutdown().await;
}

/// A client that goes away is unregistered at once.
pub async fn disconnect_cleanup<H: Harness>() {
    let (hub, server) = start::<H>(StreamConfig::new([Channel::CHAT])).await;
    let mut a = client::open(As::user("1").request(&server.stream_url(""))).await;
    let mut b = client::open(As::user("2").request(&server.stream_url(""))).await;
    a.expect_event("connected").await;
    b.expect_event("connected").await;
    assert_eq!(hub.connection_count(), 2);
    drop(a);
    until("one connection is left", || hub.connection_count() == 1).await;
    drop(b);
    until("no connection is left", || hub.connection_count() == 0).await;
    let stats = hub.stats();
    assert_eq!(
        (stats.total_connections, stats.active_channels),
        (0, 0),
        "{}",
        H::NAME
    );
    server.shutdown().await;
}

/// `Hub::shutdown` ends every stream, so the server's graceful shutdown completes promptly.
pub async fn shutdown_ends_streams<H: Harness>() {
    let (hub, server) = start::<H>(StreamConfig::new([Channel::SYSTEM])).await;
    let mut streams = Vec::new();
    for _ in 0..5 {
        let mut stream = client::open(As::anonymous().request(&server.stream_url(""))).await;
        stream.expect_event("connected").await;
        streams.push(stream);
    }
    assert_eq!(hub.shutdown(), 5);
    for stream in &mut streams {
        stream.expect_end().await;
    }
    let exited = tokio::time::timeout(Duration::from_secs(2), server.shutdown()).await;
    assert!(
        exited.is_ok(),
        "{}: the server did not exit within 2 s",
        H::NAME
    );
}
