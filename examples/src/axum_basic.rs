//! The smallest complete axum application: an SSE endpoint, a publish endpoint, and the
//! application's own auth middleware feeding identities to both.
//!
//! Run it with `cargo run -p examples --bin axum_basic`, then:
//!
//! ```text
//! curl -N -H 'x-user: 1' 'http://127.0.0.1:3001/api/sse/stream?channels=notifications'
//! curl -X POST http://127.0.0.1:3001/api/sse/publish -H 'content-type: application/json' \
//!      -d '{"channel":"notifications","event":"notification","data":{"title":"Hi"},"target":"user-specific","targetUsers":[1]}'
//! ```

use axum::{
    Router,
    extract::Request,
    middleware::{self, Next},
    response::Response,
    routing::post,
};
use sse_axum::SseRouterExt;
use sse_hub::{Channel, Hub, Identity, Role, UserId};
use sse_tower::StreamConfig;

use crate::publish::publish;

/// The application: `GET /api/sse/stream` and `POST /api/sse/publish` on one hub.
pub fn app(hub: Hub) -> Router {
    let config = StreamConfig::new([Channel::NOTIFICATIONS, Channel::TOASTS, Channel::ALERTS]);
    Router::new()
        .sse_stream("/api/sse/stream", hub.clone(), config)
        .route("/api/sse/publish", post(publish))
        .layer(middleware::from_fn(auth))
        .with_state(hub)
}

/// The application's own auth. A real application checks a session or a token here; this one
/// trusts an `x-user` header (and `x-roles`, comma-separated), which is enough to show where
/// the identity comes from.
async fn auth(mut request: Request, next: Next) -> Response {
    if let Some(identity) = identity_from(request.headers()) {
        request.extensions_mut().insert(identity);
    }
    next.run(request).await
}

fn identity_from(headers: &axum::http::HeaderMap) -> Option<Identity> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let user = UserId::new(header("x-user")?).ok()?;
    let roles = header("x-roles").unwrap_or_default();
    Some(Identity::user(user).with_roles(roles.split(',').filter_map(|r| Role::new(r.trim()).ok())))
}
