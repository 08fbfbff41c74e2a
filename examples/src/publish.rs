//! The publish endpoint shared by the axum examples: a wire-format message in, the send report
//! out.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;
use sse_core::{Hub, Message, error::SendError};

/// `POST` handler: the body is one message in the wire-format JSON; the answer is the
/// [`SendReport`](sse_core::SendReport) as JSON, or 400 with `{"error","message"}` (plus
/// `"field"` when validation names one), or 503 when the hub cannot take messages.
pub async fn publish(State(hub): State<Hub>, body: Bytes) -> Response {
    let message: Message = match serde_json::from_slice(&body) {
        Ok(message) => message,
        Err(err) => return error(StatusCode::BAD_REQUEST, "invalid_message", err.to_string()),
    };
    match hub.send(message).await {
        Ok(report) => Json(report).into_response(),
        Err(SendError::Invalid(err)) => (
            StatusCode::BAD_REQUEST,
            Json(json!({
                "error": "invalid_message",
                "message": err.to_string(),
                "field": err.field(),
            })),
        )
            .into_response(),
        // Shutting down, or the backplane failed.
        Err(err) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            err.to_string(),
        ),
    }
}

/// A JSON error response.
pub fn error(status: StatusCode, code: &str, message: String) -> Response {
    (status, Json(json!({ "error": code, "message": message }))).into_response()
}
