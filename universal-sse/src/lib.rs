//! Server-Sent Events for tower-based Rust web apps, in one dependency.
//!
//! This crate re-exports the crates of the system, the way `tower-http` gathers its
//! middleware behind features:
//!
//! | Module | Crate | Feature |
//! |---|---|---|
//! | [`hub`] (and the common types at the root) | `sse-hub`: messages, targeting, identities, the `Hub`, replay, statistics | always |
//! | [`tower`] | `sse-tower`: the streaming `Service` and `Layer`, auth helpers, publish helpers | always (`server`: the tuned server) |
//! | `axum` | `sse-axum`: the axum adapter (`api`: the publish and administration router) | `axum`, `api` |
//! | `warp` | `sse-warp`: the warp adapter | `warp` |
//! | `poem` | `sse-poem`: the poem adapter | `poem` |
//! | `redis` | `sse-redis`: several instances on one Redis (Rust 1.88) | `redis` |
//!
//! `metrics` (default) counts through the `metrics` facade; `uuid`, `openapi` and `test-util`
//! pass through to `sse-hub`.
//!
//! # Examples
//!
//! With `universal-sse = { version = "0.1", features = ["axum"] }`:
//!
//! ```
//! # #[cfg(feature = "axum")] {
//! use axum::Router;
//! use universal_sse::{Channel, Hub, StreamConfig, axum::SseRouterExt};
//!
//! let hub = Hub::new();
//! let app: Router = Router::new().sse_stream(
//!     "/api/sse/stream",
//!     hub.clone(),
//!     StreamConfig::new([Channel::NOTIFICATIONS]),
//! );
//! # }
//! ```

pub use sse_hub as hub;
pub use sse_hub::{
    Authenticator, Channel, EventType, Hub, Identity, Message, Permission, PermissionResolver,
    Role, SendReport, Target, UserId,
};
pub use sse_tower as tower;
pub use sse_tower::{ChannelRule, RateLimit, SseLayer, SseService, StreamConfig};

#[cfg(feature = "axum")]
pub use sse_axum as axum;
#[cfg(feature = "poem")]
pub use sse_poem as poem;
#[cfg(feature = "redis")]
pub use sse_redis as redis;
#[cfg(feature = "warp")]
pub use sse_warp as warp;
