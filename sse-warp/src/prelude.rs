//! Everything a warp application needs to serve and publish events, for a glob import: the
//! names of [`sse_tower::prelude`] (the same in every adapter) and this adapter's own.
//!
//! # Examples
//!
//! ```
//! use sse_warp::prelude::*;
//!
//! let hub = Hub::new();
//! let route = sse_warp::stream(hub, StreamConfig::new([Channel::TOASTS]));
//! # let _ = route;
//! ```

pub use sse_tower::prelude::*;
