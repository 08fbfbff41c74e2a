//! The scenarios, their sizes, and running a list of them.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::{
    Backplane, RunResult, RunSpec, ServeOptions, ServerHandle, ServerKind, delete_redis_key, run,
    run_via,
};

/// The Redis of the `redis` scenario when `REDIS_URL` is not set.
const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Messages per broadcast run.
const BROADCAST_MESSAGES: u32 = 100;
/// Deliveries per second the paced broadcast asks for: low enough that each fan-out finishes
/// before the next message on the measuring machine (checked in the report).
const PACED_DELIVERIES_PER_SECOND: f64 = 50_000.0;
/// Publishing connections in the overload runs.
const OVERLOAD_PUBLISHERS: usize = 4;
/// Messages and rate of the targeted runs.
const TARGETED_MESSAGES: u32 = 200;
const TARGETED_RATE: f64 = 100.0;
/// One stream in this many is a slow reader.
const SLOW_EVERY: usize = 10;
/// Messages, rate and payload filler of the slow-reader runs: enough bytes to fill a stopped
/// reader's socket buffers (a few MiB on loopback) and then both our per-connection queue (256
/// frames) and the reference's broadcast ring (1024 messages).
const SLOW_MESSAGES: u32 = 2000;
const SLOW_RATE: f64 = 60.0;
const SLOW_PAD: usize = 8192;
/// The receive buffer a slow reader asks for, so its socket fills sooner.
const SLOW_RECV_BUFFER: u32 = 4096;

/// A benchmark scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// Streams open and idle: server memory per connection; then after they all close, and
    /// once as many are open again (churn).
    Idle,
    /// 100 broadcasts at a pace meant to let each fan-out finish (50,000 deliveries per
    /// second, at most 100 messages per second): latency and fan-out time.
    Broadcast,
    /// 100 broadcasts as fast as four publishers go: deliveries per second.
    Overload,
    /// 200 messages, each to one user among all streams (ours only: the reference has no
    /// targeting): publish round trip and latency.
    Targeted,
    /// A tenth of the streams stop reading, against the same run without: the others'
    /// latency, server memory, and what the slow ones lost.
    SlowReaders,
    /// 200 messages at 100/s, each to one user among 1000 streams (ours only), published on
    /// one instance and read from a second one through a Redis Streams backplane, against one
    /// in-memory instance: latency and publish round trip.
    Redis,
}

impl Scenario {
    /// Every scenario, in the order `all` runs them.
    pub const ALL: [Self; 6] = [
        Self::Idle,
        Self::Broadcast,
        Self::Overload,
        Self::Targeted,
        Self::SlowReaders,
        Self::Redis,
    ];

    /// The scenario's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Broadcast => "broadcast",
            Self::Overload => "overload",
            Self::Targeted => "targeted",
            Self::SlowReaders => "slow-readers",
            Self::Redis => "redis",
        }
    }

    /// The scenario with this name.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_bench::Scenario;
    /// assert_eq!(Scenario::parse("slow-readers"), Some(Scenario::SlowReaders));
    /// assert_eq!(Scenario::parse("nope"), None);
    /// ```
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The servers that run this scenario: all three for idle, broadcast and overload; ours and
    /// the reference for slow readers (nchan's slow subscribers are not comparable in this
    /// setup); ours alone for targeted sends and Redis (the reference and nchan, with one
    /// broadcast channel, have no per-user targeting).
    pub fn servers(self) -> &'static [ServerKind] {
        match self {
            Self::Idle | Self::Broadcast | Self::Overload => &ServerKind::ALL,
            Self::SlowReaders => &ServerKind::BOTH,
            Self::Targeted | Self::Redis => &[ServerKind::Ours],
        }
    }

    /// The runs of this scenario at `sizes`, for one round.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_bench::{Scenario, Sizes};
    /// let runs = Scenario::Broadcast.specs(&Sizes::quick());
    /// assert_eq!(runs.len(), 6); // two sizes, three servers
    /// ```
    pub fn specs(self, sizes: &Sizes) -> Vec<RunSpec> {
        let mut specs = Vec::new();
        match self {
            Self::Idle | Self::Broadcast | Self::Overload => {
                for &n in &sizes.connections {
                    for &server in self.servers() {
                        let mut spec = RunSpec::idle(self, server, n);
                        match self {
                            Self::Idle => spec.reopen = true,
                            Self::Broadcast => {
                                spec.messages = BROADCAST_MESSAGES;
                                spec.rate = Some(paced_rate(n));
                            }
                            Self::Overload => {
                                spec.messages = BROADCAST_MESSAGES;
                                spec.publishers = OVERLOAD_PUBLISHERS;
                            }
                            _ => {}
                        }
                        specs.push(spec);
                    }
                }
            }
            Self::Targeted => {
                for &n in &sizes.connections {
                    let mut spec = RunSpec::idle(self, ServerKind::Ours, n);
                    spec.messages = TARGETED_MESSAGES;
                    spec.rate = Some(TARGETED_RATE);
                    spec.targeted = true;
                    specs.push(spec);
                }
            }
            Self::SlowReaders => {
                for &server in self.servers() {
                    for slow_every in [None, Some(SLOW_EVERY)] {
                        let mut spec = RunSpec::idle(self, server, sizes.slow_connections);
                        spec.messages = SLOW_MESSAGES;
                        spec.rate = Some(SLOW_RATE);
                        spec.pad = SLOW_PAD;
                        spec.slow_every = slow_every;
                        spec.slow_recv_buffer = slow_every.map(|_| SLOW_RECV_BUFFER);
                        specs.push(spec);
                    }
                }
            }
            Self::Redis => {
                for (backplane, instances) in [(Backplane::Redis, 2), (Backplane::Memory, 1)] {
                    let mut spec = RunSpec::idle(self, ServerKind::Ours, sizes.redis_connections);
                    spec.messages = TARGETED_MESSAGES;
                    spec.rate = Some(TARGETED_RATE);
                    spec.targeted = true;
                    spec.backplane = backplane;
                    spec.instances = instances;
                    specs.push(spec);
                }
            }
        }
        specs
    }
}

