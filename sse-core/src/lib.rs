//! The framework-free core of the universal Server-Sent Events system.
//!
//! Servers push [`Message`]s on named [`Channel`]s; a [`Hub`] routes each message to the
//! connections it targets and hands each connection its frames, already encoded in the SSE wire
//! format, through a [`Subscription`]. A web framework only has to write those bytes to a
//! response: `sse-tower` does that for every tower-based framework, and the `sse-axum`,
//! `sse-warp` and `sse-poem` adapters plug it in.
//!
//! # The model
//!
//! - **Channels** ([`Channel`]): `alerts`, `notifications`, `toasts`, `live-updates`,
//!   `admin-actions`, `chat`, `system`, `custom`, and the application's own. A connection
//!   subscribes to some; a message is sent on one.
//! - **Event types** ([`EventType`]): the SSE `event:` field, so that clients listen per type
//!   (`connected`, `heartbeat`, `data`, `update`, `refresh`, `toast`, `alert`, `notification`,
//!   `broadcast`, `error`, `custom`, or a validated name of the application's).
//! - **Targeting** ([`Target`]): everyone on the channel, authenticated users, given users,
//!   holders of any given role or permission; excluded users never receive a message, and
//!   `requireAuth` drops anonymous connections. Sends look up indices and never scan every
//!   connection.
//! - **Identity** ([`Identity`]) comes from the host application through an [`Authenticator`];
//!   effective permissions come from a [`PermissionResolver`].
//! - **Priority, TTL, persistence and coalescing** decide what a slow connection loses first,
//!   when a message is too old to deliver, which messages new connections receive, and which
//!   queued message a newer one replaces.
//!
//! ## Slow clients
//!
//! Every connection has a bounded queue. When it fills, expired frames leave first, then
//! lower-priority ones; a client that still cannot keep up has its stream ended with a final
//! `retry:`, and resumes from history when it reconnects. Nothing grows without bound and
//! nothing is dropped silently: [`Hub::stats`] counts every outcome.
//!
//! ## Reconnect and replay
//!
//! Every event carries a [`Cursor`] as its SSE id. A client reconnecting with `Last-Event-ID`
//! receives exactly the messages it missed, in order and once, then live ones; if history no
//! longer reaches back, it receives a `refresh` event with `"reason":"history-gap"`.
//!
//! ## Several instances
//!
//! The [`Backplane`] trait is the log every message passes through. [`InMemoryBackplane`] is the
//! embedded default; `sse-redis` shares fan-out and history between instances.
//!
//! ## Encoded once
//!
//! A message is validated and encoded once when it is sent, and framed with its cursor once
//! when it enters the log ([`Entry`]); live delivery, replay and persistent delivery all share
//! that frame. The frames the system sends by itself come from [`system`].
//!
//! ## Testing
//!
//! The `test-util` feature adds the `testing` module: decode what a client receives
//! with an independent SSE parser, assert on it, and move a paused clock.
//!
//! # Examples
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use serde_json::json;
//! use sse_hub::{Channel, ConnectOptions, EventType, Hub, Identity, Message, Role, UserId};
//!
//! let hub = Hub::new();
//!
//! // What the HTTP layer does for each request:
//! let admin = Identity::user(UserId::from(1)).with_role(Role::from_static("admin"));
//! let mut stream = hub
//!     .connect(ConnectOptions::new(admin).channels([Channel::ADMIN_ACTIONS, Channel::ALERTS]))
//!     .await?;
//!
//! // What application code does:
//! hub.notify_admins(EventType::Update, json!({"type": "quota-updated", "userId": 42})).await?;
//! let report = hub
//!     .send(
//!         Message::new(Channel::ALERTS, EventType::Alert, json!({"message": "Important"}))
//!             .to_authenticated()
//!             .exclude_users([123, 456])
//!             .priority(8)
//!             .persistent(),
//!     )
//!     .await?;
//! assert_eq!(report.sent, 1);
//!
//! // Two frames are waiting: they come out as one chunk for one write.
//! let chunk = stream.recv().await.unwrap();
//! let text = std::str::from_utf8(&chunk)?;
//! assert_eq!(text.matches("\n\n").count(), 2);
//! assert!(text.contains("event: update\n"));
//! assert!(text.contains("event: alert\n"));
//! # Ok(()) }
//! ```

mod auth;
mod backplane;
mod channel;
mod clock;
pub mod cluster;
mod connection;
mod cursor;
mod envelope;
pub mod error;
mod event;
pub mod frame;
mod history;
mod hub;
mod identity;
mod ledger;
mod message;
mod name;
#[cfg(feature = "openapi")]
mod openapi;
mod persistent;
mod queue;
mod registry;
mod shortcuts;
mod subscription;
pub mod system;
mod target;
#[cfg(feature = "test-util")]
pub mod testing;
pub mod wire;

/// The attribute that implements [`Authenticator`], [`PermissionResolver`] and [`Backplane`]
/// (their methods are `async`, and the traits are used as `dyn`).
pub use async_trait::async_trait;
pub use auth::{
    Authenticator, ExtensionAuthenticator, IdentityPermissions, PermissionResolver, RolePermissions,
};
pub use backplane::{Backplane, BackplaneStats, Entry, EntryStream, InMemoryBackplane, Replay};
pub use channel::Channel;
pub use clock::{Clock, ManualClock};
pub use cluster::InstanceId;
pub use connection::{CloseReason, ConnectOptions, ConnectionId, ConnectionInfo};
pub use cursor::Cursor;
pub use envelope::Envelope;
pub use event::{EventName, EventType};
pub use frame::FrameBuilder;
pub use history::HistoryConfig;
pub use hub::{
    BackplaneErrors, BackplaneOp, Claim, ClosedStats, Hub, HubBuilder, HubStats, IdempotencyRecord,
    MemoryStats, SendReport,
};
pub use identity::{Identity, Permission, Role, UserId};
pub use message::{CoalesceKey, IdempotencyKey, Message, MessageId};
pub use shortcuts::{RefreshOptions, ToastKind, ToastOptions};
pub use subscription::{Connected, Subscription};
pub use target::Target;
