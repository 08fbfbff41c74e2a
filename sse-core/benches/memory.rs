//! Heap held by the hub per idle connection (architecture decision 10: under 512 B).
//!
//! Opens 10,000 idle connections, each of a distinct user subscribed to one channel, and
//! prints the heap they hold: every live allocation made while connecting, which is the
//! connection's own state (user, roles, channels, queue, registry index entries). The `Vec`
//! holding the subscriptions is
//! allocated before the count starts: in a server each subscription lives inline in its
//! response body, whose size is printed apart.
//!
//! The allocator is dhat's counting allocator; the byte counts are the sizes requested, not
//! including the system allocator's own per-block overhead. Run with
//! `cargo bench -p sse-core --bench memory`.

use sse_core::{Channel, ConnectOptions, Hub, Identity, Subscription, UserId};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const CONNECTIONS: usize = 10_000;

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
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
