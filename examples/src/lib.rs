//! Example applications for the universal SSE system.
//!
//! Each module holds an `app()` that its binary serves and its smoke test drives over TCP:
//!
//! - [`demo`]: the demo application (`cargo run --release -p examples --bin demo`): every
//!   feature on an embedded hub, with a browser page built on `sse-js`;
//! - [`axum_basic`]: an axum app with its own auth middleware, a stream and a publish endpoint;
//! - [`custom_auth`]: a hand-written bearer-token `Authenticator` and a role-to-permission
//!   `PermissionResolver` behind an analytics endpoint;
//! - [`warp_basic`]: a warp app with its own auth filter, a stream and a publish endpoint;
//! - [`poem_basic`]: a poem app with its own auth middleware, a stream and a publish endpoint.

pub mod axum_basic;
pub mod custom_auth;
pub mod demo;
pub mod poem_basic;
pub mod publish;
pub mod warp_basic;

/// The address a binary listens on: the `ADDR` environment variable, or `default`.
pub fn listen_addr(default: &str) -> String {
    std::env::var("ADDR").unwrap_or_else(|_| default.to_owned())
}

/// Serves an axum example app on `ADDR` (or `default_addr`) until Ctrl-C, then ends every stream
/// of `hub` so the graceful shutdown completes.
///
/// # Errors
///
/// When the address cannot be bound or the server fails.
pub async fn serve_axum(
    name: &str,
    app: axum::Router,
    hub: sse_core::Hub,
    default_addr: &str,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen_addr(default_addr)).await?;
    println!("{name} listening on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = tokio::signal::ctrl_c().await;
        hub.shutdown();
    })
    .await
}