/// The paced broadcast rate for `connections` streams, at most 100 messages per second.
fn paced_rate(connections: usize) -> f64 {
    (PACED_DELIVERIES_PER_SECOND / connections.max(1) as f64).min(100.0)
}

/// How many streams the scenarios open, and how many times each run is repeated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sizes {
    /// The stream counts of the idle, broadcast, overload and targeted runs.
    pub connections: Vec<usize>,
    /// The stream count of the slow-reader runs.
    pub slow_connections: usize,
    /// The stream count of the Redis runs.
    pub redis_connections: usize,
    /// Whether these are the quick sizes.
    pub quick: bool,
    /// How many times each run is repeated (`--repeat`, at least 1), each time on a fresh
    /// server process.
    pub repeat: usize,
    /// The time budget of one round of the whole suite; the suite gets this much per round.
    pub budget: Duration,
}

impl Sizes {
    /// 1k and 5k streams, 1k for slow readers and Redis, once, within 10 minutes.
    pub fn quick() -> Self {
        Self {
            connections: vec![1000, 5000],
            slow_connections: 1000,
            redis_connections: 1000,
            quick: true,
            repeat: 1,
            budget: Duration::from_secs(10 * 60),
        }
    }

    /// 1k and 10k streams, 1k for slow readers and Redis, once, within 30 minutes.
    pub fn full() -> Self {
        Self {
            connections: vec![1000, 10_000],
            slow_connections: 1000,
            redis_connections: 1000,
            quick: false,
            repeat: 1,
            budget: Duration::from_secs(30 * 60),
        }
    }

    /// The largest stream count.
    pub fn largest(&self) -> usize {
        self.connections.iter().copied().max().unwrap_or(0)
    }
}

/// Runs `scenarios` at `sizes` on those of `servers` that run them, each run against a fresh
/// server process (pinned to core 0 when `pin`), calling `each` with every result.
///
/// Each scenario's runs are repeated [`Sizes::repeat`] times, a round at a time (every server
/// and size, then again), so that slow drifts of the machine fall on all servers alike. Runs
/// that would start after the budget are skipped and reported with an error.
pub async fn run_all(
    scenarios: &[Scenario],
    sizes: &Sizes,
    pin: bool,
    servers: &[ServerKind],
    mut each: impl FnMut(&RunResult),
) -> Vec<RunResult> {
    let started = Instant::now();
    let rounds = sizes.repeat.max(1);
    let budget = sizes.budget * u32::try_from(rounds).unwrap_or(u32::MAX);
    let mut results = Vec::new();
    for scenario in scenarios {
        let specs: Vec<RunSpec> = scenario
            .specs(sizes)
            .into_iter()
            .filter(|spec| servers.contains(&spec.server))
            .collect();
        for round in 1..=rounds {
            for spec in &specs {
                let spec = RunSpec {
                    round,
                    ..spec.clone()
                };
                let result = if started.elapsed() > budget {
                    skipped(
                        &spec,
                        "skipped: the suite's time budget was spent".to_owned(),
                    )
                } else if spec.backplane == Backplane::Redis {
                    run_through_redis(&spec, pin).await
                } else {
                    match ServerHandle::process(spec.server, pin.then_some(0)).await {
                        Ok(mut server) => {
                            let result = run(&spec, &mut server).await;
                            server.stop().await;
                            result
                        }
                        Err(err) => skipped(&spec, format!("server did not start: {err}")),
                    }
                };
                each(&result);
                results.push(result);
            }
        }
    }
    results
}

/// Runs `spec` on `spec.instances` processes of ours sharing one fresh stream key on the Redis
/// at `REDIS_URL`: the streams read from the last one, the messages are published to the
/// first. The key and its epoch are deleted afterwards.
async fn run_through_redis(spec: &RunSpec, pin: bool) -> RunResult {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.to_owned());
    let key = format!("sse-bench:{:016x}", fastrand::u64(..));
    let options = ServeOptions {
        redis: Some(url.clone()),
        redis_key: Some(key.clone()),
    };
    let mut servers = Vec::new();
    let mut failure = None;
    for _ in 0..spec.instances.max(1) {
        match ServerHandle::process_with(spec.server, pin.then_some(0), &options).await {
            Ok(server) => servers.push(server),
            Err(err) => {
                failure = Some(format!("server did not start (Redis at {url}): {err}"));
                break;
            }
        }
    }
    let mut result = match (failure, servers.first().map(ServerHandle::addr)) {
        (None, Some(publish_to)) => {
            let streams = servers.last_mut().expect("a server");
            run_via(spec, streams, publish_to).await
        }
        (failure, _) => skipped(spec, failure.unwrap_or_default()),
    };
    for server in servers {
        server.stop().await;
    }
    if let Err(err) = delete_redis_key(&url, &key).await {
        result.errors.push(format!("deleting the Redis key: {err}"));
    }
    result
}

fn skipped(spec: &RunSpec, why: String) -> RunResult {
    let mut result = RunResult::skipped(spec.clone());
    result.errors.push(why);
    result
}
