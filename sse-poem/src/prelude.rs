//! Everything a poem application needs to serve and publish events, for a glob import: the
//! names of [`sse_tower::prelude`] (the same in every adapter) and this adapter's own.
//!
//! # Examples
//!
//! ```
//! use sse_poem::prelude::*;
//!
//! let endpoint = SseEndpoint::new(Hub::new(), StreamConfig::new([Channel::TOASTS]));
//! # let _ = endpoint;
//! ```

pub use sse_tower::prelude::*;

pub use crate::{Hangup, SseEndpoint};
