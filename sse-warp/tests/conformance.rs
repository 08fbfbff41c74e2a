//! The conformance suite against warp serving `sse_warp::stream_with_identity`.

use sse_conformance::{Harness, STREAM_PATH, Server, identity_from_headers};
use sse_hub::Hub;
use sse_tower::StreamConfig;
use warp::{Filter, http::HeaderMap};

struct WarpHarness;

impl Harness for WarpHarness {
    const NAME: &'static str = "warp + sse-warp";

    async fn start(hub: Hub, config: StreamConfig) -> Server {
        assert_eq!(
            STREAM_PATH, "/api/sse/stream",
            "the route below mounts this path"
        );
        // The host application's own auth filter.
        let auth = warp::header::headers_cloned()
            .map(|headers: HeaderMap| identity_from_headers(&headers));
        let sse = warp::path!("api" / "sse" / "stream")
            .and(sse_warp::stream_with_identity(hub, config, auth));
        let health = warp::path!("health").map(|| "ok");
        let routes = sse.or(health);
        Server::serve(|listener, shutdown| {
            warp::serve(routes)
                .incoming(listener)
                .graceful(shutdown)
                .run()
        })
        .await
    }
}

sse_conformance::conformance_tests!(WarpHarness);
