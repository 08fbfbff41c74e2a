//! The demo application: every feature of the system in one axum app on an embedded hub.
//!
//! `cargo run --release -p examples --bin demo` serves it on <http://127.0.0.1:3000>. See the
//! repository README for its HTTP API with curl examples.

use std::time::Duration;

use axum::{
    Router, middleware,
    routing::{get, post},
};
use serde_json::json;
use sse_axum::{
    SseRouterExt,
    api::{self as sse_api, Api},
};
use sse_hub::{Channel, EventType, Hub, Message, Role};
use sse_tower::{ChannelRule, RateLimit, StreamConfig};

pub mod api;
pub mod assets;
pub mod auth;
pub mod banners;
pub mod guard;
pub mod users;

use auth::{Admin, TokenAuth};
use guard::{Hosts, LoginLimit};
use users::Users;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The hub.
    pub hub: Hub,
    /// The demo users.
    pub users: Users,
    /// The authenticator of the stream and the API.
    pub auth: TokenAuth,
    /// The Prometheus recorder's handle, when one is installed.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The host names the demo answers for (set by [`serve`] from its listening address).
    pub hosts: Hosts,
    /// Failed sign-ins per client address.
    pub login_limit: LoginLimit,
    /// Whether the live dashboard publishes its figures every 2 seconds.
    pub dashboard: bool,
    /// The banner board behind `/api/alerts`.
    pub banners: banners::Banners,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("hub", &self.hub)
            .field("users", &self.users.all().len())
            .finish_non_exhaustive()
    }
}

/// How the demo's hub is built: it announces who joins and leaves the chat.
pub fn hub_builder() -> sse_hub::HubBuilder {
    Hub::builder().presence_channels([Channel::CHAT])
}

/// The stream endpoint's configuration: every channel; `admin-actions` for admins; personal
/// channels for signed-in users; the rest open to anonymous visitors.
pub fn stream_config(auth: &TokenAuth) -> StreamConfig {
    let signed_in = ChannelRule::new().require_auth();
    StreamConfig::new(Channel::WELL_KNOWN)
        .channel_rule(
            Channel::ADMIN_ACTIONS,
            ChannelRule::new().roles([Role::from_static("admin")]),
        )
        .channel_rule(Channel::NOTIFICATIONS, signed_in.clone())
        .channel_rule(Channel::TOASTS, signed_in.clone())
        .channel_rule(Channel::CHAT, signed_in)
        .presence(true)
        .endpoint("stream")
        .rate_limit(RateLimit::new(120, Duration::from_secs(60)))
        .max_streams_per_user(20)
        .authenticator(auth.authenticator())
}

/// The longest ban the demo accepts: a year.
pub const MAX_BAN: Duration = Duration::from_secs(365 * 24 * 3600);

/// The application's router: the page, the stream, the publish and administration API of
/// `sse_axum::api` behind the demo's admin check, and the demo's own chat and sign-in.
pub fn app(state: AppState) -> Router {
    let config = stream_config(&state.auth);
    Router::new()
        .route("/", get(assets::index))
        .route("/app.js", get(assets::app_js))
        .route("/style.css", get(assets::style))
        .route("/sse-js/{file}", get(assets::sse_js))
        .route("/react", get(assets::react_redirect))
        .route("/react/", get(assets::react_index))
        .route("/react/{file}", get(assets::react_file))
        .sse_stream("/api/sse/stream", state.hub.clone(), config.clone())
        .nest(
            "/api/sse",
            Api::new(state.hub.clone(), sse_api::extractor::<Admin>())
                .presence(config)
                .max_ban(MAX_BAN)
                .into_router(),
        )
        .route("/api/login", post(api::login))
        .route("/api/logout", post(api::logout))
        .route("/api/me", get(api::me))
        .route("/api/demo-users", get(api::demo_users))
        .route("/api/chat/messages", post(api::chat_message))
        .route("/api/chat/typing", post(api::chat_typing))
        .route("/api/alerts", get(banners::list))
        .route("/api/alerts/invalidate", post(banners::invalidate))
        .route(
            "/api/alerts/{id}",
            axum::routing::put(banners::put).delete(banners::delete),
        )
        .route("/metrics", get(api::metrics))
        .layer(middleware::from_fn(guard::check_write))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::check_host,
        ))
        .with_state(state)
}

/// `url` with its password (and user name) replaced by `***`, for logs.
///
/// # Examples
///
/// ```
/// use examples::demo::redacted;
///
/// assert_eq!(redacted("redis://:hunter2@cache:6379/0"), "redis://***@cache:6379/0");
/// assert_eq!(redacted("redis://user:pw@cache"), "redis://***@cache");
/// assert_eq!(redacted("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
/// ```
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

/// The state for `users` on `hub`, without a metrics recorder.
pub fn state(hub: Hub, users: Users) -> AppState {
    AppState {
        auth: TokenAuth::new(users.clone(), hub.clock().clone()),
        hub,
        users,
        metrics: None,
        hosts: Hosts::Any,
        login_limit: LoginLimit::default(),
        dashboard: true,
        banners: banners::Banners::default(),
    }
}

/// Publishes the dashboard figures on `live-updates` every `period`, until the hub shuts down.
pub async fn dashboard(hub: Hub, period: Duration) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if hub.is_shutting_down() {
            return;
        }
        let stats = hub.stats();
        if stats.total_connections == 0 {
            continue;
        }
        let data = json!({
            "type": "metrics",
            "connections": stats.total_connections,
            "messagesPerMinute": stats.messages_per_minute,
            "delivered": stats.delivered,
        });
        let message = Message::new(Channel::LIVE_UPDATES, EventType::Data, data)
            .retryable(false)
            .coalesce_key("dashboard:metrics".parse().expect("a valid key"));
        // Nobody listening, or shutting down: the next tick tries again.
        let _ = hub.send(message).await;
    }
}

/// Serves the demo on `listener` with `sse_axum::serve` until `shutdown` resolves, then ends
/// every stream and returns once the connections closed (within 5 seconds).
pub async fn serve(
    listener: tokio::net::TcpListener,
    mut state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    state.hosts = Hosts::for_listener(listener.local_addr()?);
    let hub = state.hub.clone();
    if state.dashboard {
        tokio::spawn(dashboard(hub.clone(), Duration::from_secs(2)));
    }
    sse_axum::serve(listener, app(state))
        .with_graceful_shutdown(hub, shutdown)
        .await
}
