//! The generator against both servers in this process, at a tiny scale: every code path of a
//! run, with exact counts.

use sse_bench::{RunResult, RunSpec, Scenario, ServerHandle, ServerKind, run};

async fn run_in_process(spec: &RunSpec) -> RunResult {
    let mut server = ServerHandle::in_process(spec.server)
        .await
        .expect("the server starts");
    let result = run(spec, &mut server).await;
    let stats = server.stats().await.expect("in-process stats");
    assert_eq!(
        stats.connections, 0,
        "{:?}: every stream closed",
        spec.server
    );
    server.stop().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_reaches_every_stream_once_on_both_servers() {
    for server in ServerKind::BOTH {
        let mut spec = RunSpec::idle(Scenario::Broadcast, server, 20);
        spec.messages = 5;
        spec.rate = Some(250.0);
        let result = run_in_process(&spec).await;
        assert!(result.errors.is_empty(), "{server:?}: {:?}", result.errors);
        assert_eq!((result.connected, result.connect_failed), (20, 0));
        assert_eq!((result.published, result.publish_failed), (5, 0));
        assert_eq!((result.expected, result.delivered), (100, 100));
        assert_eq!((result.lost, result.duplicates), (0, 0));
        assert_eq!(result.closed_by_server, 0);
        assert_eq!(result.latency_us.expect("latencies").count, 100);
        assert_eq!(result.fan_out_us.expect("fan-out times").count, 5);
        assert_eq!(result.round_trip_us.expect("round trips").count, 5);
        assert!(result.deliveries_per_second.is_some());
        assert!(result.memory.is_none(), "no memory figures in process");
        assert!(result.slow.is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_targeted_message_reaches_its_user_and_nobody_else() {
    let mut spec = RunSpec::idle(Scenario::Targeted, ServerKind::Ours, 20);
    spec.messages = 10;
    spec.rate = Some(250.0);
    spec.targeted = true;
    let result = run_in_process(&spec).await;
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    assert_eq!((result.expected, result.delivered), (10, 10));
    assert_eq!((result.lost, result.duplicates), (0, 0));
    assert_eq!(result.fan_out_us.expect("latencies").count, 10);
    let stats = result.server_stats.expect("hub stats");
    assert_eq!(
        stats.delivered,
        Some(10),
        "the hub wrote exactly one frame per message"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_readers_are_counted_apart_and_drained() {
    for server in ServerKind::BOTH {
        let mut spec = RunSpec::idle(Scenario::SlowReaders, server, 10);
        spec.messages = 4;
        spec.rate = Some(250.0);
        spec.slow_every = Some(5);
        let result = run_in_process(&spec).await;
        assert!(result.errors.is_empty(), "{server:?}: {:?}", result.errors);
        assert_eq!(
            (result.expected, result.delivered, result.lost),
            (32, 32, 0)
        );
        let slow = result.slow.expect("slow readers");
        // Four messages fit in any buffer: the slow readers get them once they read again.
        assert_eq!(slow.connections, 2);
        assert_eq!((slow.expected, slow.delivered, slow.lost), (8, 8, 0));
        assert_eq!(slow.closed_by_server, 0);
    }
}

/// Needs a Redis at `REDIS_URL` (default `redis://127.0.0.1:6379`): fails when there is none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_targeted_message_crosses_redis_from_one_instance_to_another() {
    use sse_bench::{Backplane, ServeOptions, delete_redis_key, run_via};

    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let key = format!(
        "sse-bench-test:{}:{}",
        std::process::id(),
        sse_bench::now_nanos()
    );
    let options = ServeOptions {
        redis: Some(url.clone()),
        redis_key: Some(key.clone()),
    };
    let publisher = ServerHandle::in_process_with(ServerKind::Ours, &options)
        .await
        .unwrap_or_else(|err| panic!("instance A on the Redis at {url}: {err}"));
    let mut streams = ServerHandle::in_process_with(ServerKind::Ours, &options)
        .await
        .unwrap_or_else(|err| panic!("instance B on the Redis at {url}: {err}"));
    let mut spec = RunSpec::idle(Scenario::Redis, ServerKind::Ours, 10);
    spec.messages = 10;
    spec.rate = Some(250.0);
    spec.targeted = true;
    spec.backplane = Backplane::Redis;
    spec.instances = 2;
    let result = run_via(&spec, &mut streams, publisher.addr()).await;
    publisher.stop().await;
    streams.stop().await;
    delete_redis_key(&url, &key)
        .await
        .expect("the test's stream key is deleted");
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    assert_eq!((result.published, result.publish_failed), (10, 0));
    assert_eq!((result.expected, result.delivered), (10, 10));
    assert_eq!((result.lost, result.duplicates), (0, 0));
    assert_eq!(result.latency_us.expect("latencies").count, 10);
}
