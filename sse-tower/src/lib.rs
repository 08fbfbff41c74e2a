//! A tower [`Service`](tower_service::Service) and [`Layer`](tower_layer::Layer) that turn an
//! HTTP request into an authenticated, rate-limited, heartbeat-keeping Server-Sent Events
//! stream from an [`sse_hub::Hub`], for every tower-based framework.
//!
//! # How a request becomes a stream
//!
//! [`SseService`] reads the request (GET only; `?channels=a,b` or repeated `channel=`; a
//! `Last-Event-ID` header or `lastEventId` query parameter), checks the connection rate and
//! stream caps, authenticates it with the configured [`Authenticator`](sse_hub::Authenticator)
//! (by default the [`Identity`](sse_hub::Identity) the application's middleware put in the
//! request extensions), checks roles, permissions and channel rules, and opens a connection on
//! the hub. Refusals are HTTP statuses with a JSON body ([`error::Rejection`]); a stream is
//! never opened and then failed.
//!
//! The response is `200 OK` with `content-type: text/event-stream`, `cache-control: no-cache,
//! no-transform` and `x-accel-buffering: no`, and an [`SseBody`] that writes:
//!
//! 1. `retry: <ms>`, the reconnection hint;
//! 2. the `connected` event (connection id, channels, user, heartbeat interval, whether the
//!    client resumed);
//! 3. what the client missed (after `Last-Event-ID`), the persistent messages it is entitled
//!    to, or a `refresh` event with `"reason":"history-gap"`;
//! 4. live messages, several frames per write when they queue up.
//!
//! ## Heartbeats and lifetimes
//!
//! One timer per endpoint ticks at the heartbeat interval, encodes one `heartbeat` frame, and
//! wakes the streams; a stream that wrote nothing since the last tick writes that frame. No
//! stream has a timer or task of its own. A stream whose
//! [`connection_timeout`](StreamConfig::connection_timeout) has passed ends at the next tick
//! with a `retry:`, so the client comes back.
//!
//! ## Shutdown
//!
//! [`Hub::shutdown`](sse_hub::Hub::shutdown) ends every stream after a final `retry:`, so a
//! server's graceful shutdown completes promptly.
//!
//! ## Observability
//!
//! `tracing` events under the target `sse_tower` with the fields `connection_id`, `user`,
//! `channels`, `status`, `error` and `outcome` (`opened`, `rejected`, `closed`); with the
//! default `metrics` feature, the counters `sse_connections_opened_total`,
//! `sse_connections_rejected_total{status}`, `sse_connections_closed_total` and the gauge
//! `sse_connections_active`. No subscriber or exporter is installed.
//!
//! # Examples
//!
//! Serving an endpoint with hyper:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use sse_hub::{Channel, Hub};
//! use sse_tower::{ClientAddr, RateLimit, SseService, StreamConfig};
//! use tower::ServiceExt;
//!
//! let hub = Hub::new();
//! let service = SseService::new(
//!     hub.clone(),
//!     StreamConfig::new([Channel::NOTIFICATIONS, Channel::TOASTS])
//!         .rate_limit(RateLimit::new(50, Duration::from_secs(60))),
//! );
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! loop {
//!     let (stream, peer) = listener.accept().await?;
//!     let service = service.clone().map_request(move |mut request: http::Request<_>| {
//!         request.extensions_mut().insert(ClientAddr(peer));
//!         request
//!     });
//!     tokio::spawn(async move {
//!         let io = hyper_util::rt::TokioIo::new(stream);
//!         let service = hyper_util::service::TowerToHyperService::new(service);
//!         let _ = hyper::server::conn::http1::Builder::new()
//!             .serve_connection(io, service)
//!             .await;
//!     });
//! }
//! # }
//! ```

pub mod auth;
mod body;
mod client_addr;
mod config;
pub mod error;
mod future;
mod heartbeat;
mod layer;
mod limit;
#[cfg(feature = "metrics")]
pub mod metrics;
mod observe;
mod policy;
pub mod prelude;
pub mod publish;
mod request;
mod route;
#[cfg(feature = "server")]
pub mod server;
mod service;
mod write_timeout;

pub use body::SseBody;
pub use client_addr::{ClientAddr, ForwardedHeader, IpRange, TrustedProxies};
pub use config::{ChannelRule, RateLimit, StreamConfig};
pub use future::ResponseFuture;
pub use layer::SseLayer;
pub use request::last_event_id;
pub use route::{RouteBody, RouteFuture, SseRoute};
pub use service::SseService;
pub use sse_hub;
pub use write_timeout::WriteTimeout;
