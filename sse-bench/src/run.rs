//! One measurement: open the streams, measure the server, publish, collect, close, measure
//! again; for the idle scenario, open them all once more and measure.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use serde::Serialize;

use crate::{
    ConnectionReport, Fleet, FleetConfig, Percentiles, ProcessSample, PublishPlan, Scenario,
    ServerHandle, ServerKind, ServerStats, clock_ticks_per_second, publish,
};

/// Time for memory to settle after the streams opened or closed.
const SETTLE: Duration = Duration::from_millis(500);
/// A wait for deliveries ends after this long without one.
const IDLE: Duration = Duration::from_secs(3);

/// What one run does.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSpec {
    /// The scenario the run belongs to.
    pub scenario: Scenario,
    /// The server measured.
    pub server: ServerKind,
    /// Streams opened.
    pub connections: usize,
    /// Messages published (none for an idle run).
    pub messages: u32,
    /// Messages per second; `None` as fast as the publishers go.
    pub rate: Option<f64>,
    /// Publishing connections.
    pub publishers: usize,
    /// Whether each message goes to one user (stream `i` is user `i`).
    pub targeted: bool,
    /// Every `k`-th stream stops reading after its first event.
    pub slow_every: Option<usize>,
    /// The slow streams' receive buffer (`SO_RCVBUF`), when set.
    pub slow_recv_buffer: Option<u32>,
    /// Filler bytes per payload.
    pub pad: usize,
    /// Ours: where the hub's fan-out goes.
    pub backplane: Backplane,
    /// Server instances: with two, messages are published on one and the streams read from
    /// the other.
    pub instances: usize,
    /// After every stream has closed, open as many again and measure (the churn measurement).
    pub reopen: bool,
    /// Which repeat of this run it is, from 1 (`--repeat`).
    pub round: usize,
}

/// Our hub's backplane in a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backplane {
    /// The in-memory hub of one process.
    #[default]
    Memory,
    /// Redis Streams (`sse_redis`), shared by every instance.
    Redis,
}

impl Backplane {
    /// `memory` or `redis`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Redis => "redis",
        }
    }
}

impl RunSpec {
    /// An idle run of `connections` streams on `server`: set the other fields for a workload.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_bench::{RunSpec, Scenario, ServerKind};
    ///
    /// let mut spec = RunSpec::idle(Scenario::Targeted, ServerKind::Ours, 1000);
    /// spec.messages = 200;
    /// spec.rate = Some(100.0);
    /// spec.targeted = true;
    /// assert_eq!(spec.plan().users, Some(1000));
    /// ```
    pub fn idle(scenario: Scenario, server: ServerKind, connections: usize) -> Self {
        Self {
            scenario,
            server,
            connections,
            messages: 0,
            rate: None,
            publishers: 1,
            targeted: false,
            slow_every: None,
            slow_recv_buffer: None,
            pad: 0,
            backplane: Backplane::Memory,
            instances: 1,
            reopen: false,
            round: 1,
        }
    }

    /// Whether `other` is this run in another round: the same spec but for
    /// [`round`](Self::round).
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_bench::{RunSpec, Scenario, ServerKind};
    ///
    /// let first = RunSpec::idle(Scenario::Idle, ServerKind::Ours, 1000);
    /// let second = RunSpec { round: 2, ..first.clone() };
    /// assert!(first.same_run(&second));
    /// assert!(!first.same_run(&RunSpec::idle(Scenario::Idle, ServerKind::Nchan, 1000)));
    /// ```
    pub fn same_run(&self, other: &Self) -> bool {
        *self
            == Self {
                round: self.round,
                ..other.clone()
            }
    }

    /// The publish plan of this run.
    pub fn plan(&self) -> PublishPlan {
        let mut plan = PublishPlan::new(self.messages, self.rate);
        plan.publishers = self.publishers;
        plan.users = self.targeted.then_some(self.connections);
        plan.pad = self.pad;
        plan
    }

    /// The most a run may take before it is cut short.
    pub fn time_limit(&self) -> Duration {
        let publishing = match self.rate {
            Some(rate) if rate > 0.0 => f64::from(self.messages) / rate,
            _ => 30.0,
        };
        let opening = self.connections as f64 / 500.0 * if self.reopen { 2.0 } else { 1.0 };
        Duration::from_secs_f64(90.0 + publishing * 1.5 + opening)
    }
}

