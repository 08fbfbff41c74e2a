//! The warp adapter of the universal SSE system: the sse-tower streaming endpoint as a warp
//! [`Filter`](warp::Filter), with the identity taken from the application's own auth filter and
//! the client address from warp's connection info.
//!
//! # The model
//!
//! [`stream`] and [`stream_with_identity`] build a filter that answers every request reaching
//! it: it hands the request (method, path and query, headers, client address, identity) to
//! [`SseService::respond`](sse_tower::SseService::respond) and turns the answer into a warp
//! reply unchanged. The adapter parses, encodes and decides nothing: channels, `Last-Event-ID`,
//! limits, auth rules, heartbeats and the wire format are sse-tower's and sse-hub's, and are
//! the same under every framework.
//!
//! The filter extracts a [`warp::reply::Response`] and never rejects: a refused request gets
//! sse-tower's status (`401`, `403`, `404`, `405`, `406`, `429`, `503`) with its
//! `{"error","message"}` body, not a warp rejection that a later `or` or `recover` would turn
//! into something else. Mount it behind your own path filter, as the last filter of its route.
//!
//! ## Identity
//!
//! warp filters cannot write request extensions, so the application's auth filter is given to
//! [`stream_with_identity`]: it yields `Option<Identity>` (`None` for an anonymous caller) and
//! sse-tower's default authenticator reads it. Yield `None` rather than rejecting when
//! credentials are missing, so that an endpoint requiring auth answers with sse-tower's `401`.
//! [`stream`] takes the identity from the request extensions instead, for an `Identity` a tower
//! layer around [`warp::service`] put there, or leaves it to an
//! [`Authenticator`](sse_hub::Authenticator) configured on the [`StreamConfig`].
//!
//! ## Slow clients, reconnect and replay
//!
//! Nothing warp-specific: each connection has a bounded queue in the [`Hub`], and a client that
//! reconnects with `Last-Event-ID` (or `?lastEventId=`) receives what it missed, as described in
//! [`sse_hub`] and [`sse_tower`].
//!
//! ## Shutdown
//!
//! A warp server shutting down gracefully waits for every open response, and an SSE stream
//! does not end on its own: call [`Hub::shutdown`] in the shutdown signal. It ends every
//! stream after a final `retry:`, so the server exits promptly and clients reconnect to the
//! next instance.
//!
//! # Examples
//!
//! A stream for signed-in users at `/api/sse/stream`, beside the application's other routes:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use http_body_util::BodyExt;
//! use sse_warp::{Channel, Hub, Identity, StreamConfig, UserId};
//! use warp::Filter;
//!
//! // The application's auth: a user id in `x-user`, anonymous without one.
//! let auth = warp::header::optional::<String>("x-user")
//!     .map(|user: Option<String>| user.and_then(|id| UserId::new(id).ok()).map(Identity::user));
//!
//! let hub = Hub::new();
//! let config = StreamConfig::new([Channel::NOTIFICATIONS, Channel::TOASTS]).require_auth(true);
//! let sse = warp::path!("api" / "sse" / "stream")
//!     .and(sse_warp::stream_with_identity(hub.clone(), config, auth));
//! let routes = sse.clone().or(warp::path!("health").map(|| "ok"));
//!
//! let response = warp::test::request()
//!     .path("/api/sse/stream?channels=toasts")
//!     .header("x-user", "42")
//!     .filter(&sse)
//!     .await
//!     .unwrap();
//! assert_eq!(response.status(), 200);
//! assert_eq!(response.headers()["content-type"], "text/event-stream");
//! let mut body = response.into_body();
//! let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
//! assert!(first.starts_with(b"retry: 3000\n\nevent: connected\n"));
//!
//! let refused = warp::test::request()
//!     .path("/api/sse/stream")
//!     .reply(&routes)
//!     .await;
//! assert_eq!(refused.status(), 401);
//! assert_eq!(
//!     refused.body(),
//!     r#"{"error":"unauthorized","message":"authentication required"}"#
//! );
//! # }
//! ```
//!
//! Serving it, with the hub's shutdown in the graceful-shutdown signal:
//!
//! ```no_run
//! # #[tokio::main]
//! # async fn main() {
//! # async fn shutdown_requested() {}
//! use sse_warp::{Channel, Hub, StreamConfig};
//! use warp::Filter;
//!
//! let hub = Hub::new();
//! let routes = warp::path!("api" / "sse" / "stream")
//!     .and(sse_warp::stream(hub.clone(), StreamConfig::new([Channel::SYSTEM])));
//! warp::serve(routes)
//!     .bind(([127, 0, 0, 1], 3000))
//!     .await
//!     .graceful(async move {
//!         shutdown_requested().await;
//!         hub.shutdown();
//!     })
//!     .run()
//!     .await;
//! # }
//! ```

mod filter;
pub mod prelude;
mod reply;

pub use filter::{stream, stream_with_identity};
pub use sse_hub::{
    self, Channel, EventType, Hub, Identity, Message, Permission, Role, SendReport, Target, UserId,
};
pub use sse_tower::{
    self, ChannelRule, ClientAddr, ForwardedHeader, IpRange, RateLimit, StreamConfig,
    TrustedProxies,
};
