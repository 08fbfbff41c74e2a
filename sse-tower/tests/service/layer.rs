//! Mounting with [`SseLayer`]: the endpoint's path is served, everything else passes through.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use sse_hub::Channel;
use sse_tower::{SseBody, SseLayer, StreamConfig};
use tower::{ServiceBuilder, ServiceExt, service_fn};

use crate::assert_refused;
use crate::support::{assert_opened, connected, hub, preamble};

/// The inner service's own error type.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AppError(&'static str);

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for AppError {}

#[tokio::test]
async fn the_layer_serves_its_path_and_passes_everything_else_through() {
    let inner_calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&inner_calls);
    let app = ServiceBuilder::new()
        .layer(SseLayer::new(
            "/api/sse/stream",
            hub(),
            StreamConfig::new([Channel::CHAT]),
        ))
        .service(service_fn(move |request: Request<String>| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if request.uri().path() == "/fail" {
                    return Err(AppError("database is down"));
                }
                let echo = format!(
                    "{} {} {:?} {}",
                    request.method(),
                    request.uri(),
                    request.headers().get("x-app"),
                    request.body()
                );
                let mut response = Response::new(Full::new(Bytes::from(echo)));
                *response.status_mut() = StatusCode::IM_A_TEAPOT;
                response
                    .headers_mut()
                    .insert("x-inner", HeaderValue::from_static("yes"));
                Ok(response)
            }
        }));
    let send = |request: Request<String>| app.clone().oneshot(request);

    let response = send(
        Request::get("/api/sse/stream?channels=chat")
            .body(String::new())
            .unwrap(),
    )
    .await
    .unwrap();
    let mut body = assert_opened(response);
    assert_eq!(
        preamble(&mut body).await,
        (3000, connected(1, &["chat"], None, 15_000))
    );
    // Refusals at the path are the endpoint's, not the inner service's.
    let response = send(
        Request::post("/api/sse/stream")
            .body("x".to_owned())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_refused(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "POST is not allowed; use GET",
        &[(header::ALLOW, "GET")],
    )
    .await;
    assert_eq!(inner_calls.load(Ordering::SeqCst), 0);

    // Other paths (an exact match: not even a trailing slash) reach the inner service with
    // their method, query, headers and body, and its response comes back unchanged.
    for (method, uri) in [
        (Method::PUT, "/other?channels=Bad"),
        (Method::GET, "/api/sse/stream/"),
    ] {
        let response = send(
            Request::builder()
                .method(method.clone())
                .uri(uri)
                .header("x-app", "1")
                .body("payload".to_owned())
                .unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
        assert_eq!(response.headers().len(), 1);
        assert_eq!(response.headers()["x-inner"], "yes");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, format!("{method} {uri} Some(\"1\") payload"));
    }
    assert_eq!(inner_calls.load(Ordering::SeqCst), 2);

    let err = send(Request::get("/fail").body(String::new()).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err, AppError("database is down"));
    assert_eq!(inner_calls.load(Ordering::SeqCst), 3);
}

#[test]
fn bodies_are_send_and_sync() {
    sse_hub::testing::assert_send_sync::<SseBody>();
    sse_hub::testing::assert_send_sync::<sse_tower::RouteBody<Full<Bytes>>>();
}
