//! The conformance suite of the framework adapters: the same scenarios, over real TCP on
//! `127.0.0.1` with a real SSE client (`reqwest-eventsource`), against every framework.
//!
//! An adapter's tests implement [`Harness`] (start the framework with the endpoint mounted at
//! [`STREAM_PATH`], the host application's own auth middleware, and the client address from
//! the framework's connection info; [`Server::serve`] does the rest) and invoke
//! [`conformance_tests!`], which expands to one `#[tokio::test]` per scenario. A scenario that
//! passes for one framework and fails for another is a bug in that adapter. ADAPTERS.md at the
//! repository root is the contract these scenarios check.
//!
//! The client ([`client::open`]) hands what `reqwest-eventsource` decodes to the core test
//! kit, so the scenarios assert with [`sse_hub::testing::Events`]. Other tests that drive a
//! server over TCP (the examples') use the same [`Server`] and client.
//!
//! # The host application's auth
//!
//! Each harness installs its framework's natural middleware (axum `middleware::from_fn`, a warp
//! filter, a poem middleware, a tower `map_request`) that turns the test headers into an
//! [`Identity`] with [`identity_from_headers`]: `x-user` (the user id), `x-roles` and
//! `x-permissions` (comma-separated). Requests without `x-user` are anonymous.

use std::{future::Future, time::Duration};

use http::HeaderMap;
use sse_hub::{Hub, Identity, Permission, Role, UserId};
use sse_tower::StreamConfig;

pub mod client;
pub mod scenarios;
mod server;

pub use server::{Server, Shutdown};

/// Where every harness mounts the SSE endpoint.
pub const STREAM_PATH: &str = "/api/sse/stream";

/// How long any single wait in a scenario may take before it fails.
pub const WAIT: Duration = Duration::from_secs(5);

/// Starts one framework for a scenario.
pub trait Harness {
    /// The framework's name, for failure messages.
    const NAME: &'static str;

    /// Serves `config`'s endpoint from `hub` at [`STREAM_PATH`] on `127.0.0.1:0` (usually with
    /// [`Server::serve`]), behind the framework's own auth middleware built on
    /// [`identity_from_headers`], with the client address taken from the framework's connection
    /// info.
    fn start(hub: Hub, config: StreamConfig) -> impl Future<Output = Server> + Send;
}

/// The host application's stand-in auth: `x-user`, `x-roles`, `x-permissions` to an
/// [`Identity`]; `None` without `x-user`.
pub fn identity_from_headers(headers: &HeaderMap) -> Option<Identity> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let user = UserId::new(text("x-user")?).ok()?;
    let list = |name: &str| {
        text(name)
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    Some(
        Identity::user(user)
            .with_roles(list("x-roles").iter().filter_map(|r| Role::new(r).ok()))
            .with_permissions(
                list("x-permissions")
                    .iter()
                    .filter_map(|p| Permission::new(p).ok()),
            ),
    )
}

/// Expands to one `#[tokio::test]` per scenario for a [`Harness`].
///
/// ```text
/// sse_conformance::conformance_tests!(AxumHarness);
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($harness:ty) => {
        $crate::conformance_tests!(@each $harness;
            headers_and_connected_event,
            delivery_by_channel,
            targeting_side_by_side,
            refusals_have_statuses_and_json_bodies,
            reconnect_with_last_event_id,
            heartbeats,
            disconnect_cleanup,
            shutdown_ends_streams,
        );
    };
    (@each $harness:ty; $($scenario:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                $crate::scenarios::$scenario::<$harness>().await;
            }
        )*
    };
}
