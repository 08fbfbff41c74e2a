//! The smallest complete warp application: an SSE endpoint, a publish endpoint, and the
//! application's own auth filter feeding identities to the stream.
//!
//! Run it with `cargo run -p examples --bin warp_basic`, then:
//!
//! ```text
//! curl -N -H 'x-user: 1' 'http://127.0.0.1:3002/api/sse/stream?channels=notifications'
//! curl -X POST http://127.0.0.1:3002/api/sse/publish -H 'content-type: application/json' \
//!      -d '{"channel":"notifications","event":"notification","data":{"title":"Hi"},"target":"user-specific","targetUsers":[1]}'
//! ```

use bytes::Bytes;
use sse_warp::{Channel, Hub, Identity, Role, StreamConfig, UserId};
use warp::{Filter, Rejection, Reply, reply::Response};

use sse_tower::error::Rejection as Refusal;

/// The largest publish body read. The hub's own payload limit (64 KiB by default) decides
/// what is too large; this only bounds what one request can make the server buffer.
const MAX_PUBLISH_BODY: u64 = 128 * 1024;

/// The application: `GET /api/sse/stream` and `POST /api/sse/publish` on one hub.
pub fn app(hub: Hub) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    let config = StreamConfig::new([Channel::NOTIFICATIONS, Channel::TOASTS, Channel::ALERTS]);
    let stream = warp::path!("api" / "sse" / "stream").and(sse_warp::stream_with_identity(
        hub.clone(),
        config,
        auth(),
    ));
    // A real application also decides who may publish; this one lets anyone.
    let publish = warp::path!("api" / "sse" / "publish")
        .and(warp::post())
        .and(warp::body::content_length_limit(MAX_PUBLISH_BODY))
        .and(warp::body::bytes())
        .then(move |body: Bytes| publish(hub.clone(), body));
    stream.or(publish)
}

/// The application's own auth. A real application checks a session or a token here; this one
/// trusts an `x-user` header (and `x-roles`, comma-separated), which is enough to show where
/// the identity comes from. Without `x-user` the caller is anonymous, and the stream endpoint
/// decides whether that is enough.
fn auth() -> impl Filter<Extract = (Option<Identity>,), Error = Rejection> + Clone {
    warp::header::optional::<String>("x-user")
        .and(warp::header::optional::<String>("x-roles"))
        .map(|user: Option<String>, roles: Option<String>| {
            let user = UserId::new(user?).ok()?;
            let roles = roles.unwrap_or_default();
            Some(
                Identity::user(user)
                    .with_roles(roles.split(',').filter_map(|r| Role::new(r.trim()).ok())),
            )
        })
}

/// The body is one message in the wire-format JSON; the answer is the
/// [`SendReport`](sse_warp::SendReport) as JSON, or the refusal of
/// `sse_tower::publish::parse_message` or of the send (`From<SendError>`): 400 with
/// `{"error","message","field"}`, 409 for a reused idempotency key, 503 when the hub cannot
/// take messages.
async fn publish(hub: Hub, body: Bytes) -> Response {
    let sent = match sse_tower::publish::parse_message(&body) {
        Ok(message) => hub.send(message).await.map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    match sent {
        Ok(report) => warp::reply::json(&report).into_response(),
        Err(refusal) => refusal.into_response::<Bytes>().into_response(),
    }
}
