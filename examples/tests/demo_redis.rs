//! Two demo instances on one Redis: a publish on one reaches a stream on the other.

mod common;

use serde_json::{Value, json};
use sse_hub::Hub;
use sse_redis::{RedisBackplane, RedisConfig};

use common::serve_demo;
use sse_conformance::{Server, client};

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

async fn instance(key: &str) -> Server {
    let backplane = RedisBackplane::connect(&redis_url(), RedisConfig::default().key(key))
        .await
        .unwrap_or_else(|err| panic!("a Redis server at {} is needed: {err}", redis_url()));
    let hub: Hub = sse_redis::hub(backplane, Hub::builder()).await;
    serve_demo(hub).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_on_one_instance_reaches_a_stream_on_the_other() {
    let key = format!("sse:demo-test:{:016x}", fastrand_key());
    let a = instance(&key).await;
    let b = instance(&key).await;
    let mut stream =
        client::open(reqwest::Client::new().get(b.stream_url("channels=alerts"))).await;
    stream.expect_event("connected").await;
    let report: Value = reqwest::Client::new()
        .post(a.url("/api/sse/publish"))
        .bearer_auth("admin-token")
        .json(&json!({"channel": "alerts", "event": "alert", "data": {"message": "from A"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let alert = stream.expect_event("alert").await;
    assert_eq!(alert.id, report["cursor"].as_str().unwrap());
    assert_eq!(alert.payload(), json!({"message": "from A"}));
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
