//! What the filters hand to sse-tower and what they give back, driven through `warp::test`.

use std::{net::SocketAddr, time::Duration};

use http_body::Body as _;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sse_hub::{Channel, EventType, Hub, Identity, Message, UserId, testing::Events};
use sse_tower::{ClientAddr, StreamConfig};
use warp::{Filter, Rejection, reply::Response};

fn config() -> StreamConfig {
    StreamConfig::new([Channel::CHAT, Channel::ALERTS])
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

/// `x-user` to an identity, anonymous without it; never rejects.
fn header_auth()
-> impl Filter<Extract = (Option<Identity>,), Error = std::convert::Infallible> + Clone {
    warp::header::headers_cloned()
        .map(|headers: warp::http::HeaderMap| sse_conformance::identity_from_headers(&headers))
}

#[test]
fn filters_are_send_sync_and_servable() {
    fn servable<F: Filter + Clone + Send + Sync + 'static>(_: &F) {}
    servable(&sse_warp::stream(Hub::new(), config()));
    servable(&sse_warp::stream_with_identity(
        Hub::new(),
        config(),
        header_auth(),
    ));
}

#[tokio::test]
async fn query_headers_and_method_reach_sse_tower() {
    let hub = Hub::new();
    let sse = warp::path!("sse").and(sse_warp::stream(hub.clone(), config()));

    let response = warp::test::request()
        .path("/sse?channels=chat,billing")
        .filter(&sse)
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["content-type"], "application/json");
    // A complete body, so the server sends it with a `content-length`.
    let length = response.body().size_hint().exact();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(length, Some(body.len() as u64));
    assert_eq!(
        json_of(&body),
        json!({"error": "not_found", "message": "unknown channel \"billing\""})
    );

    let response = warp::test::request()
        .path("/sse")
        .header("last-event-id", "nonsense")
        .reply(&sse)
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(json_of(response.body())["error"], "bad_request");

    let response = warp::test::request()
        .path("/sse")
        .header("accept", "application/json")
        .reply(&sse)
        .await;
    assert_eq!(response.status(), 406);

    let response = warp::test::request()
        .method("DELETE")
        .path("/sse")
        .reply(&sse)
        .await;
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET");
    assert_eq!(hub.connection_count(), 0);
}

#[tokio::test]
async fn the_stream_carries_sse_towers_headers_and_frames() {
    let hub = Hub::new();
    let sse = sse_warp::stream(hub.clone(), config());
    let response = warp::test::request()
        .path("/?channel=alerts")
        .filter(&sse)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(headers["cache-control"], "no-cache, no-transform");
    assert_eq!(headers["x-accel-buffering"], "no");
    assert!(!headers.contains_key("content-length"));
    let mut events = Events::from_body(response.into_body());
    let connected = events.expect_event("connected").await;
    // The `retry:` hint came first.
    assert_eq!(events.retry(), Some(Duration::from_millis(3000)));
    assert_eq!(connected.json()["data"]["channels"], json!(["alerts"]));

    let report = hub
        .send(Message::new(Channel::ALERTS, EventType::Alert, json!(1)))
        .await
        .unwrap();
    events.expect_message(&report, "alert", &json!(1)).await;
    assert_eq!(hub.connection_count(), 1);
    drop(events);
    assert_eq!(hub.connection_count(), 0);
}

#[tokio::test]
async fn the_client_address_comes_from_warp_or_an_extension() {
    let hub = Hub::new();
    let sse = sse_warp::stream(hub.clone(), config());
    let peer: SocketAddr = "192.0.2.7:40000".parse().unwrap();
    let response = warp::test::request()
        .remote_addr(peer)
        .filter(&sse)
        .await
        .unwrap();
    assert_eq!(hub.connections()[0].client_addr, Some(peer));
    drop(response);

    let given: SocketAddr = "198.51.100.1:1".parse().unwrap();
    let response = warp::test::request()
        .remote_addr(peer)
        .extension(ClientAddr(given))
        .filter(&sse)
        .await
        .unwrap();
    assert_eq!(hub.connections()[0].client_addr, Some(given));
    drop(response);

    let response = warp::test::request().filter(&sse).await.unwrap();
    assert_eq!(hub.connections()[0].client_addr, None);
    drop(response);
}

#[tokio::test]
async fn stream_reads_an_identity_from_the_extensions() {
    let hub = Hub::new();
    let sse = sse_warp::stream(hub.clone(), config().require_auth(true));
    let response = warp::test::request().reply(&sse).await;
    assert_eq!(response.status(), 401);

    let response = warp::test::request()
        .extension(Identity::user(UserId::from(7)))
        .filter(&sse)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(hub.connections()[0].user_id, Some(UserId::from(7)));
}

#[tokio::test]
async fn the_identity_filter_decides_the_identity() {
    let hub = Hub::new();
    let sse = sse_warp::stream_with_identity(hub.clone(), config(), header_auth());

    let response = warp::test::request()
        .header("x-user", "3")
        .header("x-roles", "admin")
        .extension(Identity::user(UserId::from(7)))
        .filter(&sse)
        .await
        .unwrap();
    let info = &hub.connections()[0];
    assert_eq!(info.user_id, Some(UserId::from(3)));
    assert_eq!(info.roles, [sse_hub::Role::from_static("admin")]);
    drop(response);

    // `None` from the filter is an anonymous caller, whatever the extensions say.
    let response = warp::test::request()
        .extension(Identity::user(UserId::from(7)))
        .filter(&sse)
        .await
        .unwrap();
    assert_eq!(hub.connections()[0].user_id, None);
    drop(response);
}

#[tokio::test]
async fn a_rejecting_identity_filter_keeps_its_rejection() {
    let hub = Hub::new();
    // An application auth that rejects requests without `authorization` itself.
    let auth = warp::header::<String>("authorization")
        .map(|token: String| UserId::new(token).ok().map(Identity::user));
    let sse = sse_warp::stream_with_identity(hub.clone(), config(), auth);

    let rejected: Result<Response, Rejection> = warp::test::request().filter(&sse).await;
    assert!(
        rejected
            .unwrap_err()
            .find::<warp::reject::MissingHeader>()
            .is_some()
    );
    assert_eq!(hub.connection_count(), 0);

    let response = warp::test::request()
        .header("authorization", "9")
        .filter(&sse)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(hub.connections()[0].user_id, Some(UserId::from(9)));
}
