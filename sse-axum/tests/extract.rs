//! The extractors and the plain-service mounting.

use axum::{
    Router,
    body::Body,
    extract::FromRef,
    http::{Request, StatusCode},
    response::Response,
    routing::get,
};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sse_axum::{AxumSse, LastEventId, SseHub};
use sse_hub::{Channel, Hub, testing::Events};
use sse_tower::{SseService, StreamConfig};
use tower::ServiceExt;

#[derive(Clone)]
struct AppState {
    hub: Hub,
}

impl FromRef<AppState> for Hub {
    fn from_ref(state: &AppState) -> Hub {
        state.hub.clone()
    }
}

/// Sends one request through a clone of `app`.
async fn send(app: &Router, request: axum::http::request::Builder) -> Response {
    app.clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

/// The whole body, as text.
async fn body_text(response: Response) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

async fn body_json(response: Response) -> Value {
    serde_json::from_str(&body_text(response).await).unwrap()
}

#[tokio::test]
async fn last_event_id_from_header_or_query_and_400_when_malformed() {
    let app: Router = Router::new().route(
        "/",
        get(|LastEventId(cursor): LastEventId| async move {
            cursor.map_or("none".to_owned(), |c| c.to_string())
        }),
    );
    let response = send(&app, Request::get("/")).await;
    assert_eq!(body_text(response).await, "none");
    let response = send(
        &app,
        Request::get("/?lastEventId=9-9-9").header("last-event-id", "1-2-3"),
    )
    .await;
    assert_eq!(body_text(response).await, "1-2-3");
    let response = send(&app, Request::get("/?lastEventId=4-5-6")).await;
    assert_eq!(body_text(response).await, "4-5-6");
    let response = send(&app, Request::get("/").header("last-event-id", "nope")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        body_json(response).await,
        json!({"error": "bad_request", "message": "invalid cursor \"nope\": expected <epoch>-<major>-<minor> in decimal"})
    );
}

#[tokio::test]
async fn the_hub_comes_from_state() {
    let hub = Hub::new();
    let app = Router::new()
        .route(
            "/count",
            get(|SseHub(hub): SseHub| async move { hub.connection_count().to_string() }),
        )
        .route_service(
            "/stream",
            AxumSse::new(SseService::new(
                hub.clone(),
                StreamConfig::new([Channel::CHAT]),
            )),
        )
        .with_state(AppState { hub: hub.clone() });
    let stream = send(&app, Request::get("/stream")).await;
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut events = Events::from_body(stream.into_body());
    let connected = events.expect_event("connected").await;
    assert_eq!(connected.json()["data"]["channels"], json!(["chat"]));
    let count = send(&app, Request::get("/count")).await;
    assert_eq!(body_text(count).await, "1");
    drop(events);
    assert_eq!(hub.connection_count(), 0);
}

#[tokio::test]
async fn a_wrong_method_gets_the_endpoints_json_405() {
    let app: Router = Router::new().route(
        "/stream",
        sse_axum::stream(Hub::new(), StreamConfig::new([Channel::CHAT])),
    );
    let response = send(&app, Request::post("/stream")).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "GET");
    assert_eq!(
        body_json(response).await,
        json!({"error": "method_not_allowed", "message": "POST is not allowed; use GET"})
    );
}
