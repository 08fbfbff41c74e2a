//! Load generator and side-by-side benchmarks for the universal SSE system: this project's
//! adapters against a plain axum SSE server, measured in the same run on the same machine.
//!
//! The per-operation costs of the core (targeted send, broadcast, encoding) are measured by the
//! criterion benches of `sse-core` (`cargo bench -p sse-core`).
