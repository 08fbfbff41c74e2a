//! The extractors and the plain-service mounting.

use axum::{
    Router,
    body::Body,
    extract::FromRef,
    http::{Request, StatusCode},
    routing::get,
};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sse_axum::{AxumSse, LastEventId, SseHub};
use sse_core::{Channel, Hub};
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

async fn body_json(response: axum::response::Response) -> Value {
    serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap()
}

#[tokio::test]
async fn last_event_id_from_header_or_query_and_400_when_malformed() {
    let app: Router = Router::new().route(
        "/",
        get(|LastEventId(cursor): LastEventId| async move {
            cursor.map_or("none".to_owned(), |c| c.to_string())
        }),
    );
    let text = |response: axum::response::Response| async move {
        String::from_utf8(
            response
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec(),
        )
        .unwrap()
    };
    let response = app
        .clone()
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(text(response).await, "none");
    let response = app
        .clone()
        .oneshot(
            Request::get("/?lastEventId=9-9-9")
                .header("last-event-id", "1-2-3")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(text(response).await, "1-2-3");
    let response = app
        .clone()
        .oneshot(
            Request::get("/?lastEventId=4-5-6")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(text(response).await, "4-5-6");
    let response = app
        .oneshot(
            Request::get("/")
                .header("last-event-id", "nope")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
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
    let stream = app
        .clone()
        .oneshot(Request::get("/stream").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let count = app
        .oneshot(Request::get("/count").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let bytes = count.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&bytes[..], b"1");
    drop(stream);
    assert_eq!(hub.connection_count(), 0);
}

#[tokio::test]
async fn a_wrong_method_gets_the_endpoints_json_405() {
    let app: Router = Router::new().route(
        "/stream",
        sse_axum::stream(Hub::new(), StreamConfig::new([Channel::CHAT])),
    );
    let response = app
        .oneshot(Request::post("/stream").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "GET");
    assert_eq!(
        body_json(response).await,
        json!({"error": "method_not_allowed", "message": "POST is not allowed; use GET"})
    );
}
