//! The demo's `/metrics` after a scripted scenario on a Redis backplane: sends of every target
//! kind, a client too slow to keep up, a kick, refused streams, a Redis outage. Every counter
//! and its labels are asserted exactly.
//!
//! One test in its own binary: the metrics recorder is global to the process. The test runs a
//! `redis-server` of its own, so that it can stop it.

use std::{
    collections::BTreeMap,
    process::{Child, Command, Stdio},
    time::Duration,
};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sse_conformance::{Server, client};
use sse_hub::{Channel, ConnectOptions, EventType, Hub, Identity, Message, UserId};

use examples::demo::{self, users::Users};

mod common;

/// The samples of a Prometheus text exposition: `name{label="value",...}` (labels sorted) to
/// value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (series, value) = line.rsplit_once(' ').expect("a sample line");
        let key = match series.split_once('{') {
            Some((name, labels)) => {
                let mut labels: Vec<&str> = labels.trim_end_matches('}').split(',').collect();
                labels.sort_unstable();
                format!("{name}{{{}}}", labels.join(","))
            }
            None => series.to_owned(),
        };
        out.insert(key, value.parse().expect("a number"));
    }
    out
}

/// A `redis-server` of this test's own on a free port, killed when dropped.
struct Redis(Child, u16);

impl Redis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--bind", "127.0.0.1"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (this test runs a Redis of its own)");
        Self(child, port)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.1)
    }

    /// A backplane, once the server answers.
    async fn backplane(&self) -> std::sync::Arc<sse_redis::RedisBackplane> {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let config = sse_redis::RedisConfig::default()
                    .publish_timeout(Duration::from_millis(500))
                    .reconnect_max_delay(Duration::from_millis(200));
                if let Ok(backplane) = sse_redis::RedisBackplane::connect(&self.url(), config).await
                {
                    return backplane;
                }
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("redis-server answers")
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn scrape(server: &Server) -> BTreeMap<String, f64> {
    let text = reqwest::get(server.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    samples(&text)
}

async fn publish(server: &Server, body: Value) {
    common::publish_as_admin(server, &body).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_the_scenario_did_exactly() {
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .expect("the only recorder in this process");
    sse_tower::metrics::describe();
    let mut redis = Redis::start();
    let hub = sse_redis::hub(redis.backplane().await, Hub::builder()).await;
    let mut state = demo::state(hub.clone(), Users::builtin());
    state.metrics = Some(handle);
    state.dashboard = false;
    let server = Server::serve(|listener, shutdown| async move {
        demo::serve(listener, state, shutdown).await.unwrap();
    })
    .await;

    // Two streams; sends of every target kind, each read by its one recipient.
    let mut bob = client::open(
        reqwest::Client::new()
            .get(server.stream_url("channels=notifications,toasts&token=bob-token")),
    )
    .await;
    bob.expect_event("connected").await;
    let mut alice = client::open(
        reqwest::Client::new().get(server.stream_url("channels=alerts&token=alice-token")),
    )
    .await;
    alice.expect_event("connected").await;
    let alert = |target: Value| {
        let mut body = json!({"channel": "alerts", "event": "alert", "data": {"message": "m"}});
        body.as_object_mut()
            .unwrap()
            .extend(target.as_object().unwrap().clone());
        body
    };
    publish(&server, alert(json!({}))).await;
    publish(&server, alert(json!({"target": "authenticated"}))).await;
    publish(
        &server,
        alert(json!({"target": "role-based", "targetRoles": ["editor"]})),
    )
    .await;
    publish(
        &server,
        alert(json!({"target": "permission-based", "targetPermissions": ["dashboard.view"]})),
    )
    .await;
    publish(
        &server,
        json!({"channel": "toasts", "event": "toast", "data": {"message": "t"},
               "target": "user-specific", "targetUsers": [3]}),
    )
    .await;
    for _ in 0..4 {
        alice.expect_event("alert").await;
    }
    bob.expect_event("toast").await;

    // A client that reads nothing, with room for one frame: the second message closes it.
    let slow = hub
        .connect(
            ConnectOptions::new(Identity::user(UserId::from(9)))
                .channels([Channel::CUSTOM])
                .queue_capacity(1),
        )
        .await
        .unwrap();
    for n in 0..2 {
        hub.send(Message::new(Channel::CUSTOM, EventType::Data, json!(n)))
            .await
            .unwrap();
    }
    drop(slow);

    // A kick, and two refused streams.
    let kicked = reqwest::Client::new()
        .delete(server.url("/api/sse/users/3/connections"))
        .bearer_auth("admin-token")
        .send()
        .await
        .unwrap();
    assert_eq!(kicked.status(), StatusCode::OK);
    bob.expect_end().await;
    for query in ["channels=alerts&token=nope", "channels=nowhere"] {
        let refused = reqwest::get(server.stream_url(query)).await.unwrap();
        assert!(refused.status().is_client_error());
    }
    // A stream cap: the demo allows 20 streams per user (Alice has one open); the 21st is a
    // 429 of its own kind.
    let mut tabs = Vec::new();
    for _ in 0..19 {
        let mut tab = client::open(
            reqwest::Client::new().get(server.stream_url("channels=alerts&token=alice-token")),
        )
        .await;
        tab.expect_event("connected").await;
        tabs.push(tab);
    }
    let capped = reqwest::get(server.stream_url("channels=alerts&token=alice-token"))
        .await
        .unwrap();
    assert_eq!(capped.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        capped.json::<Value>().await.unwrap()["error"],
        "too_many_requests"
    );

    // A Redis outage: a send fails (publish), the tail reports it once (tail).
    let _ = redis.0.kill();
    let _ = redis.0.wait();
    let failed = hub
        .send(Message::new(
            Channel::CUSTOM,
            EventType::Data,
            json!("lost"),
        ))
        .await;
    assert!(failed.is_err());
    tokio::time::timeout(Duration::from_secs(10), async {
        while hub.stats().backplane_errors_by_op.tail == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the tail reports the outage");

    // The kicked stream's body is dropped once the server has written its end.
    let kicked_key = "sse_streams_closed_total{endpoint=\"stream\",reason=\"kicked\"}";
    let metrics = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let metrics = scrape(&server).await;
            if metrics.contains_key(kicked_key) {
                return metrics;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the kicked stream is counted");

    let expected: BTreeMap<&str, f64> = [
        ("sse_messages_sent_total", 7.0),
        ("sse_frames_delivered_total", 5.0),
        ("sse_frames_dropped_total{reason=\"shed\"}", 0.0),
        ("sse_frames_dropped_total{reason=\"expired\"}", 0.0),
        ("sse_frames_dropped_total{reason=\"coalesced\"}", 0.0),
        ("sse_frames_dropped_total{reason=\"slow\"}", 2.0),
        ("sse_frames_dropped_total{reason=\"cleared\"}", 0.0),
        ("sse_replayed_frames_total", 0.0),
        ("sse_history_gaps_total", 0.0),
        ("sse_backplane_errors_total{op=\"publish\"}", 1.0),
        ("sse_backplane_errors_total{op=\"replay\"}", 0.0),
        ("sse_backplane_errors_total{op=\"tail\"}", 1.0),
        ("sse_backplane_errors_total{op=\"control\"}", 0.0),
        ("sse_streams_opened_total{endpoint=\"stream\"}", 21.0),
        (kicked_key, 1.0),
        (
            "sse_streams_rejected_total{code=\"invalid_token\",endpoint=\"stream\",status=\"401\"}",
            1.0,
        ),
        (
            "sse_streams_rejected_total{code=\"not_found\",endpoint=\"stream\",status=\"404\"}",
            1.0,
        ),
        (
            "sse_streams_rejected_total{code=\"max_streams_per_user\",endpoint=\"stream\",status=\"429\"}",
            1.0,
        ),
        ("sse_streams_open", 20.0),
        ("sse_recipients_per_message_count", 7.0),
        ("sse_recipients_per_message_sum", 6.0),
        ("sse_publish_duration_seconds_count", 7.0),
        (
            "sse_stream_duration_seconds_count{endpoint=\"stream\"}",
            1.0,
        ),
    ]
    .into_iter()
    .collect();
    let counted: BTreeMap<&str, f64> = metrics
        .iter()
        .filter(|(key, _)| {
            let name = key.split('{').next().unwrap();
            name.ends_with("_total")
                || name == "sse_streams_open"
                || name.ends_with("_count") && !key.contains("quantile")
                || name == "sse_recipients_per_message_sum"
        })
        .map(|(key, value)| (key.as_str(), *value))
        .collect();
    assert_eq!(counted, expected);
    // Gauges of sizes are there too.
    for gauge in [
        "sse_queued_bytes",
        "sse_history_bytes",
        "sse_history_entries",
        "sse_persistent_bytes",
        "sse_ledger_bytes",
        "sse_backplane_lag_entries",
        "sse_backplane_lag_seconds",
    ] {
        assert!(metrics.contains_key(gauge), "{gauge} missing");
    }

    // Every metric the Grafana dashboard queries is one the demo exports.
    let dashboard: Value =
        serde_json::from_str(include_str!("../observability/grafana-dashboard.json")).unwrap();
    let exported: std::collections::BTreeSet<&str> = metrics
        .keys()
        .map(|key| key.split('{').next().unwrap())
        .collect();
    let mut queried = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for name in expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|word| word.starts_with("sse_"))
            {
                queried += 1;
                assert!(
                    exported.contains(name),
                    "the dashboard queries {name}, not exported"
                );
            }
        }
    }
    assert!(queried >= 20, "{queried}");
    drop((alice, tabs));
    server.shutdown().await;
}
