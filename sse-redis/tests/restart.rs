//! Redis restarted under running hubs: sends fail fast during the outage, delivery resumes by
//! itself afterwards, and clients with cursors from before get a history gap.

mod common;

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::{Instance, ids, message, payloads, take};
use serde_json::json;
use sse_core::{
    Channel, ConnectOptions, Hub, Identity, UserId,
    error::{BackplaneError, SendError},
};
use sse_redis::RedisConfig;

/// A `redis-server` of this test's own, without persistence; killed when dropped.
struct Server {
    binary: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Server {
    fn start() -> Self {
        let binary = std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|dir| dir.join("redis-server"))
            .find(|path| path.is_file())
            .unwrap_or_else(|| {
                panic!(
                    "redis-server is not on PATH: this test starts and restarts a Redis of its \
                     own (install the redis-server package)"
                )
            });
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = Self {
            binary,
            port,
            child: None,
        };
        server.spawn();
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) {
        let child = Command::new(&self.binary)
            .args(["--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
    }

    /// Waits until the server answers PING.
    async fn ready(&self) {
        let client = redis::Client::open(self.url()).unwrap();
        tokio::time::timeout(common::WAIT, async {
            loop {
                if let Ok(mut conn) = client.get_multiplexed_async_connection().await {
                    let pong: redis::RedisResult<String> =
                        redis::cmd("PING").query_async(&mut conn).await;
                    if pong.is_ok() {
                        return;
                    }
                }
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("redis-server answers");
    }

    /// Sends a signal to the server (`STOP` freezes it: connections stay open, nothing
    /// answers; `CONT` thaws it).
    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("the server runs").id();
        let status = Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} {pid}");
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn config(key: &str, publish_timeout: Duration) -> RedisConfig {
    RedisConfig::default()
        .key(key)
        .block(Duration::from_millis(200))
        .publish_timeout(publish_timeout)
        .reconnect_max_delay(Duration::from_millis(200))
}

/// Sends on a channel nobody listens to until a send succeeds.
async fn until_sends_succeed(hub: &Hub) {
    tokio::time::timeout(Duration::from_secs(20), async {
        while hub
            .send(message(Channel::from_static("probe"), "probe"))
            .await
            .is_err()
        {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("sends succeed again after Redis is back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_resumes_after_a_redis_restart_and_old_cursors_get_a_history_gap() {
    let mut server = Server::start();
    server.ready().await;
    let publish_timeout = Duration::from_millis(500);
    let config = config("sse-test:restart", publish_timeout);
    let a = Instance::start(&server.url(), config.clone(), Hub::builder()).await;
    let b = Instance::start(&server.url(), config, Hub::builder()).await;
    let options = || ConnectOptions::new(Identity::user(UserId::from(1))).channels([Channel::CHAT]);
    let mut on_a = a.connect(options()).await.unwrap();
    let mut on_b = b.connect(options()).await.unwrap();

    let before = a.send(message(Channel::CHAT, "before")).await.unwrap();
    assert_eq!(before.sent, 1);
    for sub in [&mut on_a, &mut on_b] {
        let got = take(sub, 1).await;
        assert_eq!(ids(&got), [before.cursor.to_string()]);
    }

    server.kill();
    for hub in [&a, &b] {
        let started = Instant::now();
        let err = hub
            .send(message(Channel::CHAT, "during"))
            .await
            .expect_err("no Redis, no send");
        let took = started.elapsed();
        assert!(
            matches!(
                err,
                SendError::Backplane(BackplaneError::Unavailable(_) | BackplaneError::Timeout(_))
            ),
            "{err}"
        );
        // Bounded by the publish timeout (plus scheduling slack), not a hang.
        assert!(took < publish_timeout + Duration::from_secs(1), "{took:?}");
        assert!(hub.stats().backplane_errors >= 1);
    }

    server.spawn();
    server.ready().await;
    until_sends_succeed(&a).await;
    until_sends_succeed(&b).await;

    // Without persistence, the restarted Redis has a new stream and a new epoch; both tails
    // follow it, and nothing sent after recovery is lost.
    let after1 = a.send(message(Channel::CHAT, "after-1")).await.unwrap();
    let after2 = b.send(message(Channel::CHAT, "after-2")).await.unwrap();
    assert!(!after1.cursor.same_epoch(&before.cursor));
    assert!(after1.cursor < after2.cursor);
    for sub in [&mut on_a, &mut on_b] {
        let got = take(sub, 2).await;
        assert_eq!(payloads(&got), [json!("after-1"), json!("after-2")]);
        assert_eq!(
            ids(&got),
            [after1.cursor.to_string(), after2.cursor.to_string()]
        );
        assert_eq!(sub.queue_len(), 0);
    }
    assert_eq!(a.backplane.epoch(), after1.cursor.epoch());
    assert_eq!(b.backplane.epoch(), after1.cursor.epoch());

    // A cursor from before the restart points into a history that is gone.
    let mut stale = b
        .connect(options().last_event_id(before.cursor))
        .await
        .unwrap();
    assert!(stale.connected().history_gap);
    let got = take(&mut stale, 1).await;
    assert_eq!(got[0].event, "refresh");
    assert_eq!(got[0].payload()["reason"], "history-gap");
    assert_eq!(
        got[0].payload()["lastEventId"],
        json!(before.cursor.to_string())
    );
    // Its id is the new stream's head, so the client resumes from there next time.
    assert_eq!(got[0].id, Some(after2.cursor.to_string()));

    // A cursor from after it resumes normally, on the other instance.
    let mut fresh = a
        .connect(options().last_event_id(after1.cursor))
        .await
        .unwrap();
    assert!(fresh.connected().resumed);
    let got = take(&mut fresh, 1).await;
    assert_eq!(payloads(&got), [json!("after-2")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_time_out_while_redis_does_not_answer_and_resume_without_loss_after() {
    let mut server = Server::start();
    server.ready().await;
    let publish_timeout = Duration::from_millis(500);
    let config = config("sse-test:frozen", publish_timeout);
    let a = Instance::start(&server.url(), config.clone(), Hub::builder()).await;
    let b = Instance::start(&server.url(), config, Hub::builder()).await;
    let options = || ConnectOptions::new(Identity::anonymous()).channels([Channel::CHAT]);
    let mut on_b = b.connect(options()).await.unwrap();
    let before = a.send(message(Channel::CHAT, "before")).await.unwrap();
    assert_eq!(ids(&take(&mut on_b, 1).await), [before.cursor.to_string()]);

    server.signal("STOP");
    let started = Instant::now();
    let err = a
        .send(message(Channel::from_static("limbo"), "unanswered"))
        .await
        .expect_err("a frozen Redis answers nothing");
    let took = started.elapsed();
    assert!(
        matches!(err, SendError::Backplane(BackplaneError::Timeout(t)) if t == publish_timeout),
        "{err}"
    );
    assert!(
        took >= publish_timeout && took < publish_timeout + Duration::from_secs(1),
        "{took:?}"
    );
    assert!(a.stats().backplane_errors >= 1);

    server.signal("CONT");
    until_sends_succeed(&a).await;
    until_sends_succeed(&b).await;
    let after = a.send(message(Channel::CHAT, "after")).await.unwrap();
    // The same Redis, the same data: the epoch did not change, and nothing was lost.
    assert!(after.cursor.same_epoch(&before.cursor));
    let got = take(&mut on_b, 1).await;
    assert_eq!(payloads(&got), [json!("after")]);
    assert_eq!(ids(&got), [after.cursor.to_string()]);

    // A cursor from before the freeze resumes without a gap.
    let mut resumed = a
        .connect(options().last_event_id(before.cursor))
        .await
        .unwrap();
    assert!(resumed.connected().resumed);
    assert_eq!(payloads(&take(&mut resumed, 1).await), [json!("after")]);
    server.kill();
}
