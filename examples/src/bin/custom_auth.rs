//! `cargo run -p examples --bin custom_auth`: see the `custom_auth` module of the examples crate.

use std::net::SocketAddr;

use sse_core::Hub;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let hub = Hub::new();
    let addr = examples::listen_addr("127.0.0.1:3004");
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("custom_auth listening on http://{}", listener.local_addr()?);
    let app = examples::custom_auth::app(hub.clone());
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