/// The server's memory around a run, in bytes: for nchan, summed over nginx's master and
/// worker (see [`ProcessSample`] on RSS and PSS).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    /// Resident memory before the streams opened.
    pub rss_before: u64,
    /// Resident memory with every stream open and idle.
    pub rss_connected: u64,
    /// Resident memory after the messages were delivered.
    pub rss_after_workload: u64,
    /// Resident memory after every stream closed.
    pub rss_after_churn: u64,
    /// The peak of resident memory during the run (`VmHWM`).
    pub hwm: u64,
    /// `(rss_connected - rss_before) / connections`.
    pub rss_per_connection: f64,
    /// Proportional memory (PSS) before the streams opened.
    pub pss_before: u64,
    /// PSS with every stream open and idle.
    pub pss_connected: u64,
    /// PSS after every stream closed.
    pub pss_after_churn: u64,
    /// `(pss_connected - pss_before) / connections`.
    pub pss_per_connection: f64,
    /// Heap in use before the streams opened (counting allocator).
    pub heap_before: Option<u64>,
    /// Heap in use with every stream open.
    pub heap_connected: Option<u64>,
    /// `(heap_connected - heap_before) / connections`.
    pub heap_per_connection: Option<f64>,
    /// Heap in use after every stream closed.
    pub heap_after_churn: Option<u64>,
    /// With [`RunSpec::reopen`]: the same number of streams opened again after every stream
    /// had closed.
    pub reopened: Option<Reopened>,
}

/// The server's memory once the streams were closed and as many opened again, measured
/// against the memory before the first opening: what churn leaves behind.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reopened {
    /// Streams that became ready the second time.
    pub connected: usize,
    /// Resident memory with the second set of streams open.
    pub rss: u64,
    /// PSS with the second set of streams open.
    pub pss: u64,
    /// Heap in use with the second set of streams open.
    pub heap: Option<u64>,
    /// `(rss - rss_before) / connections`, against the memory before the first opening.
    pub rss_per_connection: f64,
    /// `(pss - pss_before) / connections`.
    pub pss_per_connection: f64,
    /// `(heap - heap_before) / connections`.
    pub heap_per_connection: Option<f64>,
}

impl Memory {
    /// The reopened streams' RSS per connection over the fresh figure
    /// ([`rss_per_connection`](Self::rss_per_connection)): 1.0 when churn left nothing behind.
    pub fn churn_ratio(&self) -> Option<f64> {
        let reopened = self.reopened?;
        (self.rss_per_connection > 0.0)
            .then(|| reopened.rss_per_connection / self.rss_per_connection)
    }

    /// As [`churn_ratio`](Self::churn_ratio), with PSS.
    pub fn churn_ratio_pss(&self) -> Option<f64> {
        let reopened = self.reopened?;
        (self.pss_per_connection > 0.0)
            .then(|| reopened.pss_per_connection / self.pss_per_connection)
    }
}

/// How the slow readers fared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlowOutcome {
    /// Slow streams that opened.
    pub connections: usize,
    /// Messages they should have received.
    pub expected: u64,
    /// Distinct messages they received.
    pub delivered: u64,
    /// `expected - delivered`.
    pub lost: u64,
    /// Slow streams the server ended.
    pub closed_by_server: usize,
}

/// The outcome of one run: one JSON line.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunResult {
    /// What was run.
    #[serde(flatten)]
    pub spec: RunSpec,
    /// Streams that became ready.
    pub connected: usize,
    /// Streams that failed to open.
    pub connect_failed: usize,
    /// From the first connect to the last stream ready, in seconds.
    pub connect_seconds: f64,
    /// The server's memory; `None` for a server in this process.
    pub memory: Option<Memory>,
    /// Messages the server accepted.
    pub published: usize,
    /// Messages the server did not accept or did not answer.
    pub publish_failed: usize,
    /// Deliveries the streams that kept reading should have received.
    pub expected: u64,
    /// Distinct deliveries they received.
    pub delivered: u64,
    /// `expected - delivered`.
    pub lost: u64,
    /// Deliveries received more than once.
    pub duplicates: u64,
    /// Streams that kept reading but were ended by the server.
    pub closed_by_server: usize,
    /// Publish-to-receive latency of every delivery to a reading stream, in microseconds.
    pub latency_us: Option<Percentiles>,
    /// Per message, from publish to its last reading receiver, in microseconds.
    pub fan_out_us: Option<Percentiles>,
    /// `POST /publish` round trips, in microseconds.
    pub round_trip_us: Option<Percentiles>,
    /// Deliveries to reading streams per second, from the first publish to the last delivery.
    pub deliveries_per_second: Option<f64>,
    /// From the first publish to the end of the deliveries, in seconds.
    pub workload_seconds: f64,
    /// The server's CPU use during the workload, in cores.
    pub server_cpu: Option<f64>,
    /// The part of the server's CPU use spent in the kernel (writes, and on loopback the
    /// receiving side's TCP work that the sender's write runs), between 0 and 1.
    pub server_kernel_share: Option<f64>,
    /// The generator's CPU use during the workload, in cores.
    pub generator_cpu: Option<f64>,
    /// The slow readers, when there were any.
    pub slow: Option<SlowOutcome>,
    /// The server's statistics after the workload.
    pub server_stats: Option<ServerStats>,
    /// The whole run, in seconds.
    pub seconds: f64,
    /// What went wrong, if anything (the first few errors).
    pub errors: Vec<String>,
}

