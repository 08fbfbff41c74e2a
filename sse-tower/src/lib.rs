//! A tower [`Service`](https://docs.rs/tower-service) and `Layer` that turn an HTTP request into
//! an authenticated, rate-limited, heartbeat-keeping Server-Sent Events stream fed by an
//! [`sse_core::Hub`].
//!
//! This crate is being built; today it only re-exports [`sse_core`] so that applications can
//! depend on it ahead of the streaming service.

pub use sse_core;
