//! Helpers shared by the integration tests: a real Redis, hubs on it, and frame reading.

#![allow(dead_code, unreachable_pub)]

use std::{sync::Arc, time::Duration};

use serde_json::Value;
use sse_core::{Channel, EventType, Hub, HubBuilder, Message, Subscription};
use sse_redis::{RedisBackplane, RedisConfig};

/// How long a test waits for anything that should happen at once.
pub const WAIT: Duration = Duration::from_secs(10);

/// The Redis the tests use: `REDIS_URL`, or the local default. Panics if it does not answer:
/// a test never skips silently.
pub fn redis_url() -> String {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let answered = redis::Client::open(url.as_str())
        .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(2)))
        .and_then(|mut conn| redis::cmd("PING").query::<String>(&mut conn));
    if let Err(err) = answered {
        if std::env::var_os("CI").is_some() {
            panic!(
                "no Redis at {url} ({err}): CI must start redis-server before the tests \
                 (or set REDIS_URL)"
            );
        }
        panic!(
            "no Redis at {url} ({err}): start one with `redis-server` or set REDIS_URL; \
             these tests need a real Redis"
        );
    }
    url
}

/// A stream key used by one test only; deletes the stream and its epoch when dropped, even
/// when the test fails.
#[derive(Debug)]
pub struct TestKey {
    pub url: String,
    pub key: String,
}

impl TestKey {
    pub fn new(url: &str, test: &str) -> Self {
        Self {
            url: url.to_owned(),
            key: format!("sse-test:{test}:{:016x}", fastrand::u64(..)),
        }
    }

    pub fn config(&self) -> RedisConfig {
        RedisConfig::default().key(self.key.as_str())
    }

    /// A synchronous connection for direct commands.
    pub fn redis(&self) -> redis::Connection {
        redis::Client::open(self.url.as_str())
            .unwrap()
            .get_connection_with_timeout(Duration::from_secs(2))
            .unwrap()
    }
}

impl Drop for TestKey {
    fn drop(&mut self) {
        if let Ok(mut conn) = redis::Client::open(self.url.as_str())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(2)))
        {
            let _: redis::RedisResult<()> = redis::cmd("DEL")
                .arg(&self.key)
                .arg(format!("{}:epoch", self.key))
                .query(&mut conn);
        }
    }
}

/// One server instance: a hub on its own Redis backplane. Shuts both down when dropped.
#[derive(Debug)]
pub struct Instance {
    pub hub: Hub,
    pub backplane: Arc<RedisBackplane>,
}

impl Instance {
    pub async fn start(url: &str, config: RedisConfig, builder: HubBuilder) -> Self {
        let backplane = RedisBackplane::connect(url, config)
            .await
            .expect("the backplane connects");
        let hub = sse_redis::hub(Arc::clone(&backplane), builder).await;
        Self { hub, backplane }
    }
}

impl std::ops::Deref for Instance {
    type Target = Hub;

    fn deref(&self) -> &Hub {
        &self.hub
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.hub.shutdown();
        self.backplane.close();
    }
}

/// Waits until `hub` has dispatched `n` messages: an instance delivers what another one sent
/// only once its tail has read it, and a test that connects there must not race that.
pub async fn dispatched(hub: &Hub, n: u64) {
    tokio::time::timeout(WAIT, async {
        while hub.stats().messages_dispatched < n {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the instance dispatches in time");
    assert_eq!(hub.stats().messages_dispatched, n);
}

/// One decoded SSE frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub id: Option<String>,
    pub event: String,
    /// The whole JSON object of the `data:` line.
    pub json: Value,
}

impl Frame {
    /// The message's own payload (`data` inside the JSON object).
    pub fn payload(&self) -> &Value {
        &self.json["data"]
    }
}

/// The frames of the next chunk, waiting at most [`WAIT`].
pub async fn next_frames(sub: &mut Subscription) -> Vec<Frame> {
    let chunk = tokio::time::timeout(WAIT, sub.recv())
        .await
        .expect("a frame arrives in time")
        .expect("the stream is open");
    let text = std::str::from_utf8(&chunk).unwrap();
    text.split_terminator("\n\n")
        .map(|frame| {
            let mut id = None;
            let mut event = None;
            let mut data = None;
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    id = Some(v.to_owned());
                } else if let Some(v) = line.strip_prefix("event: ") {
                    event = Some(v.to_owned());
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str(v).unwrap());
                }
            }
            Frame {
                id,
                event: event.expect("every frame here has an event"),
                json: data.expect("every frame here has data"),
            }
        })
        .collect()
}

/// Exactly the next `n` frames, however they are batched.
pub async fn take(sub: &mut Subscription, n: usize) -> Vec<Frame> {
    let mut out = Vec::new();
    while out.len() < n {
        out.extend(next_frames(sub).await);
    }
    assert_eq!(out.len(), n, "more frames than expected: {out:?}");
    out
}

/// The frames before the fence (a frame whose payload is `"fence"`), which must come last in
/// its chunk.
pub async fn until_fence(sub: &mut Subscription) -> Vec<Frame> {
    let mut out = Vec::new();
    loop {
        let frames = next_frames(sub).await;
        let fence = frames.iter().position(|f| f.payload() == "fence");
        match fence {
            Some(at) => {
                assert_eq!(at, frames.len() - 1, "frames after the fence: {frames:?}");
                out.extend(frames.into_iter().take(at));
                return out;
            }
            None => out.extend(frames),
        }
    }
}

/// A message on `channel` with `payload` as its data.
pub fn message(channel: Channel, payload: &str) -> Message {
    Message::new(channel, EventType::Data, Value::from(payload))
}

/// The payloads of some frames.
pub fn payloads(frames: &[Frame]) -> Vec<Value> {
    frames.iter().map(|f| f.payload().clone()).collect()
}

/// The ids of some frames.
pub fn ids(frames: &[Frame]) -> Vec<String> {
    frames
        .iter()
        .map(|f| f.id.clone().expect("an id"))
        .collect()
}