/// Runs `spec` against `server`, within the spec's time limit.
///
/// A run cut short by its limit is returned with what it had and an error saying so.
pub async fn run(spec: &RunSpec, server: &mut ServerHandle) -> RunResult {
    let publish_to = server.addr();
    run_via(spec, server, publish_to).await
}

/// As [`run`], with the messages published to `publish_to` (another instance on the same
/// backplane) while the streams read from `server`, which is the one measured.
pub async fn run_via(
    spec: &RunSpec,
    server: &mut ServerHandle,
    publish_to: SocketAddr,
) -> RunResult {
    let limit = spec.time_limit();
    match tokio::time::timeout(limit, measure(spec, server, publish_to)).await {
        Ok(result) => result,
        Err(_) => {
            let mut result = RunResult::skipped(spec.clone());
            result
                .errors
                .push(format!("run cut short after {} s", limit.as_secs()));
            result
        }
    }
}

async fn measure(spec: &RunSpec, server: &mut ServerHandle, publish_to: SocketAddr) -> RunResult {
    let started = Instant::now();
    let mut result = RunResult::skipped(spec.clone());

    let before = server.sample();
    let stats_before = server.stats().await;

    let mut config = FleetConfig::new(server.addr(), spec.connections);
    config.readiness = spec.server.readiness();
    config.with_users = spec.targeted;
    config.slow_every = spec.slow_every;
    config.slow_recv_buffer = spec.slow_recv_buffer;
    let connect_started = Instant::now();
    let fleet = Fleet::start(config.clone());
    let all_ready = fleet.wait_ready(ready_limit(spec)).await;
    result.connect_seconds = round3(connect_started.elapsed().as_secs_f64());
    result.connected = fleet.ready();
    result.connect_failed = fleet.failed();
    if !all_ready {
        result.errors.push(format!(
            "{} of {} streams ready",
            fleet.ready(),
            spec.connections
        ));
    }
    settle(server).await;
    let connected = server.sample();
    let stats_connected = server.stats().await;

    let plan = spec.plan();
    let mut report = None;
    let workload_started = Instant::now();
    let generator_before = ProcessSample::read(std::process::id()).ok();
    let server_before = server.sample();
    if spec.messages > 0 {
        let publish_limit = spec.time_limit() / 2;
        let published = publish(publish_to, &plan, publish_limit).await;
        let expected_fast = expected_deliveries(spec, &config, &published, false);
        if !fleet
            .wait_delivered(expected_fast, IDLE, Duration::from_secs(60))
            .await
        {
            result.errors.push(format!(
                "{} of {expected_fast} deliveries before the wait ended",
                fleet.delivered()
            ));
        }
        if spec.slow_every.is_some() {
            fleet.drain();
            fleet.wait_drained(Duration::from_secs(60)).await;
        }
        result.errors.extend(published.errors.iter().cloned());
        report = Some(published);
    }
    let workload_seconds = workload_started.elapsed().as_secs_f64();
    let after_workload = server.sample();
    let generator_after = ProcessSample::read(std::process::id()).ok();
    result.server_stats = server.stats().await;

    let reports = fleet.stop(Duration::from_secs(20)).await;
    wait_closed(server).await;
    settle(server).await;
    let after_churn = server.sample();
    let stats_after_churn = server.stats().await;
    let reopening = if spec.reopen {
        Some(reopen(spec, server, &config, &mut result.errors).await)
    } else {
        None
    };

    let cpu = |a: Option<ProcessSample>, b: Option<ProcessSample>| {
        let (a, b) = (a?, b?);
        let ticks = b.cpu_ticks.saturating_sub(a.cpu_ticks) as f64;
        (spec.messages > 0 && workload_seconds > 0.0)
            .then(|| round3(ticks / clock_ticks_per_second() as f64 / workload_seconds))
    };
    result.server_cpu = cpu(server_before, after_workload);
    result.server_kernel_share = server_before.zip(after_workload).and_then(|(a, b)| {
        let all = b.cpu_ticks.saturating_sub(a.cpu_ticks);
        let system = b.system_ticks.saturating_sub(a.system_ticks);
        (spec.messages > 0 && all > 0).then(|| round3(system as f64 / all as f64))
    });
    result.generator_cpu = cpu(generator_before, generator_after);
    result.workload_seconds = round3(workload_seconds);

    if let (Some(before), Some(connected), Some(after_workload), Some(after_churn)) =
        (before, connected, after_workload, after_churn)
    {
        let heap = |stats: Option<ServerStats>| stats.and_then(|s| s.heap_bytes);
        let per = |a: u64, b: u64| round1((b as f64 - a as f64) / spec.connections.max(1) as f64);
        let reopened = reopening.and_then(|(sample, stats, connected)| {
            let sample = sample?;
            Some(Reopened {
                connected,
                rss: sample.rss_bytes,
                pss: sample.pss_bytes,
                heap: heap(stats),
                rss_per_connection: per(before.rss_bytes, sample.rss_bytes),
                pss_per_connection: per(before.pss_bytes, sample.pss_bytes),
                heap_per_connection: heap(stats_before).zip(heap(stats)).map(|(a, b)| per(a, b)),
            })
        });
        result.memory = Some(Memory {
            rss_before: before.rss_bytes,
            rss_connected: connected.rss_bytes,
            rss_after_workload: after_workload.rss_bytes,
            rss_after_churn: after_churn.rss_bytes,
            hwm: after_churn.hwm_bytes,
            rss_per_connection: per(before.rss_bytes, connected.rss_bytes),
            pss_before: before.pss_bytes,
            pss_connected: connected.pss_bytes,
            pss_after_churn: after_churn.pss_bytes,
            pss_per_connection: per(before.pss_bytes, connected.pss_bytes),
            heap_before: heap(stats_before),
            heap_connected: heap(stats_connected),
            heap_per_connection: heap(stats_before)
                .zip(heap(stats_connected))
                .map(|(a, b)| per(a, b)),
            heap_after_churn: heap(stats_after_churn),
            reopened,
        });
    }

    if let Some(published) = &report {
        tally(&mut result, spec, &config, published, &reports);
    }
    let mut errors: Vec<String> = reports
        .iter()
        .filter(|r| !r.ready)
        .filter_map(|r| r.error.clone())
        .collect();
    errors.sort();
    errors.dedup();
    result.errors.extend(errors.into_iter().take(3));
    result.seconds = round3(started.elapsed().as_secs_f64());
    result
}

