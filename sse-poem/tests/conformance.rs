//! The conformance suite against poem serving `sse_poem::SseEndpoint`.

use poem::{Endpoint, EndpointExt, Request, Route, Server, get, handler, listener::TcpAcceptor};
use sse_conformance::{Harness, STREAM_PATH, identity_from_headers};
use sse_poem::{Hangup, Hub, SseEndpoint, StreamConfig};

struct PoemHarness;

#[handler]
fn health() -> &'static str {
    "ok"
}

impl Harness for PoemHarness {
    const NAME: &'static str = "poem + sse-poem";

    async fn start(hub: Hub, config: StreamConfig) -> sse_conformance::Server {
        let app = Route::new()
            .at(STREAM_PATH, SseEndpoint::new(hub, config))
            .at("/health", get(health))
            // The host application's own auth middleware.
            .around(|next, mut req: Request| async move {
                if let Some(identity) = identity_from_headers(req.headers()) {
                    req.set_data(identity);
                }
                next.call(req).await
            });
        // `Hangup` so that a client that leaves is dropped at once (see its docs); no graceful
        // timeout, since `Hub::shutdown` ends the streams the shutdown waits for.
        sse_conformance::Server::serve(|listener, shutdown| async move {
            Server::new_with_acceptor(Hangup::new(TcpAcceptor::from_tokio(listener).unwrap()))
                .run_with_graceful_shutdown(app, shutdown, None)
                .await
                .unwrap();
        })
        .await
    }
}

sse_conformance::conformance_tests!(PoemHarness);
