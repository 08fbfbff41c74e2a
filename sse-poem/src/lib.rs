//! The poem adapter of the universal SSE system: [`SseEndpoint`] serves the sse-tower stream
//! endpoint in a poem application, with the identity from the application's own middleware and
//! the client address from poem's connection info.
//!
//! # How a poem request becomes a stream
//!
//! The adapter translates and nothing more. [`SseEndpoint`] is a poem
//! [`Endpoint`](poem::Endpoint): it gives the request's method, URI, headers and request data
//! to [`SseService::respond`](sse_tower::SseService::respond), and turns the answer into a poem
//! response whose body poem writes frame by frame. Parsing the channels and the
//! `Last-Event-ID`, rate limits, stream caps, authentication, channel rules, heartbeats and the
//! wire format are sse-tower's and sse-hub's, so a poem client sees byte for byte what an axum,
//! warp or plain hyper client sees.
//!
//! ## Identity
//!
//! By default the stream is opened for the [`Identity`] found in the request data: the
//! application's poem middleware authenticates the request its own way and stores the result
//! with [`Request::set_data`](poem::Request::set_data) (or `extensions_mut().insert`, which is
//! the same map). A request without one is anonymous. The whole request data reaches sse-tower,
//! so a custom [`Authenticator`](sse_hub::Authenticator) set with
//! [`StreamConfig::authenticator`] can read whatever else the middleware stored.
//!
//! ## Client address
//!
//! Rate limits and per-IP caps key on the client address, taken from poem's
//! [`remote_addr`](poem::Request::remote_addr) when it is a socket address (over a Unix socket
//! there is none, and the limits apply per user and globally). Behind a reverse proxy, name the
//! proxy with [`StreamConfig::trusted_proxies`] so that `Forwarded` / `X-Forwarded-For` count.
//! A [`ClientAddr`] that the application stored in the request data itself wins.
//!
//! ## Methods and refusals
//!
//! Mount the endpoint with [`Route::at`](poem::Route::at) directly rather than behind
//! `poem::get(...)`, so that other methods get sse-tower's `405` with `Allow: GET` and a JSON
//! body. Every refusal (`400`, `401`, `403`, `404`, `405`, `406`, `429`, `503`) is a complete
//! response with `{"error","message"}`; the endpoint never returns `Err`, so poem's error
//! handlers never rewrite it.
//!
//! ## Clients that go away
//!
//! A stream's connection is unregistered, and its places under the stream caps freed, when its
//! body is dropped. poem's `Server` (3.1) keeps a connection whose client hung up until its
//! response writes again, which for an idle stream is the next heartbeat, up to two heartbeat
//! intervals later. Wrap the listener in [`Hangup`] and the stream ends as soon as the client
//! leaves.
//!
//! ## Shutdown
//!
//! [`Hub::shutdown`] ends every stream after a final `retry:`, so poem's
//! `Server::run_with_graceful_shutdown` completes as soon as the streams are written out: call it
//! from the shutdown signal, as below.
//!
//! # Examples
//!
//! A poem application with its own header-based auth, serving the stream at
//! `/api/sse/stream`:
//!
//! ```no_run
//! use poem::{Endpoint, EndpointExt, Request, Route, Server, listener::TcpListener};
//! use sse_poem::{Channel, Hangup, Hub, Identity, SseEndpoint, StreamConfig, UserId};
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let hub = Hub::new();
//!     let app = Route::new()
//!         .at(
//!             "/api/sse/stream",
//!             SseEndpoint::new(
//!                 hub.clone(),
//!                 StreamConfig::new([Channel::NOTIFICATIONS, Channel::TOASTS]),
//!             ),
//!         )
//!         // The application's own auth: a trusted header stands in for a session lookup.
//!         .around(|next, mut req: Request| async move {
//!             if let Some(user) = req.header("x-user").and_then(|u| UserId::new(u).ok()) {
//!                 req.set_data(Identity::user(user));
//!             }
//!             next.call(req).await
//!         });
//!
//!     let signal = {
//!         let hub = hub.clone();
//!         async move {
//!             let _ = tokio::signal::ctrl_c().await;
//!             hub.shutdown();
//!         }
//!     };
//!     Server::new(Hangup::new(TcpListener::bind("127.0.0.1:3000")))
//!         .run_with_graceful_shutdown(app, signal, None)
//!         .await
//! }
//! ```
//!
//! Publishing from anywhere in the application (a handler, a background task) goes through the
//! same hub:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use serde_json::json;
//! use sse_poem::{Channel, EventType, Hub, Message};
//!
//! let hub = Hub::new();
//! let report = hub
//!     .send(Message::new(Channel::TOASTS, EventType::Toast, json!({"text": "Saved"})))
//!     .await?;
//! assert_eq!(report.sent, 0);
//! # Ok(())
//! # }
//! ```

mod endpoint;
mod hangup;
pub mod prelude;

pub use endpoint::SseEndpoint;
pub use hangup::Hangup;
pub use sse_hub::{
    self, Channel, EventType, Hub, Identity, Message, Permission, Role, SendReport, Target, UserId,
};
pub use sse_tower::{
    self, ChannelRule, ClientAddr, ForwardedHeader, IpRange, RateLimit, StreamConfig,
    TrustedProxies,
};
