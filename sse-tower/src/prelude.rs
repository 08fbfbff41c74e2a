//! The names an application needs to serve and publish events, for a glob import.
//!
//! Every adapter crate (`sse-axum`, `sse-warp`, `sse-poem`) re-exports this prelude in its own,
//! next to its framework-specific names, so that the same `use` works whichever framework
//! serves the stream.
//!
//! # Examples
//!
//! ```
//! use sse_tower::prelude::*;
//!
//! let hub = Hub::new();
//! let config = StreamConfig::new([Channel::ALERTS, Channel::TOASTS]);
//! let message = Message::new(Channel::ALERTS, EventType::Alert, "disk almost full".into())
//!     .to_roles([Role::from_static("admin")]);
//! # let _ = (hub, config, message);
//! ```

pub use sse_hub::{
    Channel, ConnectOptions, EventType, Hub, Identity, Message, Permission, Role, SendReport,
    Target, UserId,
};

pub use crate::{
    ChannelRule, ClientAddr, ForwardedHeader, IpRange, RateLimit, StreamConfig, TrustedProxies,
};
