//! `cargo run -p examples --bin custom_auth`: see the `custom_auth` module of the examples crate.

use sse_hub::Hub;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let hub = Hub::new();
    let app = examples::custom_auth::app(hub.clone());
    examples::serve_axum("custom_auth", app, hub, "127.0.0.1:3004").await
}
