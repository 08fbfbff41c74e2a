//! Criterion benchmark of what one delivery costs this project's code, without the kernel:
//! `deliver/10000` broadcasts one message to 10,000 open stream bodies and then polls each
//! body as hyper does after a write: once for the frame, once more until it is pending again.
//! The throughput is in deliveries, so criterion prints the cost of one.
//! `deliver-without-ledger/10000` is the same on a hub without the delivery ledger (what
//! `Hub::explain` reads), so that the ledger's cost per delivery shows.
//!
//! Each body has a waker of its own that only counts its wake-ups, so that the scheduler's
//! work is not measured but every wake-up the hub asks for is (and checked: exactly one per
//! delivery).

use std::{
    convert::Infallible,
    hint::black_box,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering::Relaxed},
    },
    task::{Context, Poll, Wake, Waker},
    time::{Duration, Instant},
};

use criterion::{BenchmarkId, Criterion, Throughput};
use http::{Request, Response, StatusCode};
use http_body::Body;
use serde_json::json;
use sse_hub::{Channel, EventType, Hub, Identity, Message, UserId};
use sse_tower::{SseBody, SseService, StreamConfig};
use tower::ServiceExt;

const STREAMS: usize = 10_000;

/// Counts the wake-ups of one body.
struct Counting(AtomicUsize);

impl Wake for Counting {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Relaxed);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Relaxed);
    }
}

struct Stream {
    body: SseBody,
    wakes: Arc<Counting>,
    waker: Waker,
}

impl Stream {
    /// Polls until the body is pending; returns the bytes it gave.
    fn poll_until_pending(&mut self) -> usize {
        let mut cx = Context::from_waker(&self.waker);
        let mut bytes = 0;
        loop {
            match Pin::new(&mut self.body).poll_frame(&mut cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    bytes += frame.into_data().map_or(0, |data| data.len());
                }
                Poll::Ready(Some(Err(never))) => match never {},
                Poll::Ready(None) => panic!("the stream ended"),
                Poll::Pending => return bytes,
            }
        }
    }
}

async fn open(service: &SseService, user: u64) -> Stream {
    let mut request = Request::get("/?channels=live-updates").body(()).unwrap();
    request
        .extensions_mut()
        .insert(Identity::user(UserId::from(user)));
    let response: Response<SseBody> = service
        .clone()
        .oneshot(request)
        .await
        .unwrap_or_else(|never: Infallible| match never {});
    assert_eq!(response.status(), StatusCode::OK);
    let wakes = Arc::new(Counting(AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&wakes));
    let mut stream = Stream {
        body: response.into_body(),
        wakes,
        waker,
    };
    assert!(stream.poll_until_pending() > 0, "the preamble");
    stream
}

/// The measured work: one broadcast, and every body polled until it is pending again. Not
/// inlined, so that an instruction count can be taken of it alone
/// (`valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*deliver_once*'`).
#[inline(never)]
fn deliver_once(
    runtime: &tokio::runtime::Runtime,
    hub: &Hub,
    message: Message,
    streams: &mut [Stream],
) -> (usize, usize) {
    let report = runtime.block_on(hub.send(message)).unwrap();
    let mut bytes = 0;
    for stream in streams {
        bytes += stream.poll_until_pending();
    }
    (report.sent, bytes)
}

/// Benchmarks deliveries on a hub from `hub` as `group`: `deliver` with the delivery ledger
/// (the default), `deliver-without-ledger` without, so that its cost per delivery shows.
fn deliver(c: &mut Criterion, group: &str, hub: sse_hub::HubBuilder) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let hub = hub.build();
    let service = SseService::new(hub.clone(), StreamConfig::new([Channel::LIVE_UPDATES]));
    let mut streams: Vec<Stream> = runtime.block_on(async {
        let mut streams = Vec::with_capacity(STREAMS);
        for user in 0..STREAMS as u64 {
            streams.push(open(&service, user).await);
        }
        streams
    });
    let message = Message::new(
        Channel::LIVE_UPDATES,
        EventType::Data,
        json!({"seq": 1, "sentAtNanos": 1_764_350_000_000_000_000_u64}),
    );
    let mut group = c.benchmark_group(group);
    group.throughput(Throughput::Elements(STREAMS as u64));
    group.bench_with_input(BenchmarkId::from_parameter(STREAMS), &STREAMS, |b, _| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                let message = message.clone();
                let wakes_before: usize = streams.iter().map(|s| s.wakes.0.load(Relaxed)).sum();
                let start = Instant::now();
                let (sent, bytes) = deliver_once(&runtime, &hub, message, &mut streams);
                elapsed += start.elapsed();
                black_box(bytes);
                assert_eq!(sent, STREAMS);
                let wakes: usize = streams.iter().map(|s| s.wakes.0.load(Relaxed)).sum();
                assert_eq!(wakes - wakes_before, STREAMS, "one wake-up per delivery");
            }
            elapsed
        });
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    deliver(&mut criterion, "deliver", Hub::builder());
    deliver(
        &mut criterion,
        "deliver-without-ledger",
        Hub::builder().without_delivery_ledger(),
    );
    criterion.final_summary();
}
