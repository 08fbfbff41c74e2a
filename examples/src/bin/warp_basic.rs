//! `cargo run -p examples --bin warp_basic`: see the `warp_basic` module of the examples crate.

use sse_warp::Hub;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let hub = Hub::new();
    let addr = examples::listen_addr("127.0.0.1:3002");
    let listener = sse_tower::server::bind(&addr).await?;
    println!("warp_basic listening on http://{}", listener.local_addr()?);
    let app = examples::warp_basic::app(hub.clone());
    warp::serve(app)
        .incoming(listener)
        .graceful(async move {
            examples::shutdown_signal().await;
            // Open streams end here, so the graceful shutdown does not wait on them forever.
            hub.shutdown();
        })
        .run()
        .await;
    Ok(())
}
