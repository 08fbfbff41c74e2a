//! The conformance suite against warp serving `sse_warp::stream_with_identity`.

use sse_conformance::{Harness, STREAM_PATH, Server, identity_from_headers};
use sse_core::Hub;
use sse_tower::StreamConfig;
use tokio::net::TcpListener;
use warp::{Filter, http::HeaderMap};

struct WarpHarness;

impl Harness for WarpHarness {
    const NAME: &'static str = "warp + sse-warp";

    async fn start(hub: Hub, config: StreamConfig) -> Server {
        assert_eq!(
            STREAM_PATH, "/api/sse/stream",
            "the route below mounts this path"
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The host application's own auth filter.
        let auth = warp::header::headers_cloned()
            .map(|headers: HeaderMap| identity_from_headers(&headers));
        let sse = warp::path!("api" / "sse" / "stream")
            .and(sse_warp::stream_with_identity(hub, config, auth));
        let health = warp::path!("health").map(|| "ok");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let done = tokio::spawn(
            warp::serve(sse.or(health))
                .incoming(listener)
                .graceful(async move {
                    let _ = stopped.await;
                })
                .run(),
        );
        Server::new(
            addr,
            move || {
                let _ = stop.send(());
            },
            async move {
                done.await.unwrap();
            },
        )
    }
}

sse_conformance::conformance_tests!(WarpHarness);
