//! Two demo instances on one Redis: a publish on one reaches a stream on the other.

use std::{net::SocketAddr, time::Duration};

use futures_util::StreamExt;
use reqwest_eventsource::{Event, EventSource, retry::Never};
use serde_json::{Value, json};
use sse_core::Hub;
use sse_redis::{RedisBackplane, RedisConfig};

use examples::demo::{self, users::Users};

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

async fn instance(key: &str) -> SocketAddr {
    let backplane = RedisBackplane::connect(&redis_url(), RedisConfig::default().key(key))
        .await
        .unwrap_or_else(|err| panic!("a Redis server at {} is needed: {err}", redis_url()));
    let hub: Hub = sse_redis::hub(backplane, Hub::builder()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(demo::serve(
        listener,
        demo::state(hub, Users::builtin()),
        std::future::pending(),
    ));
    addr
}

async fn next(source: &mut EventSource) -> (String, String, String) {
    match tokio::time::timeout(Duration::from_secs(5), source.next()).await {
        Ok(Some(Ok(Event::Message(m)))) => (m.id, m.event, m.data),
        other => panic!("expected a message, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_on_one_instance_reaches_a_stream_on_the_other() {
    let key = format!("sse:demo-test:{:016x}", fastrand_key());
    let a = instance(&key).await;
    let b = instance(&key).await;
    let mut source = EventSource::new(
        reqwest::Client::new().get(format!("http://{b}/api/sse/stream?channels=alerts")),
    )
    .unwrap();
    source.set_retry_policy(Box::new(Never));
    match tokio::time::timeout(Duration::from_secs(5), source.next()).await {
        Ok(Some(Ok(Event::Open))) => {}
        other => panic!("expected the stream to open, got {other:?}"),
    }
    assert_eq!(next(&mut source).await.1, "connected");
    let report: Value = reqwest::Client::new()
        .post(format!("http://{a}/api/sse/publish"))
        .bearer_auth("admin-token")
        .json(&json!({"channel": "alerts", "event": "alert", "data": {"message": "from A"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (id, event, data) = next(&mut source).await;
    assert_eq!(id, report["cursor"].as_str().unwrap());
    assert_eq!(event, "alert");
    let data: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(data["data"], json!({"message": "from A"}));
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .arg(format!("{key}:epoch"))
        .query_async(&mut conn)
        .await
        .unwrap();
}

fn fastrand_key() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    hasher.finish()
}
