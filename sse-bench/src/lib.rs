//! Load generator and side-by-side benchmarks for the universal SSE system: this project's
//! axum adapter against the plain axum SSE server a Rust user would write instead, measured in
//! the same run on the same machine.
//!
//! # What is measured
//!
//! Two servers answer the same two routes, `GET /stream` (an SSE stream whose first event is
//! `connected`) and `POST /publish` (the body is the message's data):
//!
//! - **ours**: `sse_axum::stream` over an in-memory [`Hub`](sse_core::Hub); `POST /publish`
//!   sends the body as a `data` event on `live-updates`, to one user with `?user=<id>` (the
//!   streams' identities come from an auth middleware reading `?user=` on `GET /stream`);
//! - **reference**: axum's own `Sse` with `KeepAlive` over a `tokio::sync::broadcast` channel
//!   of capacity 1024; `POST /publish` broadcasts the body. It has no targeting.
//!
//! Each server runs in its own process (the `serve-ours` / `serve-reference` subcommands), so
//! its resident memory is its own, pinned to core 0 when `taskset` exists; the generator runs
//! in the measuring process, pinned to core 1. The generator speaks raw HTTP/1.1 over
//! [`tokio::net::TcpStream`]: it opens the streams from many loopback source addresses with a
//! bounded number of connects in flight, waits until every stream has read its first event,
//! publishes through `POST /publish` at a given rate, and records for every delivery the
//! publish-to-receive latency (the payload carries its sequence number and send time), for
//! every message when its last receiver got it, what was lost or duplicated, and the server's
//! resident memory and heap before connecting, once connected and after every stream closed.
//!
//! # Scenarios
//!
//! [`Scenario`] lists them: idle memory per connection, broadcast fan-out at a pace meant to let
//! every fan-out finish and as fast as the publishers go, a targeted send to one user among
//! many connections, slow readers (a tenth of the streams stop reading), and targeted sends
//! published on one instance of ours and delivered by a second one through a Redis Streams
//! backplane (`sse_redis`), against one in-memory instance. Every phase of a run is bounded in
//! count and time; a run that overstays its deadline is reported as such.
//!
//! ## Keeping the comparison fair
//!
//! Both servers are the same binary, on the same multi-threaded tokio runtime (one worker once
//! pinned to one core), served by the same `axum::serve(listener, router.into_make_service())`
//! from a listener with a backlog of 1024, and both allocate through the same counting
//! allocator (one atomic addition per allocation, which is how their heap is known). A fresh
//! server process starts for every run, so no run inherits another's memory. The generator
//! stamps each payload just before writing its request and each delivery just after the read
//! that brought it returns, with one monotonic clock, so latency includes the generator's own
//! scheduling delays on its core; its CPU use is reported beside the server's.
//!
//! ## Reading memory figures
//!
//! RSS per connection is `(RSS with every stream open - RSS before) / streams`: pages touched,
//! which is less than the heap allocated when buffers are reserved but not written. Heap per
//! connection is the same difference of bytes allocated. "After churn" is measured once every
//! stream has closed: RSS kept while the heap is back near its baseline is memory the allocator
//! did not hand back to the kernel.
//!
//! # Running
//!
//! ```text
//! cargo run --release -p sse-bench -- all --quick          # 1k and 5k connections
//! cargo run --release -p sse-bench -- all                  # 1k and 10k connections
//! cargo run --release -p sse-bench -- scenario targeted    # one scenario, printed only
//! ```
//!
//! `all` prints a JSON line per run, then writes `BENCHMARKS.md` (its generated section, between
//! two marker comments; the text around them is kept) and `benchmarks.svg` at the workspace
//! root (`--out DIR` elsewhere, `--no-write` to only print). Each server needs a file descriptor
//! per stream: 10k streams fit under the usual limit of 20,000 open files.
//!
//! The per-operation costs of the core (targeted send, broadcast, encoding) are measured by the
//! criterion benches of `sse-core` (`cargo bench -p sse-core`).

mod chart;
mod cli;
mod clock;
mod decoder;
mod fleet;
mod handle;
mod machine;
mod publisher;
mod report;
mod run;
mod sample;
mod scenario;
mod server;
mod source;
mod summary;

pub use chart::write_chart;
pub use cli::{Command, Options, USAGE};
pub use clock::now_nanos;
pub use decoder::{DecodeError, Decoded, StreamDecoder};
pub use fleet::{ConnectionReport, Delivery, Fleet, FleetConfig};
pub use handle::{ServerHandle, ServerProcess};
pub use machine::{Machine, pin_generator};
pub use publisher::{PublishPlan, PublishReport, Published, publish};
pub use report::{Verdict, evaluate, json_line, markdown, write_benchmarks};
pub use run::{Backplane, Memory, RunResult, RunSpec, SlowOutcome, run, run_via};
pub use sample::{ProcessSample, clock_ticks_per_second};
pub use scenario::{Scenario, Sizes, run_all};
pub use server::{InProcessServer, ServeOptions, ServerKind, ServerStats, delete_redis_key, serve};
pub use source::next_source;
pub use summary::Percentiles;
