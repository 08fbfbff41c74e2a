//! The axum adapter of the universal SSE system: an authenticated, rate-limited, resumable
//! Server-Sent Events endpoint in one line of a `Router`.
//!
//! The adapter is thin: it mounts [`sse_tower::SseService`], passes the client address from
//! axum's `ConnectInfo` (or from [`serve`], the tuned server of `sse_tower::server` for long
//! streams), and leaves authentication to the application — its own middleware
//! puts an [`Identity`] into the request extensions, which the endpoint reads (or the
//! [`StreamConfig`] names another [`Authenticator`](sse_hub::Authenticator)). Statuses,
//! headers, heartbeats, replay and shutdown are the same as in every other adapter (see
//! ADAPTERS.md in the repository).
//!
//! With the feature `api`, [`api`] is the publish and administration HTTP API as a router to
//! nest under a prefix, behind the app's own admin check, with its OpenAPI 3.1 document.
//!
//! # Examples
//!
//! ```no_run
//! use axum::{Router, extract::Request, middleware::{self, Next}, response::Response};
//! use sse_axum::SseRouterExt;
//! use sse_hub::{Channel, Hub, Identity, Role, UserId};
//! use sse_tower::StreamConfig;
//!
//! /// The application's own auth: here a header, in real life a session or a token.
//! async fn auth(mut request: Request, next: Next) -> Response {
//!     let user = request
//!         .headers()
//!         .get("x-user")
//!         .and_then(|v| v.to_str().ok())
//!         .and_then(|v| UserId::new(v).ok());
//!     if let Some(user) = user {
//!         let identity = Identity::user(user).with_role(Role::from_static("member"));
//!         request.extensions_mut().insert(identity);
//!     }
//!     next.run(request).await
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let hub = Hub::new();
//!     let app = Router::new()
//!         .sse_stream(
//!             "/api/sse/stream",
//!             hub.clone(),
//!             StreamConfig::new([Channel::NOTIFICATIONS, Channel::TOASTS]),
//!         )
//!         .layer(middleware::from_fn(auth));
//!
//!     // A listen backlog of 1,024; request head limits, TCP keepalive, a write timeout and a
//!     // connection cap; at Ctrl-C, every stream ends with a final `retry:` and the server
//!     // returns within 5 seconds.
//!     let listener = sse_tower::server::bind("127.0.0.1:3000").await?;
//!     sse_axum::serve(listener, app)
//!         .with_graceful_shutdown(hub, async {
//!             let _ = tokio::signal::ctrl_c().await;
//!         })
//!         .await
//! }
//! ```

#[cfg(feature = "api")]
pub mod api;
mod error;
mod extract;
pub mod prelude;
mod router;
#[cfg(feature = "server")]
mod serve;

pub use error::SseRejection;
pub use extract::{LastEventId, SseHub};
pub use router::{AxumSse, SseRouterExt, stream};
#[cfg(feature = "server")]
pub use serve::{WithConnectInfo, serve};
pub use sse_hub::{
    self, Channel, EventType, Hub, Identity, Message, Permission, Role, SendReport, Target, UserId,
};
pub use sse_tower::{
    self, ChannelRule, ClientAddr, ForwardedHeader, IpRange, RateLimit, StreamConfig,
    TrustedProxies,
};
