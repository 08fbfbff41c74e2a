//! `cargo run -p examples --bin axum_basic`: see the `axum_basic` module of the examples crate.

use sse_hub::Hub;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let hub = Hub::new();
    let app = examples::axum_basic::app(hub.clone());
    examples::serve_axum("axum_basic", app, hub, "127.0.0.1:3001").await
}
