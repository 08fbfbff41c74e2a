//! nginx with nchan, started by the benchmark's own code, at a tiny scale: the generated
//! configuration is valid, every message reaches every stream once and in order, the runs
//! count nchan's deliveries exactly, and no nginx process outlives its handle.
//!
//! These tests need nginx and its nchan module (the Debian packages `nginx-light` and
//! `libnginx-mod-nchan`, which `scripts/test` installs when run as root). Under CI (the `CI`
//! variable set) a missing nginx or module fails them; elsewhere they are skipped with a
//! printed reason.

use std::{io::Write as _, time::Duration};

use sse_bench::{
    Fleet, FleetConfig, NchanConfig, NchanProcess, Nginx, PACKAGES, PublishPlan, Readiness,
    RunSpec, Scenario, ServerHandle, ServerKind, publish, run,
};

/// nginx with nchan, or `None` (with the reason printed) when it is missing outside CI.
///
/// # Panics
///
/// Under CI, when nginx or the module is missing.
fn nginx(test: &str) -> Option<Nginx> {
    match Nginx::find() {
        Ok(nginx) => Some(nginx),
        Err(reason) if std::env::var_os("CI").is_some() => panic!(
            "{test}: nchan is required under CI, but {reason}: install the Debian packages {} \
             (scripts/test does as root)",
            PACKAGES.join(" ")
        ),
        Err(reason) => {
            // Past the test harness's capture, so that the skip shows in a passing run.
            let _ = writeln!(std::io::stderr(), "{test}: skipped: nchan: {reason}");
            None
        }
    }
}

/// Whether process `pid` runs nginx (not ended, not a zombie, not another program).
fn runs_nginx(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with(b"nginx"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stream_gets_every_message_once_and_in_order() {
    let Some(nginx) = nginx("every_stream_gets_every_message_once_and_in_order") else {
        return;
    };
    let server = NchanProcess::start(&nginx, None)
        .await
        .expect("nginx with nchan starts");

    // The configuration nginx runs is the generated one, and nginx accepts it.
    let conf = std::fs::read_to_string(server.dir().join("nginx.conf")).expect("nginx.conf");
    let expected = NchanConfig::new(server.dir(), &nginx.module, server.addr().port()).render();
    assert_eq!(conf, expected);
    nginx
        .test_config(server.dir())
        .await
        .expect("nginx -t accepts the configuration");
    let pids = server.pids();
    assert_eq!(pids.len(), 2, "one master and one worker: {pids:?}");
    assert!(pids.iter().all(|&pid| runs_nginx(pid)));

    let mut config = FleetConfig::new(server.addr(), 8);
    config.readiness = ServerKind::Nchan.readiness();
    assert_eq!(config.readiness, Readiness::Comment);
    let fleet = Fleet::start(config);
    assert!(
        fleet.wait_ready(Duration::from_secs(10)).await,
        "8 streams ready"
    );
    assert_eq!((fleet.ready(), fleet.failed()), (8, 0));
    assert_eq!(
        server.stats().await.expect("status").connections,
        8,
        "nchan counts every stream as a subscriber once it is ready"
    );

    // One publisher, one request at a time: nchan's order is the publishing order.
    let published = publish(
        server.addr(),
        &PublishPlan::new(6, None),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(published.failed(), 0, "{:?}", published.errors);
    let statuses: Vec<u16> = published
        .messages
        .iter()
        .flatten()
        .map(|p| p.status)
        .collect();
    assert_eq!(statuses, [201; 6], "created, with subscribers");
    assert!(
        fleet
            .wait_delivered(48, Duration::from_secs(5), Duration::from_secs(10))
            .await,
        "{} of 48 deliveries",
        fleet.delivered()
    );

    let sample = server.sample().expect("master and worker can be read");
    assert!(sample.pss_bytes > 0 && sample.pss_bytes <= sample.rss_bytes);

    let reports = fleet.stop(Duration::from_secs(5)).await;
    assert_eq!(reports.len(), 8);
    for report in &reports {
        assert!(report.ready, "stream {}: {:?}", report.index, report.error);
        assert_eq!(report.error, None, "stream {}", report.index);
        assert!(!report.ended_by_server, "stream {}", report.index);
        let seqs: Vec<u32> = report.deliveries.iter().map(|d| d.seq).collect();
        assert_eq!(seqs, [0, 1, 2, 3, 4, 5], "stream {}", report.index);
        for delivery in &report.deliveries {
            let sent = published.messages[delivery.seq as usize].expect("published");
            assert_eq!(delivery.sent_at, sent.sent_at, "the payload's own stamp");
            assert!(delivery.received_at >= delivery.sent_at);
        }
    }

    server.stop().await;
    assert!(
        pids.iter().all(|&pid| !runs_nginx(pid)),
        "no nginx process left after stop: {pids:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runs_count_nchan_deliveries_and_memory_exactly() {
    let Some(_nginx) = nginx("the_runs_count_nchan_deliveries_and_memory_exactly") else {
        return;
    };
    let mut server = ServerHandle::process(ServerKind::Nchan, None)
        .await
        .expect("nginx with nchan starts");

    let mut broadcast = RunSpec::idle(Scenario::Broadcast, ServerKind::Nchan, 20);
    broadcast.messages = 5;
    broadcast.rate = Some(250.0);
    let result = run(&broadcast, &mut server).await;
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    assert_eq!((result.connected, result.connect_failed), (20, 0));
    assert_eq!((result.published, result.publish_failed), (5, 0));
    assert_eq!((result.expected, result.delivered), (100, 100));
    assert_eq!((result.lost, result.duplicates), (0, 0));
    assert_eq!(result.closed_by_server, 0);
    assert_eq!(result.latency_us.expect("latencies").count, 100);
    assert_eq!(result.fan_out_us.expect("fan-out times").count, 5);
    assert!(
        result.server_cpu.is_some(),
        "CPU summed over nginx's processes"
    );
    let memory = result.memory.expect("memory of nginx's processes");
    assert!(memory.pss_before > 0 && memory.pss_before <= memory.rss_before);
    assert_eq!(memory.heap_before, None, "nginx has no counting allocator");
    assert_eq!(memory.reopened, None, "only idle runs reopen");
    assert_eq!(result.server_stats.expect("status").connections, 20);

    // Churn: the same process again, its streams closed, opened, closed and opened again.
    let mut idle = RunSpec::idle(Scenario::Idle, ServerKind::Nchan, 20);
    idle.reopen = true;
    let result = run(&idle, &mut server).await;
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    assert_eq!(result.connected, 20);
    let reopened = result
        .memory
        .and_then(|m| m.reopened)
        .expect("the reopened streams are measured");
    assert_eq!(reopened.connected, 20);
    assert!(reopened.pss > 0 && reopened.pss <= reopened.rss);
    assert_eq!(
        server.stats().await.expect("status").connections,
        0,
        "every stream closed after the run"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_nchan_leaves_no_nginx_process() {
    let Some(nginx) = nginx("a_dropped_nchan_leaves_no_nginx_process") else {
        return;
    };
    let server = NchanProcess::start(&nginx, None)
        .await
        .expect("nginx with nchan starts");
    let pids = server.pids();
    let dir = server.dir().to_owned();
    assert_eq!(pids.len(), 2, "one master and one worker: {pids:?}");
    drop(server);
    assert!(
        pids.iter().all(|&pid| !runs_nginx(pid)),
        "no nginx process left after drop: {pids:?}"
    );
    assert!(!dir.exists(), "the private directory is removed");
}
