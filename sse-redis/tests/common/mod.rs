//! Helpers shared by the integration tests: a real Redis, hubs on it, and reading their
//! connections with the test kit.

#![allow(dead_code, unreachable_pub)]

use std::{sync::Arc, time::Duration};

use serde_json::{Value, json};
use sse_hub::{
    Channel, ConnectOptions, Connected, Cursor, EventType, Hub, HubBuilder, Message,
    testing::{Event, Events},
};
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
    /// A key for `test` on the Redis of [`redis_url`].
    pub fn new(test: &str) -> Self {
        Self {
            url: redis_url(),
            key: format!("sse-test:{test}:{:016x}", fastrand::u64(..)),
        }
    }

    pub fn config(&self) -> RedisConfig {
        RedisConfig::default().key(self.key.as_str())
    }

    /// An instance on this key's stream, with the default configuration.
    pub async fn instance(&self, builder: HubBuilder) -> Instance {
        Instance::start(&self.url, self.config(), builder).await
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
            // The stream, its epoch, and the control path's keys (instances, bans, persistent
            // messages).
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{}*", self.key))
                .query(&mut conn)
                .unwrap_or_default();
            if !keys.is_empty() {
                let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut conn);
            }
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

    /// Connects with `options`: what the connection got when it opened, and its events, each
    /// wait bounded by [`WAIT`].
    pub async fn open(&self, options: ConnectOptions) -> (Connected, Events) {
        let subscription = self.hub.connect(options).await.expect("the hub connects");
        let connected = subscription.connected();
        (
            connected,
            Events::from_subscription(subscription).wait(WAIT),
        )
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

/// The events before the fence (a message whose payload is `"fence"`), which is read too.
pub async fn until_fence(events: &mut Events) -> Vec<Event> {
    let mut before = Vec::new();
    loop {
        let event = events.next().await.expect("the stream is open");
        if event.payload() == "fence" {
            return before;
        }
        before.push(event);
    }
}

/// Reads the `history-gap` refresh for a client that sent `last_event_id`: its id is `head`,
/// where the client resumes next time.
pub async fn expect_gap(events: &mut Events, last_event_id: Cursor, head: Cursor) {
    let gap = events.expect_history_gap().await;
    assert_eq!(
        gap.payload()["lastEventId"],
        json!(last_event_id.to_string()),
        "{gap}"
    );
    assert_eq!(gap.id, head.to_string(), "{gap}");
}

/// A message on `channel` with `payload` as its data.
pub fn message(channel: Channel, payload: &str) -> Message {
    Message::new(channel, EventType::Data, Value::from(payload))
}
