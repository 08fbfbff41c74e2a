//! `cargo run -p examples --bin axum_basic`: see the `axum_basic` module of the examples crate.

use std::net::SocketAddr;

use sse_core::Hub;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let hub = Hub::new();
    let addr = examples::listen_addr("127.0.0.1:3001");
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("axum_basic listening on http://{}", listener.local_addr()?);
    let app = examples::axum_basic::app(hub.clone());
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = tokio::signal::ctrl_c().await;
        hub.shutdown();
    })
    .await
}
