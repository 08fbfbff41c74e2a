//! Example applications for the universal SSE system.
//!
//! The demo application and one small program per framework arrive with the adapters.

pub use sse_core;
