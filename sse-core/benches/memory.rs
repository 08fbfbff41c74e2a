//! Heap held by the hub: per idle connection, and by a reconnect storm.
//!
//! - **Idle connections** (architecture decision 10: under 512 B each): opens 10,000 idle
//!   connections, each of a distinct user subscribed to one channel, and prints the heap they
//!   hold: every live allocation made while connecting, which is the connection's own state
//!   (user, roles, channels, queue, registry index entries). The `Vec` holding the
//!   subscriptions is allocated before the count starts: in a server each subscription lives
//!   inline in its response body, whose size is printed apart.
//! - **Resume storm**: 500 messages of about 200 bytes are sent, then 1,000 clients reconnect
//!   at once from the cursor before the first of them, so that each has 500 frames queued.
//!   It prints the heap their queues hold beside the history's own bytes: frames are encoded
//!   once per log entry, so the queues should hold little more than a pointer per frame.
//!
//! The allocator is dhat's counting allocator; the byte counts are the sizes requested, not
//! including the system allocator's own per-block overhead. Run with
//! `cargo bench -p sse-hub --bench memory`.

use serde_json::json;
use sse_hub::{
    Channel, ConnectOptions, Cursor, EventType, HistoryConfig, Hub, Identity, Message,
    Subscription, UserId,
};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const CONNECTIONS: usize = 10_000;
const STORM_CLIENTS: usize = 1_000;
const STORM_MESSAGES: usize = 500;

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    idle_connections(&runtime);
    resume_storm(&runtime);
}

fn idle_connections(runtime: &tokio::runtime::Runtime) {
    let hub = Hub::new();
    let mut subscriptions: Vec<Subscription> = Vec::with_capacity(CONNECTIONS);

    let before = dhat::HeapStats::get();
    runtime.block_on(async {
        for user in 0..CONNECTIONS {
            let options = ConnectOptions::new(Identity::user(UserId::from(user)))
                .channels([Channel::NOTIFICATIONS]);
            subscriptions.push(hub.connect(options).await.expect("the hub accepts"));
        }
    });
    let open = dhat::HeapStats::get();
    assert_eq!(hub.connection_count(), CONNECTIONS);

    drop(subscriptions);
    let closed = dhat::HeapStats::get();
    assert_eq!(hub.connection_count(), 0);

    let bytes = open.curr_bytes - before.curr_bytes;
    let blocks = open.curr_blocks - before.curr_blocks;
    println!("idle connections: {CONNECTIONS}");
    println!(
        "heap per idle connection: {} bytes in {:.1} blocks",
        bytes / CONNECTIONS,
        blocks as f64 / CONNECTIONS as f64
    );
    println!(
        "subscription held inline by the response body: {} bytes",
        size_of::<Subscription>()
    );
    println!(
        "heap still held after every connection closed: {} bytes",
        closed.curr_bytes.saturating_sub(before.curr_bytes)
    );
}

fn resume_storm(runtime: &tokio::runtime::Runtime) {
    let hub = Hub::builder()
        .history(HistoryConfig::default().capacity(STORM_MESSAGES * 2))
        .max_replay(STORM_MESSAGES)
        .queue_capacity(STORM_MESSAGES * 2)
        .build();
    let mut subscriptions: Vec<Subscription> = Vec::with_capacity(STORM_CLIENTS);
    let text = "x".repeat(120);
    let from: Cursor = runtime.block_on(async {
        let mut first = None;
        for n in 0..=STORM_MESSAGES {
            let message = Message::new(
                Channel::LIVE_UPDATES,
                EventType::Update,
                json!({"n": n, "text": text}),
            );
            let report = hub.send(message).await.expect("sent");
            first.get_or_insert(report.cursor);
        }
        first.expect("one message was sent")
    });
    let history = hub.stats().memory.history;
    let ledger_before = hub.stats().memory.ledger;

    let before = dhat::HeapStats::get();
    runtime.block_on(async {
        for user in 0..STORM_CLIENTS {
            let options = ConnectOptions::new(Identity::user(UserId::from(user)))
                .channels([Channel::LIVE_UPDATES])
                .last_event_id(from);
            let subscription = hub.connect(options).await.expect("the hub accepts");
            assert_eq!(subscription.queue_len(), STORM_MESSAGES);
            subscriptions.push(subscription);
        }
    });
    let open = dhat::HeapStats::get();
    let queued_frames = STORM_CLIENTS * STORM_MESSAGES;
    // The delivery ledger notes which connection each replayed message went to (8 bytes a
    // time, within its budget): counted apart from the queues.
    let ledger = hub.stats().memory.ledger - ledger_before;
    let bytes = open.curr_bytes - before.curr_bytes - ledger;
    println!("resume storm: {STORM_CLIENTS} clients, each replaying {STORM_MESSAGES} messages");
    println!(
        "history: {} entries in {history} bytes",
        hub.stats().backplane.entries
    );
    println!(
        "heap held by the resumed connections: {bytes} bytes ({:.1} bytes per queued frame)",
        bytes as f64 / queued_frames as f64
    );
    println!(
        "of which the delivery ledger's notes of the replays: {ledger} bytes (not included above)"
    );
    println!(
        "queued frame bytes counted by the hub: {}",
        hub.stats().memory.queues
    );
    drop(subscriptions);
}
