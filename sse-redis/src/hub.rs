//! Building a hub on the Redis backplane with its dispatcher running.

use std::sync::Arc;

use sse_hub::{Hub, HubBuilder};

use crate::RedisBackplane;

/// Builds a [`Hub`] on `backplane` from `builder` and spawns its dispatcher
/// ([`Hub::run_dispatcher`]), which delivers every entry of the shared stream to this
/// instance's connections. Returns once the dispatcher runs, so that the first send succeeds.
///
/// With a shared backplane the dispatcher must run for anything to be delivered, including
/// this instance's own sends: while it does not, [`Hub::send`] fails at once with
/// [`BackplaneError::Unavailable`](sse_hub::error::BackplaneError::Unavailable). This function
/// spawns it on the runtime the backplane was created on; it runs until
/// [`RedisBackplane::close`]. To drive it yourself instead, build the hub with
/// `Hub::builder().backplane(backplane)` and spawn `hub.run_dispatcher()`.
///
/// A backplane belongs to one hub: build one backplane per hub. The builder's own backplane,
/// if it has one, is replaced.
///
/// # Examples
///
/// ```no_run
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use serde_json::json;
/// use sse_hub::{Channel, EventType, Hub};
/// use sse_redis::{RedisBackplane, RedisConfig};
///
/// let backplane = RedisBackplane::connect("redis://127.0.0.1/", RedisConfig::default()).await?;
/// let hub = sse_redis::hub(
///     backplane.clone(),
///     Hub::builder().queue_capacity(512).reconnect_retry(Duration::from_secs(2)),
/// )
/// .await;
/// hub.broadcast_to_channel(Channel::SYSTEM, EventType::Broadcast, json!("hello")).await?;
/// backplane.close();
/// # Ok(()) }
/// ```
pub async fn hub(backplane: Arc<RedisBackplane>, builder: HubBuilder) -> Hub {
    let hub = builder.backplane(Arc::clone(&backplane) as _).build();
    let first_poll = backplane.take_first_poll();
    let dispatcher = hub.clone();
    backplane
        .runtime()
        .spawn(async move { dispatcher.run_dispatcher().await });
    if hub.announces_presence() {
        let presence = hub.clone();
        backplane
            .runtime()
            .spawn(async move { presence.run_presence(tokio::time::sleep).await });
    }
    if let Some(first_poll) = first_poll {
        // The dispatcher marks itself running before it first polls the backplane's stream.
        let _ = first_poll.await;
    }
    // The other instances reach this one, and see it, from now on.
    backplane
        .control_ready(backplane.config().publish_timeout)
        .await;
    hub
}
