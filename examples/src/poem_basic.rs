//! The smallest complete poem application: an SSE endpoint, a publish endpoint, and the
//! application's own auth middleware feeding identities to the stream.
//!
//! Run it with `cargo run -p examples --bin poem_basic`, then:
//!
//! ```text
//! curl -N -H 'x-user: 1' 'http://127.0.0.1:3003/api/sse/stream?channels=notifications'
//! curl -X POST http://127.0.0.1:3003/api/sse/publish -H 'content-type: application/json' \
//!      -d '{"channel":"notifications","event":"notification","data":{"title":"Hi"},"target":"user-specific","targetUsers":[1]}'
//! ```

use poem::{
    Body, Endpoint, EndpointExt, Request, Response, Route,
    error::ReadBodyError,
    handler,
    http::{StatusCode, header},
    post,
    web::Data,
};
use serde_json::json;

use sse_poem::{Channel, Hub, Identity, Role, SseEndpoint, StreamConfig, UserId};
use sse_tower::error::Rejection as Refusal;

/// The largest publish body read. The hub's own payload limit (64 KiB by default) decides
/// what is too large; this only bounds what one request can make the server buffer.
const MAX_PUBLISH_BODY: usize = 128 * 1024;

/// The application: `GET /api/sse/stream` and `POST /api/sse/publish` on one hub.
pub fn app(hub: Hub) -> impl Endpoint {
    let config = StreamConfig::new([Channel::NOTIFICATIONS, Channel::TOASTS, Channel::ALERTS]);
    Route::new()
        .at("/api/sse/stream", SseEndpoint::new(hub.clone(), config))
        // A real application also decides who may publish; this one lets anyone.
        .at("/api/sse/publish", post(publish))
        .data(hub)
        .around(|next, mut request: Request| async move {
            if let Some(identity) = identity_from(&request) {
                request.set_data(identity);
            }
            next.call(request).await
        })
}

/// The application's own auth. A real application checks a session or a token here; this one
/// trusts an `x-user` header (and `x-roles`, comma-separated), which is enough to show where
/// the identity comes from. Without `x-user` the caller is anonymous, and the stream endpoint
/// decides whether that is enough.
fn identity_from(request: &Request) -> Option<Identity> {
    let user = UserId::new(request.header("x-user")?).ok()?;
    let roles = request.header("x-roles").unwrap_or_default();
    Some(Identity::user(user).with_roles(roles.split(',').filter_map(|r| Role::new(r.trim()).ok())))
}

/// The body is one message in the wire-format JSON; the answer is the
/// [`SendReport`](sse_poem::SendReport) as JSON, or the refusal of
/// `sse_tower::publish::parse_message` or of the send (`From<SendError>`): 400 with
/// `{"error","message","field"}`, 409 for a reused idempotency key, 503 when the hub cannot
/// take messages.
#[handler]
async fn publish(Data(hub): Data<&Hub>, body: Body) -> Response {
    let body = match body.into_bytes_limit(MAX_PUBLISH_BODY).await {
        Ok(body) => body,
        Err(ReadBodyError::PayloadTooLarge) => {
            return json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                &json!({
                    "error": "payload_too_large",
                    "message": format!("the body is over {MAX_PUBLISH_BODY} bytes"),
                }),
            );
        }
        Err(err) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                &json!({ "error": "invalid_message", "message": err.to_string() }),
            );
        }
    };
    let sent = match sse_tower::publish::parse_message(&body) {
        Ok(message) => hub.send(message).await.map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    match sent {
        Ok(report) => json_response(StatusCode::OK, &report),
        Err(refusal) => {
            // Status, headers (`content-type`, `Retry-After` for a 503) and JSON body.
            let refusal = refusal.into_response::<bytes::Bytes>();
            let mut response = Response::builder().status(refusal.status());
            for (name, value) in refusal.headers() {
                response = response.header(name, value);
            }
            response.body(refusal.into_body())
        }
    }
}

fn json_response(status: StatusCode, body: &impl serde::Serialize) -> Response {
    let body = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
}
