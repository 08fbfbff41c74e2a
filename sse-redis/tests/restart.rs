//! Redis restarted under running hubs: sends fail fast during the outage, delivery resumes by
//! itself afterwards, and clients with cursors from before get a history gap.

mod common;

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::{Instance, expect_gap, message};
use serde_json::json;
use sse_hub::{
    Channel, ConnectOptions, Hub, Identity, SendReport, UserId,
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

    /// Waits until the server is ready, then starts two instances on its stream `key`.
    async fn two_instances(&self, key: &str) -> (Instance, Instance) {
        self.ready().await;
        let config = config(key);
        let a = Instance::start(&self.url(), config.clone(), Hub::builder()).await;
        let b = Instance::start(&self.url(), config, Hub::builder()).await;
        (a, b)
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

/// How long a send waits for Redis.
const PUBLISH_TIMEOUT: Duration = Duration::from_millis(500);

fn config(key: &str) -> RedisConfig {
    RedisConfig::default()
        .key(key)
        .block(Duration::from_millis(200))
        .publish_timeout(PUBLISH_TIMEOUT)
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

/// Connects to `instance` with `options` (which carry a cursor): the connection resumes, and
/// replays exactly the message of `missed`, whose payload is `payload`.
async fn expect_resume(
    instance: &Instance,
    options: ConnectOptions,
    missed: &SendReport,
    payload: &str,
) {
    let (connected, mut events) = instance.open(options).await;
    assert!(connected.resumed, "{connected:?}");
    events.expect_message(missed, "data", &json!(payload)).await;
    assert_eq!(events.try_next(), None);
}

/// WARN events of the backplane, captured for the whole process: its tasks run on the
/// runtime's workers.
mod logs {
    use std::sync::{Mutex, OnceLock};

    use tracing::{
        Event, Level, Subscriber,
        field::{Field, Visit},
    };
    use tracing_subscriber::{Layer, layer::Context, prelude::*};

    static WARNINGS: Mutex<Vec<(String, String, String)>> = Mutex::new(Vec::new());
    static INSTALLED: OnceLock<()> = OnceLock::new();

    struct Capture;

    #[derive(Default)]
    struct Fields {
        op: String,
        key: String,
        message: String,
    }

    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            let value = format!("{value:?}");
            match field.name() {
                "message" => self.message = value,
                "sse.backplane_op" => self.op = value.trim_matches('"').to_owned(),
                "sse.stream_key" => self.key = value.trim_matches('"').to_owned(),
                _ => {}
            }
        }

        fn record_str(&mut self, field: &Field, value: &str) {
            if field.name() == "sse.backplane_op" {
                self.op = value.to_owned();
            }
        }
    }

    impl<S: Subscriber> Layer<S> for Capture {
        fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
            if *event.metadata().level() == Level::WARN
                && event.metadata().target().starts_with("sse_redis")
            {
                let mut fields = Fields::default();
                event.record(&mut fields);
                WARNINGS
                    .lock()
                    .unwrap()
                    .push((fields.key, fields.op, fields.message));
            }
        }
    }

    pub(super) fn install() {
        INSTALLED.get_or_init(|| {
            tracing_subscriber::registry().with(Capture).init();
        });
    }

    /// The (operation, message) of the warnings about the stream `key`.
    pub(super) fn warnings(key: &str) -> Vec<(String, String)> {
        WARNINGS
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _, _)| k == key)
            .map(|(_, op, message)| (op.clone(), message.clone()))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_resumes_after_a_redis_restart_and_old_cursors_get_a_history_gap() {
    logs::install();
    let mut server = Server::start();
    let (a, b) = server.two_instances("sse-test:restart").await;
    let options = || ConnectOptions::new(Identity::user(UserId::from(1))).channels([Channel::CHAT]);
    let (_, mut on_a) = a.open(options()).await;
    let (_, mut on_b) = b.open(options()).await;

    let before = a.send(message(Channel::CHAT, "before")).await.unwrap();
    assert_eq!(before.sent, 1);
    for events in [&mut on_a, &mut on_b] {
        events
            .expect_message(&before, "data", &json!("before"))
            .await;
        assert_eq!(events.try_next(), None);
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
        assert!(took < PUBLISH_TIMEOUT + Duration::from_secs(1), "{took:?}");
        assert!(hub.stats().backplane_errors >= 1);
    }

    server.spawn();
    server.ready().await;
    until_sends_succeed(&a).await;
    until_sends_succeed(&b).await;

    // Without persistence, the restarted Redis has a new stream and a new epoch; both tails
    // follow it, tell their connections to resynchronise (what was sent during the outage
    // may be lost), and nothing sent after recovery is lost.
    let after1 = a.send(message(Channel::CHAT, "after-1")).await.unwrap();
    let after2 = b.send(message(Channel::CHAT, "after-2")).await.unwrap();
    assert!(!after1.cursor.same_epoch(&before.cursor));
    assert!(after1.cursor < after2.cursor);
    for events in [&mut on_a, &mut on_b] {
        let refresh = events.expect_history_gap().await;
        assert_eq!(
            refresh.id,
            before.cursor.to_string(),
            "no id of its own: {refresh}"
        );
        events
            .expect_message(&after1, "data", &json!("after-1"))
            .await;
        events
            .expect_message(&after2, "data", &json!("after-2"))
            .await;
        assert_eq!(events.try_next(), None);
    }
    assert_eq!(a.backplane.epoch(), after1.cursor.epoch());
    assert_eq!(b.backplane.epoch(), after1.cursor.epoch());

    // The outage is counted by operation and logged once at WARN when it starts and when it
    // ends, per instance.
    for hub in [&a, &b] {
        let errors = hub.stats().backplane_errors_by_op;
        assert!(errors.publish >= 1 && errors.tail >= 1, "{errors:?}");
    }
    let warnings = logs::warnings("sse-test:restart");
    let tail = |message: &str| {
        warnings
            .iter()
            .filter(|(op, text)| op == "tail" && text == message)
            .count()
    };
    assert_eq!(
        tail("redis backplane unreachable: delivery from other instances waits"),
        2,
        "{warnings:?}"
    );
    assert_eq!(tail("redis backplane reachable again"), 2, "{warnings:?}");

    // A cursor from before the restart points into a history that is gone.
    let (connected, mut stale) = b.open(options().last_event_id(before.cursor)).await;
    assert!(connected.history_gap);
    // Its id is the new stream's head, so the client resumes from there next time.
    expect_gap(&mut stale, before.cursor, after2.cursor).await;
    assert_eq!(stale.try_next(), None);

    // A cursor from after it resumes normally, on the other instance.
    expect_resume(
        &a,
        options().last_event_id(after1.cursor),
        &after2,
        "after-2",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_time_out_while_redis_does_not_answer_and_resume_without_loss_after() {
    let mut server = Server::start();
    let (a, b) = server.two_instances("sse-test:frozen").await;
    let options = || ConnectOptions::new(Identity::anonymous()).channels([Channel::CHAT]);
    let (_, mut on_b) = b.open(options()).await;
    let before = a.send(message(Channel::CHAT, "before")).await.unwrap();
    on_b.expect_message(&before, "data", &json!("before")).await;
    assert_eq!(on_b.try_next(), None);

    server.signal("STOP");
    let started = Instant::now();
    let err = a
        .send(message(Channel::from_static("limbo"), "unanswered"))
        .await
        .expect_err("a frozen Redis answers nothing");
    let took = started.elapsed();
    assert!(
        matches!(err, SendError::Backplane(BackplaneError::Timeout(t)) if t == PUBLISH_TIMEOUT),
        "{err}"
    );
    assert!(
        took >= PUBLISH_TIMEOUT && took < PUBLISH_TIMEOUT + Duration::from_secs(1),
        "{took:?}"
    );
    assert!(a.stats().backplane_errors >= 1);

    server.signal("CONT");
    until_sends_succeed(&a).await;
    until_sends_succeed(&b).await;
    let after = a.send(message(Channel::CHAT, "after")).await.unwrap();
    // The same Redis, the same data: the epoch did not change, and nothing was lost.
    assert!(after.cursor.same_epoch(&before.cursor));
    on_b.expect_message(&after, "data", &json!("after")).await;
    assert_eq!(on_b.try_next(), None);

    // A cursor from before the freeze resumes without a gap.
    expect_resume(&a, options().last_event_id(before.cursor), &after, "after").await;
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_path_acts_locally_during_an_outage_and_reaches_every_instance_after() {
    let mut server = Server::start();
    let (a, b) = server.two_instances("sse-test:control-restart").await;
    let bob = || ConnectOptions::new(Identity::user(UserId::from(3))).channels([Channel::CHAT]);
    let (_, mut on_a) = a.open(bob()).await;
    let (_, mut on_b) = b.open(bob()).await;

    // Redis is gone: A acts on its own streams and says why it could not ask the others.
    server.kill();
    let report = a.kick_user(UserId::from(3)).await;
    assert_eq!(report.affected, 1, "{report:?}");
    assert_eq!(report.instances, [a.instance()]);
    assert!(report.error.is_some(), "{report:?}");
    assert_eq!(on_a.expect_end().await, Some(Duration::from_secs(3)));
    assert_eq!(b.connection_count(), 1);

    // Redis is back: once the control subscriptions are up again, commands reach B.
    server.spawn();
    server.ready().await;
    tokio::time::timeout(Duration::from_secs(20), async {
        while a.kick_user(UserId::from(99)).await.instances.len() < 2 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the control path reconnects");
    let report = a.kick_user(UserId::from(3)).await;
    assert_eq!(report.affected, 1, "{report:?}");
    assert!(
        report.error.is_none() && report.missing.is_empty(),
        "{report:?}"
    );
    assert_eq!(on_b.expect_end().await, Some(Duration::from_secs(3)));
}
