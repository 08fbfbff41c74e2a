//! Everything an axum application needs to serve and publish events, for a glob import: the
//! names of [`sse_tower::prelude`] (the same in every adapter) and this adapter's own.
//!
//! # Examples
//!
//! ```
//! use sse_axum::prelude::*;
//!
//! let hub = Hub::new();
//! let app: axum::Router = axum::Router::new().sse_stream(
//!     "/api/sse/stream",
//!     hub.clone(),
//!     StreamConfig::new([Channel::NOTIFICATIONS]),
//! );
//! # let _ = app;
//! ```

pub use sse_tower::prelude::*;

pub use crate::{AxumSse, LastEventId, SseHub, SseRejection, SseRouterExt};
