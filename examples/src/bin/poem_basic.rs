//! `cargo run -p examples --bin poem_basic`: see the `poem_basic` module of the examples crate.

use poem::{Server, listener::TcpAcceptor};
use sse_poem::{Hangup, Hub};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let hub = Hub::new();
    let addr = examples::listen_addr("127.0.0.1:3003");
    let listener = sse_tower::server::bind(&addr).await?;
    println!("poem_basic listening on http://{}", listener.local_addr()?);
    let app = examples::poem_basic::app(hub.clone());
    // `Hangup` ends a stream as soon as its client leaves, rather than at its next heartbeat.
    Server::new_with_acceptor(Hangup::new(TcpAcceptor::from_tokio(listener)?))
        .run_with_graceful_shutdown(
            app,
            async move {
                examples::shutdown_signal().await;
                // Open streams end here, so the graceful shutdown does not wait on them forever.
                hub.shutdown();
            },
            None,
        )
        .await
}
