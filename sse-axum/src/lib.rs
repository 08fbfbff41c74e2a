//! The axum adapter of the universal SSE system: mounts the sse-tower streaming endpoint in a axum
//! application, with identity and client address taken from what the host application provides.
//!
//! This crate is being built; today it only re-exports [`sse_core`].

pub use sse_core;
