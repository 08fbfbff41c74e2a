//! The conformance suite against axum, served by `axum::serve` and by `sse_axum::serve`.

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
use sse_hub::Hub;
use sse_tower::StreamConfig;

/// The host application's own auth middleware.
async fn auth(mut request: Request, next: Next) -> Response {
    if let Some(identity) = identity_from_headers(request.headers()) {
        request.extensions_mut().insert(identity);
    }
    next.run(request).await
}

fn app(hub: Hub, config: StreamConfig) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .sse_stream(STREAM_PATH, hub, config)
        .layer(middleware::from_fn(auth))
}

/// Served by `axum::serve` with connection info.
struct AxumHarness;

impl Harness for AxumHarness {
    const NAME: &'static str = "axum";

    async fn start(hub: Hub, config: StreamConfig) -> Server {
        let app = app(hub, config);
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

/// Served by `sse_axum::serve`, the tuned server.
mod tuned {
    use super::*;

    struct TunedHarness;

    impl Harness for TunedHarness {
        const NAME: &'static str = "axum (sse_axum::serve)";

        async fn start(hub: Hub, config: StreamConfig) -> Server {
            let app = app(hub, config);
            Server::serve(|listener, shutdown| async move {
                sse_axum::serve(listener, app)
                    .with_graceful_shutdown(None, shutdown)
                    .await
                    .unwrap();
            })
            .await
        }
    }

    sse_conformance::conformance_tests!(TunedHarness);
}