/// The longest the streams of `spec` may take to become ready.
fn ready_limit(spec: &RunSpec) -> Duration {
    Duration::from_secs(30) + Duration::from_millis(spec.connections as u64 * 4)
}

/// Waits until the server counts no open stream, at most 20 seconds.
async fn wait_closed(server: &mut ServerHandle) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        match server.stats().await {
            Some(stats) if stats.connections > 0 => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            _ => break,
        }
    }
}

/// Opens the streams of `config` again, measures the server once they are ready, and closes
/// them: the sample, the server's statistics, and how many became ready.
async fn reopen(
    spec: &RunSpec,
    server: &mut ServerHandle,
    config: &FleetConfig,
    errors: &mut Vec<String>,
) -> (Option<ProcessSample>, Option<ServerStats>, usize) {
    let fleet = Fleet::start(config.clone());
    if !fleet.wait_ready(ready_limit(spec)).await {
        errors.push(format!(
            "reopening: {} of {} streams ready",
            fleet.ready(),
            spec.connections
        ));
    }
    settle(server).await;
    let sample = server.sample();
    let stats = server.stats().await;
    let ready = fleet.ready();
    let reports = fleet.stop(Duration::from_secs(20)).await;
    wait_closed(server).await;
    let mut failures: Vec<String> = reports
        .into_iter()
        .filter(|r| !r.ready)
        .filter_map(|r| r.error)
        .collect();
    failures.sort();
    failures.dedup();
    errors.extend(
        failures
            .into_iter()
            .take(3)
            .map(|e| format!("reopening: {e}")),
    );
    (sample, stats, ready)
}

/// Gives the server's memory time to settle before it is measured (not in process, where it
/// is not measured).
async fn settle(server: &ServerHandle) {
    if server.pid().is_some() {
        tokio::time::sleep(SETTLE).await;
    }
}

