//! Criterion benchmarks of the hub.
//!
//! - `send_to_one_user/{10,1000,100000}`: one targeted send while N connections are open, each
//!   of a distinct user. Routing looks up the user index, so the time must not grow with N.
//! - `broadcast/10000`: one broadcast to the 10,000 subscribers of a channel; the throughput is
//!   in recipients, so criterion prints the cost per recipient.
//! - `encode/{100B,10KiB}`: validating and encoding a message with a JSON payload of that size;
//!   the throughput is in payload bytes.
//! - `resume_storm/1000x500`: 1,000 clients reconnecting at once, each from a cursor 500
//!   messages back; the throughput is in replayed frames. The heap these queues hold is printed
//!   by the `memory` bench.
//!
//! Only the sends are timed: messages are built and queues are drained outside the measured
//! section, so that no queue fills up (a full queue would shed or close the connection and
//! change what is measured). Nobody polls the subscriptions between sends, so no waker is
//! registered and no task is woken: the numbers are the hub's own cost.

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};
use serde_json::{Value, json};
use sse_hub::{
    Channel, ConnectOptions, Cursor, EventType, HistoryConfig, Hub, Identity, Message,
    Subscription, UserId,
};
use tokio::runtime::Runtime;

/// Sends timed between two drains of the target's queue; below the default queue capacity
/// (256 frames), so that the queue never fills.
const SENDS_PER_DRAIN: u64 = 200;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

/// Opens one connection per user in `users`, each subscribed to `notifications`.
fn connect_users(runtime: &Runtime, hub: &Hub, users: u64) -> Vec<Subscription> {
    runtime.block_on(async {
        let mut subscriptions = Vec::with_capacity(usize::try_from(users).expect("fits"));
        for user in 0..users {
            let options = ConnectOptions::new(Identity::user(UserId::from(user)))
                .channels([Channel::NOTIFICATIONS]);
            subscriptions.push(hub.connect(options).await.expect("the hub accepts"));
        }
        subscriptions
    })
}

/// Takes every queued frame out of a subscription's queue.
async fn drain(subscription: &mut Subscription) {
    while subscription.queue_len() > 0 {
        subscription.recv().await.expect("the stream is open");
    }
}

fn send_to_one_user(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("send_to_one_user");
    group.throughput(Throughput::Elements(1));
    for connections in [10_u64, 1_000, 100_000] {
        let hub = Hub::new();
        let mut subscriptions = connect_users(&runtime, &hub, connections);
        let target = connections / 2;
        let message = Message::new(
            Channel::NOTIFICATIONS,
            EventType::Notification,
            json!({"title": "New message", "body": "You have a new message"}),
        )
        .to_users([target]);
        let subscription = &mut subscriptions[usize::try_from(target).expect("fits")];
        group.bench_with_input(
            BenchmarkId::from_parameter(connections),
            &connections,
            |b, _| {
                b.iter_custom(|iters| {
                    runtime.block_on(async {
                        let mut elapsed = Duration::ZERO;
                        let mut left = iters;
                        while left > 0 {
                            let sends = left.min(SENDS_PER_DRAIN);
                            let messages: Vec<Message> =
                                (0..sends).map(|_| message.clone()).collect();
                            let start = Instant::now();
                            for message in messages {
                                black_box(hub.send(message).await.expect("sent"));
                            }
                            elapsed += start.elapsed();
                            drain(subscription).await;
                            left -= sends;
                        }
                        elapsed
                    })
                });
            },
        );
        let report = runtime.block_on(hub.send(message.clone())).expect("sent");
        assert_eq!(report.sent, 1, "the target still receives");
        assert_eq!(hub.stats().shed + hub.stats().closed_slow, 0);
        drop(subscriptions);
    }
    group.finish();
}

fn broadcast(c: &mut Criterion) {
    const CONNECTIONS: u64 = 10_000;
    let runtime = runtime();
    let hub = Hub::new();
    let mut subscriptions = connect_users(&runtime, &hub, CONNECTIONS);
    let message = Message::new(
        Channel::NOTIFICATIONS,
        EventType::Broadcast,
        json!({"message": "Maintenance tonight at 22:00"}),
    );
    let mut group = c.benchmark_group("broadcast");
    group.throughput(Throughput::Elements(CONNECTIONS));
    group.bench_with_input(
        BenchmarkId::from_parameter(CONNECTIONS),
        &CONNECTIONS,
        |b, _| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let mut elapsed = Duration::ZERO;
                    for _ in 0..iters {
                        let message = message.clone();
                        let start = Instant::now();
                        let report = black_box(hub.send(message).await.expect("sent"));
                        elapsed += start.elapsed();
                        assert_eq!(report.sent as u64, CONNECTIONS);
                        for subscription in &mut subscriptions {
                            drain(subscription).await;
                        }
                    }
                    elapsed
                })
            });
        },
    );
    group.finish();
}

/// A JSON object that serialises to exactly `size` bytes.
fn payload(size: usize) -> Value {
    let overhead = r#"{"text":""}"#.len();
    let value = json!({"text": "x".repeat(size - overhead)});
    assert_eq!(serde_json::to_vec(&value).expect("json").len(), size);
    value
}

fn encode(c: &mut Criterion) {
    let hub = Hub::new();
    let mut group = c.benchmark_group("encode");
    for (name, size) in [("100B", 100_usize), ("10KiB", 10 * 1024)] {
        let message = Message::new(Channel::LIVE_UPDATES, EventType::Update, payload(size));
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(name, |b| {
            b.iter_batched(
                || message.clone(),
                |message| hub.encode(message).expect("valid"),
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

fn resume_storm(c: &mut Criterion) {
    const CLIENTS: u64 = 1_000;
    const MESSAGES: usize = 500;
    let runtime = runtime();
    let hub = Hub::builder()
        .history(HistoryConfig::default().capacity(MESSAGES * 2))
        .max_replay(MESSAGES)
        .queue_capacity(MESSAGES * 2)
        .build();
    let text = "x".repeat(120);
    let from: Cursor = runtime.block_on(async {
        let mut first = None;
        for n in 0..=MESSAGES {
            let message = Message::new(
                Channel::LIVE_UPDATES,
                EventType::Update,
                json!({"n": n, "text": text}),
            );
            first.get_or_insert(hub.send(message).await.expect("sent").cursor);
        }
        first.expect("one message was sent")
    });
    let mut group = c.benchmark_group("resume_storm");
    group.throughput(Throughput::Elements(CLIENTS * MESSAGES as u64));
    group.sample_size(10);
    group.bench_function(format!("{CLIENTS}x{MESSAGES}"), |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iters {
                    let mut subscriptions = Vec::with_capacity(CLIENTS as usize);
                    let start = Instant::now();
                    for user in 0..CLIENTS {
                        let options = ConnectOptions::new(Identity::user(UserId::from(user)))
                            .channels([Channel::LIVE_UPDATES])
                            .last_event_id(from);
                        subscriptions.push(hub.connect(options).await.expect("the hub accepts"));
                    }
                    elapsed += start.elapsed();
                    assert_eq!(subscriptions[0].queue_len(), MESSAGES);
                    drop(black_box(subscriptions));
                }
                elapsed
            })
        });
    });
    group.finish();
}

fn main() {
    // Short runs: the whole suite stays well under three minutes on two cores.
    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    send_to_one_user(&mut criterion);
    broadcast(&mut criterion);
    encode(&mut criterion);
    resume_storm(&mut criterion);
    criterion.final_summary();
}
