//! The conformance suite against axum.

use std::net::SocketAddr;

use axum::{
    Router,
    extract::Request,
    middleware::{self, Next},
    response::Response,
    routing::get,
};
use sse_axum::SseRouterExt;
use sse_conformance::{Harness, STREAM_PATH, Server, identity_from_headers};
use sse_core::Hub;
use sse_tower::StreamConfig;

/// The host application's own auth middleware.
async fn auth(mut request: Request, next: Next) -> Response {
    if let Some(identity) = identity_from_headers(request.headers()) {
        request.extensions_mut().insert(identity);
    }
    next.run(request).await
}

struct AxumHarness;

impl Harness for AxumHarness {
    const NAME: &'static str = "axum";

    async fn start(hub: Hub, config: StreamConfig) -> Server {
        let app = Router::new()
            .route("/health", get(|| async { "ok" }))
            .sse_stream(STREAM_PATH, hub, config)
            .layer(middleware::from_fn(auth));
        Server::serve(|listener, shutdown| async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown)
            .await
            .unwrap();
        })
        .await
    }
}

sse_conformance::conformance_tests!(AxumHarness);
