//! Smoke test of the `poem_basic` example over TCP.

mod common;

use common::{
    assert_priority_11_is_refused, assert_unknown_channel_is_refused, publish_raw, publish_welcome,
};
use poem::listener::TcpAcceptor;
use serde_json::{Value, json};
use sse_conformance::{
    Server, WAIT,
    client::{self, As},
};
use sse_poem::{Hangup, Hub};

/// Serves the example's app on a free port, as the binary does.
async fn serve(hub: Hub) -> Server {
    Server::serve(|listener, shutdown| async move {
        poem::Server::new_with_acceptor(Hangup::new(TcpAcceptor::from_tokio(listener).unwrap()))
            .run_with_graceful_shutdown(examples::poem_basic::app(hub), shutdown, None)
            .await
            .unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_message_reaches_the_targeted_stream() {
    let hub = Hub::new();
    let server = serve(hub.clone()).await;
    let mut stream = client::open(
        As::user_with_roles("7", "editor").request(&server.stream_url("channels=notifications")),
    )
    .await;
    let connected = stream.expect_event("connected").await;
    assert_eq!(connected.id, "");
    assert_eq!(connected.payload()["userId"], "7");
    assert_eq!(connected.payload()["channels"], json!(["notifications"]));
    let info = hub.connections();
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].roles, [sse_poem::Role::from_static("editor")]);
    assert_eq!(
        info[0].client_addr.map(|a| a.ip()),
        Some([127, 0, 0, 1].into())
    );

    publish_welcome(&server, 7, &mut stream).await;

    assert_priority_11_is_refused(&server).await;
    let unparsable = publish_raw(&server, "{\"channel\":").await;
    assert_eq!(unparsable.status(), 400);
    assert_eq!(
        unparsable.json::<Value>().await.unwrap(),
        json!({"error": "invalid_message", "message": "EOF while parsing a value at line 1 column 11"})
    );

    // A refusal from the stream endpoint keeps sse-tower's status and JSON body.
    assert_unknown_channel_is_refused(&server).await;

    // A client that leaves is unregistered at once, not at its next heartbeat.
    drop(stream);
    tokio::time::timeout(WAIT, async {
        while hub.connection_count() != 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the stream is dropped when its client leaves");

    // The binary's shutdown: the hub ends the streams, then the server exits.
    let mut second = client::open(As::anonymous().request(&server.stream_url(""))).await;
    second.expect_event("connected").await;
    assert_eq!(hub.shutdown(), 1);
    tokio::time::timeout(WAIT, server.shutdown())
        .await
        .expect("the server exits once the streams have ended");
}
