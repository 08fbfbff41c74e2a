//! A [`sse_core::Backplane`] on Redis Streams, so that several server instances share fan-out
//! and replay history.
//!
//! This crate is being built; today it only re-exports [`sse_core`].

pub use sse_core;
