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
pub mod readme;
pub mod warp_basic;

/// The address a binary listens on: the `ADDR` environment variable, or `default`.
pub fn listen_addr(default: &str) -> String {
    std::env::var("ADDR").unwrap_or_else(|_| default.to_owned())
}

/// Serves an axum example app on `ADDR` (or `default_addr`) with `sse_axum::serve` until
/// Ctrl-C or SIGTERM, then ends every stream of `hub` and returns once the connections closed
/// (within 5 seconds).
///
/// # Errors
///
/// When the address cannot be bound.
pub async fn serve_axum(
    name: &str,
    app: axum::Router,
    hub: sse_hub::Hub,
    default_addr: &str,
) -> std::io::Result<()> {
    let listener = sse_tower::server::bind(listen_addr(default_addr)).await?;
    println!("{name} listening on http://{}", listener.local_addr()?);
    sse_axum::serve(listener, app)
        .with_graceful_shutdown(hub, shutdown_signal())
        .await
}

/// Completes at Ctrl-C (SIGINT) or, on Unix, SIGTERM: what a terminal and a process manager
/// (systemd, Kubernetes, Docker) send to stop a server.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
