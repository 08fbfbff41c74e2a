//! Load generator and side-by-side benchmarks for the universal SSE system: this project's
//! axum adapter against the plain axum SSE server a Rust user would write instead, and against
//! nginx with the nchan module, measured in the same run on the same machine.
//!
//! # What is measured
//!
//! Three servers answer the same two routes, `GET /stream` (an SSE stream) and `POST /publish`
//! (the body is the message's data):
//!
//! - **ours**: `sse_axum::stream` over an in-memory [`Hub`](sse_hub::Hub), served by
//!   `sse_axum::serve`; `POST /publish` sends the body as a `data` event on `live-updates`, to
//!   one user with `?user=<id>` (the streams' identities come from an auth middleware reading
//!   `?user=` on `GET /stream`). Streams start with a `connected` event;
//! - **reference**: axum's own `Sse` with `KeepAlive` over a `tokio::sync::broadcast` channel
//!   of capacity 1024, served by `axum::serve`; `POST /publish` broadcasts the body. It has no
//!   targeting. Streams start with a `connected` event;
//! - **nginx+nchan**: nginx with one master and one worker, an `eventsource` subscriber and a
//!   publisher on one broadcast channel (see [`NchanProcess`] for the configuration and why).
//!   Streams start with the comment `: hi`; it has no targeting in this setup, so it runs in the
//!   idle, broadcast and overload scenarios only.
//!
//! Each server runs in processes of its own (ours and the reference as the `serve-ours` /
//! `serve-reference` subcommands of this binary, nchan as nginx), so its memory is its own,
//! pinned to core 0 when `taskset` exists; the generator runs in the measuring process, pinned
//! to core 1. The generator speaks raw HTTP/1.1 over [`tokio::net::TcpStream`]: it opens the
//! streams from many loopback source addresses with a bounded number of connects in flight,
//! waits until every stream is ready (what each server sends once the stream is subscribed, see
//! [`Readiness`]), publishes through `POST /publish` at a given rate, and records for every
//! delivery the publish-to-receive latency (the payload carries its sequence number and send
//! time), for every message when its last receiver got it, what was lost or duplicated, and the
//! server's memory before connecting, once connected, after every stream closed, and once as
//! many streams are open again.
//!
//! # Scenarios
//!
//! [`Scenario`] lists them: idle memory per connection and what churn leaves behind, broadcast
//! fan-out at a pace meant to let every fan-out finish and as fast as the publishers go, a
//! targeted send to one user among many connections, slow readers (a tenth of the streams stop
//! reading), and targeted sends published on one instance of ours and delivered by a second one
//! through a Redis Streams backplane (`sse_redis`), against one in-memory instance. Every phase
//! of a run is bounded in count and time; a run that overstays its deadline is reported as such.
//! With `--repeat K` every run is repeated K times, a round at a time, and the report shows
//! min / median / max over the rounds and judges the targets on the median.
//!
//! ## Keeping the comparison fair
//!
//! Ours and the reference are the same binary, on the same multi-threaded tokio runtime (one
//! worker once pinned to one core), from a listener with a backlog of 1024, and both allocate
//! through the allocator this binary was built with ([`allocator`]: jemalloc by default) under
//! the same counting wrapper (one atomic addition per allocation, which is how their heap is
//! known). nginx listens with the same backlog and runs one worker on the same core. A fresh
//! server process starts for every run, so no run inherits another's memory. The generator
//! stamps each payload just before writing its request and each delivery just after the read
//! that brought it returns, with one monotonic clock, so latency includes the generator's own
//! scheduling delays on its core; its CPU use is reported beside the server's.
//!
//! ## Reading memory figures
//!
//! RSS per connection is `(RSS with every stream open - RSS before) / streams`: pages touched,
//! which is less than the heap allocated when buffers are reserved but not written. PSS per
//! connection is the same difference of proportional set size; for nginx, memory and CPU are
//! summed over its master and worker, and PSS counts the shared memory zone they both map once
//! (see [`ProcessSample`]). Heap per connection is the same difference of bytes allocated
//! (ours and the reference only). "After churn" is measured once every stream has closed: RSS
//! kept while the heap is back near its baseline is memory the allocator did not hand back to
//! the kernel. "Reopened" is measured with as many streams open again, per connection against
//! the memory before the first opening: divided by the fresh figure, it is 1.0 when churn left
//! nothing behind.
//!
//! # Running
//!
//! ```text
//! cargo run --release -p sse-bench -- all --quick          # 1k and 5k connections
//! cargo run --release -p sse-bench -- all                  # 1k and 10k connections
//! cargo run --release -p sse-bench -- all --repeat 5       # every run five times
//! cargo run --release -p sse-bench -- scenario targeted    # one scenario, printed only
//! ```
//!
//! `all` prints a JSON line per run, then writes `BENCHMARKS.md` (its generated section, between
//! two marker comments; the text around them is kept) and `benchmarks.svg` at the workspace
//! root (`--out DIR` elsewhere, `--no-write` to only print). Each server needs a file descriptor
//! per stream: 10k streams fit under the usual limit of 20,000 open files. When nginx or its
//! nchan module is missing, a run as root installs them with `apt-get` (the Debian packages
//! [`PACKAGES`]); otherwise nchan is skipped with a `nchan: skipped: <reason>` line, in the
//! output and in the report, and the rest runs.
//!
//! The per-operation costs of the core (targeted send, broadcast, encoding) are measured by the
//! criterion benches of `sse-hub` (`cargo bench -p sse-hub`).

mod chart;
mod cli;
mod clock;
mod decoder;
mod fleet;
mod handle;
mod machine;
mod nchan;
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
pub use fleet::{ConnectionReport, Delivery, Fleet, FleetConfig, Readiness};
pub use handle::{ServerHandle, ServerProcess};
pub use machine::{Machine, allocator, pin_generator};
pub use nchan::{
    CHANNEL_ID, MESSAGE_BUFFER_LENGTH, MESSAGE_TIMEOUT, NchanConfig, NchanProcess, Nginx, PACKAGES,
    SHARED_MEMORY_SIZE,
};
pub use publisher::{PublishPlan, PublishReport, Published, publish};
pub use report::{Verdict, evaluate, json_line, markdown, write_benchmarks};
pub use run::{Backplane, Memory, Reopened, RunResult, RunSpec, SlowOutcome, run, run_via};
pub use sample::{ProcessSample, clock_ticks_per_second};
pub use scenario::{Scenario, Sizes, run_all};
pub use server::{InProcessServer, ServeOptions, ServerKind, ServerStats, delete_redis_key, serve};
pub use source::next_source;
pub use summary::Percentiles;