/// Deliveries the reading (`slow == false`) or slow streams should receive.
fn expected_deliveries(
    spec: &RunSpec,
    config: &FleetConfig,
    published: &crate::PublishReport,
    slow: bool,
) -> u64 {
    let plan = spec.plan();
    (0..spec.messages)
        .filter(|&seq| published.accepted(seq))
        .map(|seq| match plan.target_of(seq) {
            Some(user) => u64::from(user < spec.connections && config.is_slow(user) == slow),
            None => (0..spec.connections)
                .filter(|&i| config.is_slow(i) == slow)
                .count() as u64,
        })
        .sum()
}

/// Counts deliveries, losses and duplicates and computes the latency figures.
fn tally(
    result: &mut RunResult,
    spec: &RunSpec,
    config: &FleetConfig,
    published: &crate::PublishReport,
    reports: &[ConnectionReport],
) {
    let plan = spec.plan();
    let messages = spec.messages as usize;
    let targets: Vec<Option<usize>> = (0..spec.messages).map(|s| plan.target_of(s)).collect();
    let accepted: Vec<bool> = (0..spec.messages).map(|s| published.accepted(s)).collect();
    result.published = accepted.iter().filter(|a| **a).count();
    result.publish_failed = messages - result.published;

    let mut latencies = Vec::new();
    let mut last_receipt: Vec<Option<u64>> = vec![None; messages];
    let mut first_sent = u64::MAX;
    let mut last_received = 0;
    let mut slow = SlowOutcome::default();
    for report in reports {
        let mut seen = vec![false; messages];
        let mut duplicates = 0;
        for delivery in &report.deliveries {
            let seq = delivery.seq as usize;
            if seq >= messages {
                continue;
            }
            if std::mem::replace(&mut seen[seq], true) {
                duplicates += 1;
                continue;
            }
            if !report.slow {
                let latency = delivery.received_at.saturating_sub(delivery.sent_at);
                latencies.push(latency);
                let last = last_receipt[seq].get_or_insert(latency);
                *last = (*last).max(latency);
                first_sent = first_sent.min(delivery.sent_at);
                last_received = last_received.max(delivery.received_at);
            }
        }
        let (expected, delivered) = (0..messages)
            .filter(|&seq| accepted[seq] && targets[seq].is_none_or(|user| user == report.index))
            .fold((0, 0), |(e, d), seq| (e + 1, d + u64::from(seen[seq])));
        if report.slow {
            slow.connections += usize::from(report.ready);
            slow.expected += expected;
            slow.delivered += delivered;
            slow.closed_by_server += usize::from(report.ended_by_server);
        } else {
            result.expected += expected;
            result.delivered += delivered;
            result.closed_by_server += usize::from(report.ended_by_server);
        }
        result.duplicates += duplicates;
    }
    result.lost = result.expected - result.delivered;
    if config.slow_every.is_some() {
        slow.lost = slow.expected - slow.delivered;
        result.slow = Some(slow);
    }
    let deliveries = latencies.len();
    result.latency_us = Percentiles::of(&mut latencies);
    let mut fan_out: Vec<u64> = last_receipt.into_iter().flatten().collect();
    result.fan_out_us = Percentiles::of(&mut fan_out);
    let mut round_trips: Vec<u64> = published
        .messages
        .iter()
        .flatten()
        .map(|p| p.round_trip)
        .collect();
    result.round_trip_us = Percentiles::of(&mut round_trips);
    if deliveries > 0 && last_received > first_sent {
        let seconds = (last_received - first_sent) as f64 / 1e9;
        result.deliveries_per_second = Some((deliveries as f64 / seconds).round());
    }
}

impl RunResult {
    /// A result with nothing measured yet.
    pub(crate) fn skipped(spec: RunSpec) -> Self {
        Self {
            spec,
            connected: 0,
            connect_failed: 0,
            connect_seconds: 0.0,
            memory: None,
            published: 0,
            publish_failed: 0,
            expected: 0,
            delivered: 0,
            lost: 0,
            duplicates: 0,
            closed_by_server: 0,
            latency_us: None,
            fan_out_us: None,
            round_trip_us: None,
            deliveries_per_second: None,
            workload_seconds: 0.0,
            server_cpu: None,
            server_kernel_share: None,
            generator_cpu: None,
            slow: None,
            server_stats: None,
            seconds: 0.0,
            errors: Vec::new(),
        }
    }
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}
