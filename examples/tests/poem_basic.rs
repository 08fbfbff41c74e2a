//! Smoke test of the `poem_basic` example over TCP.

use std::{net::SocketAddr, time::Duration};

use futures_util::StreamExt;
use poem::{Server, listener::TcpAcceptor};
use reqwest_eventsource::{Event, EventSource, retry::Never};
use serde_json::{Value, json};
use sse_poem::{Hangup, Hub};
use tokio::{sync::oneshot, task::JoinHandle};

const WAIT: Duration = Duration::from_secs(5);

/// Serves the example's app on a free port, as the binary does; the sender starts the graceful
/// shutdown.
async fn serve(
    hub: Hub,
) -> (
    SocketAddr,
    oneshot::Sender<()>,
    JoinHandle<std::io::Result<()>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(
        Server::new_with_acceptor(Hangup::new(TcpAcceptor::from_tokio(listener).unwrap()))
            .run_with_graceful_shutdown(
                examples::poem_basic::app(hub),
                async move {
                    let _ = stopped.await;
                },
                None,
            ),
    );
    (addr, stop, server)
}

/// The next message: (id, event, data).
async fn next_message(source: &mut EventSource) -> (String, String, Value) {
    loop {
        match tokio::time::timeout(WAIT, source.next()).await {
            Ok(Some(Ok(Event::Open))) => {}
            Ok(Some(Ok(Event::Message(m)))) => {
                return (m.id, m.event, serde_json::from_str(&m.data).unwrap());
            }
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_message_reaches_the_targeted_stream() {
    let hub = Hub::new();
    let (addr, stop, server) = serve(hub.clone()).await;
    let request = reqwest::Client::new()
        .get(format!(
            "http://{addr}/api/sse/stream?channels=notifications"
        ))
        .header("x-user", "7")
        .header("x-roles", "editor");
    let mut source = EventSource::new(request).unwrap();
    source.set_retry_policy(Box::new(Never));
    let (id, event, connected) = next_message(&mut source).await;
    assert_eq!((id.as_str(), event.as_str()), ("", "connected"));
    assert_eq!(connected["data"]["userId"], "7");
    assert_eq!(connected["data"]["channels"], json!(["notifications"]));
    let info = hub.connections();
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].roles, [sse_poem::Role::from_static("editor")]);
    assert_eq!(
        info[0].client_addr.map(|a| a.ip()),
        Some([127, 0, 0, 1].into())
    );

    let client = reqwest::Client::new();
    let response = client
        .post(format!("http://{addr}/api/sse/publish"))
        .json(&json!({
            "id": "welcome-1",
            "channel": "notifications",
            "event": "notification",
            "data": {"title": "Hi"},
            "timestamp": 1_764_350_000_000_u64,
            "target": "user-specific",
            "targetUsers": [7]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let report: Value = response.json().await.unwrap();
    let cursor = report["cursor"].as_str().unwrap().to_owned();
    assert_eq!(
        report,
        json!({"id": "welcome-1", "cursor": cursor, "sent": 1, "shed": 0, "closed": 0})
    );

    let (id, event, message) = next_message(&mut source).await;
    assert_eq!(id, cursor);
    assert_eq!(event, "notification");
    assert_eq!(
        message,
        json!({
            "id": "welcome-1",
            "channel": "notifications",
            "event": "notification",
            "data": {"title": "Hi"},
            "timestamp": 1_764_350_000_000_u64
        })
    );

    let bad = client
        .post(format!("http://{addr}/api/sse/publish"))
        .json(&json!({"channel": "notifications", "event": "notification", "priority": 11}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        bad.json::<Value>().await.unwrap(),
        json!({"error": "invalid_message", "message": "priority is 11; the maximum is 10", "field": "priority"})
    );
    let unparsable = client
        .post(format!("http://{addr}/api/sse/publish"))
        .header("content-type", "application/json")
        .body("{\"channel\":")
        .send()
        .await
        .unwrap();
    assert_eq!(unparsable.status(), 400);
    assert_eq!(
        unparsable.json::<Value>().await.unwrap(),
        json!({"error": "invalid_message", "message": "EOF while parsing a value at line 1 column 11"})
    );

    // A refusal from the stream endpoint keeps sse-tower's status and JSON body.
    let refused = client
        .get(format!("http://{addr}/api/sse/stream?channels=billing"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 404);
    assert_eq!(
        refused.json::<Value>().await.unwrap(),
        json!({"error": "not_found", "message": "unknown channel \"billing\""})
    );

    // A client that leaves is unregistered at once, not at its next heartbeat.
    drop(source);
    tokio::time::timeout(WAIT, async {
        while hub.connection_count() != 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the stream is dropped when its client leaves");

    // The binary's shutdown: the hub ends the streams, then the server exits.
    let mut second =
        EventSource::new(reqwest::Client::new().get(format!("http://{addr}/api/sse/stream")))
            .unwrap();
    second.set_retry_policy(Box::new(Never));
    assert_eq!(next_message(&mut second).await.1, "connected");
    assert_eq!(hub.shutdown(), 1);
    let _ = stop.send(());
    tokio::time::timeout(WAIT, server)
        .await
        .expect("the server exits once the streams have ended")
        .unwrap()
        .unwrap();
}
