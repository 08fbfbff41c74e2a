//! The conformance suite against plain hyper serving `sse_tower::SseService`.

use http::Request;
use hyper::body::Incoming;
use hyper_util::{rt::TokioIo, server::graceful::GracefulShutdown, service::TowerToHyperService};
use sse_conformance::{Harness, STREAM_PATH, Server, identity_from_headers};
use sse_hub::Hub;
use sse_tower::{ClientAddr, SseLayer, StreamConfig};
use tower::{ServiceBuilder, ServiceExt, service_fn};

struct HyperHarness;

impl Harness for HyperHarness {
    const NAME: &'static str = "hyper + sse-tower";

    async fn start(hub: Hub, config: StreamConfig) -> Server {
        let app = ServiceBuilder::new()
            // The host application's own auth middleware.
            .map_request(|mut request: Request<Incoming>| {
                if let Some(identity) = identity_from_headers(request.headers()) {
                    request.extensions_mut().insert(identity);
                }
                request
            })
            .layer(SseLayer::new(STREAM_PATH, hub, config))
            .service(service_fn(|_request: Request<Incoming>| async {
                Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Empty::<
                    bytes::Bytes,
                >::new()))
            }));
        Server::serve(|listener, mut shutdown| async move {
            let graceful = GracefulShutdown::new();
            loop {
                let (stream, peer) = tokio::select! {
                    accepted = listener.accept() => accepted.unwrap(),
                    () = &mut shutdown => break,
                };
                let app = app
                    .clone()
                    .map_request(move |mut request: Request<Incoming>| {
                        request.extensions_mut().insert(ClientAddr(peer));
                        request
                    });
                let connection = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
                tokio::spawn(graceful.watch(connection));
            }
            graceful.shutdown().await;
        })
        .await
    }
}

sse_conformance::conformance_tests!(HyperHarness);
