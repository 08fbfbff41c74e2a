//! Smoke test of the `warp_basic` example over TCP.

mod common;

use common::{
    assert_invalid_message, assert_priority_11_is_refused, assert_unknown_channel_is_refused,
    publish_raw, publish_welcome,
};
use serde_json::json;
use sse_conformance::{
    Server, WAIT,
    client::{self, As},
};
use sse_warp::Hub;

/// Serves the example's app on a free port, as the binary does.
async fn serve(hub: Hub) -> Server {
    Server::serve(|listener, shutdown| {
        warp::serve(examples::warp_basic::app(hub))
            .incoming(listener)
            .graceful(shutdown)
            .run()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_message_reaches_the_targeted_stream() {
    let hub = Hub::new();
    let server = serve(hub.clone()).await;
    let mut stream =
        client::open(As::user("7").request(&server.stream_url("channels=notifications"))).await;
    let connected = stream.expect_event("connected").await;
    assert_eq!(connected.id, "");
    assert_eq!(connected.payload()["userId"], "7");
    assert_eq!(connected.payload()["channels"], json!(["notifications"]));
    assert_eq!(
        hub.connections()[0].client_addr.map(|a| a.ip()),
        Some([127, 0, 0, 1].into())
    );

    publish_welcome(&server, 7, &mut stream).await;

    assert_priority_11_is_refused(&server).await;
    let unparsable = publish_raw(&server, "{\"channel\":").await;
    assert_invalid_message(unparsable, "EOF while parsing").await;

    // A refusal from the stream endpoint keeps sse-tower's status and JSON body.
    assert_unknown_channel_is_refused(&server).await;

    // The binary's shutdown: the hub ends the streams, then the server exits.
    assert_eq!(hub.shutdown(), 1);
    tokio::time::timeout(WAIT, server.shutdown())
        .await
        .expect("the server exits once the streams have ended");
}
