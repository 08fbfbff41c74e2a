//! The open publish endpoint of the smaller axum examples, from the pieces of
//! `sse_tower::publish` (`sse_axum::api` is the whole publish and administration API, behind
//! an admin check, that the demo mounts).

use axum::{Json, body::Bytes, extract::State, http::HeaderMap};
use sse_axum::SseRejection;
use sse_hub::{Hub, SendReport};
use sse_tower::{error::Rejection, publish};

/// `POST` handler: the body is one message in the wire-format JSON; the answer is the
/// [`SendReport`] as JSON, or a refusal: 400 `invalid_message` with `"field"` whenever one
/// field is at fault, 409 `idempotency_conflict` for an idempotency key (`idempotencyKey`, or
/// the `Idempotency-Key` header) used for another message, 415 for a body that is not JSON,
/// 503 when the hub cannot take messages. A repeat under the same key answers the first
/// report with `"duplicate": true`.
pub async fn publish(
    State(hub): State<Hub>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<SendReport>, SseRejection> {
    publish::require_json(&headers)?;
    let message = publish::parse_message(&body)?;
    let message = publish::with_idempotency_header(message, &headers)?;
    let report = hub.send(message).await.map_err(Rejection::from)?;
    Ok(Json(report))
}
