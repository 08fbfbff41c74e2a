//! The publish endpoint shared by the axum examples: a wire-format message in, the send report
//! out.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::json;
use sse_hub::{Hub, IdempotencyKey, Message, error::SendError};

/// `POST` handler: the body is one message in the wire-format JSON; the answer is the
/// [`SendReport`](sse_hub::SendReport) as JSON, or 400 with `{"error","message","field"}`
/// (`field` whenever one field is at fault), 409 `idempotency_conflict` for an idempotency key
/// (`idempotencyKey`, or the `Idempotency-Key` header) used for another message, or 503 when
/// the hub cannot take messages. A repeat under the same key answers the first report with
/// `"duplicate": true`.
pub async fn publish(State(hub): State<Hub>, headers: HeaderMap, body: Bytes) -> Response {
    let message = match parse_message(&body).and_then(|m| with_idempotency_header(m, &headers)) {
        Ok(message) => message,
        Err(refusal) => return refusal.into_response(),
    };
    match hub.send(message).await {
        Ok(report) => Json(report).into_response(),
        Err(err) => Refusal::from(err).into_response(),
    }
}

/// Why a publish was refused: the status and the JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// The HTTP status.
    pub status: StatusCode,
    /// The JSON body: `{"error","message"}`, plus `"field"` when one field is at fault.
    pub body: serde_json::Value,
}

impl Refusal {
    fn invalid(message: String, field: Option<&str>) -> Self {
        let mut body = json!({ "error": "invalid_message", "message": message });
        if let Some(field) = field {
            body["field"] = json!(field);
        }
        Self {
            status: StatusCode::BAD_REQUEST,
            body,
        }
    }
}

impl From<SendError> for Refusal {
    fn from(err: SendError) -> Self {
        match err {
            SendError::Invalid(err) => Self::invalid(err.to_string(), Some(err.field())),
            SendError::IdempotencyConflict { .. } => Self {
                status: StatusCode::CONFLICT,
                body: json!({ "error": "idempotency_conflict", "message": err.to_string() }),
            },
            // Shutting down, or the backplane failed.
            other => Self {
                status: StatusCode::SERVICE_UNAVAILABLE,
                body: json!({ "error": "unavailable", "message": other.to_string() }),
            },
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// Applies the `Idempotency-Key` header to `message`: the header gives the key when the body
/// has none; both must agree when both are given.
///
/// # Errors
///
/// A 400 refusal naming `idempotencyKey` for an invalid header or one that differs from the
/// body's key.
pub fn with_idempotency_header(message: Message, headers: &HeaderMap) -> Result<Message, Refusal> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(message);
    };
    let invalid = |why: String| Refusal::invalid(why, Some("idempotencyKey"));
    let text = value
        .to_str()
        .map_err(|_| invalid("the Idempotency-Key header is not visible ASCII".to_owned()))?;
    let key: IdempotencyKey = text
        .parse()
        .map_err(|err: sse_hub::error::NameError| invalid(err.to_string()))?;
    match message.idempotency() {
        None => Ok(message.idempotency_key(key)),
        Some(own) if *own == key => Ok(message),
        Some(own) => Err(invalid(format!(
            "the Idempotency-Key header ({text:?}) differs from idempotencyKey ({:?})",
            own.as_str()
        ))),
    }
}

/// Reads one message in the wire-format JSON. A refusal names the field at fault, for type
/// errors too (`"priority": -1`, `"target": "everyone"`): `field` is the top-level field, and
/// the message starts with it (`priority: invalid value: ...`).
///
/// # Errors
///
/// A 400 [`Refusal`] for a body that is not a valid message.
pub fn parse_message(body: &[u8]) -> Result<Message, Refusal> {
    let mut json = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut json).map_err(|err| {
        // A field is at fault for data errors only, not for a body that is not JSON at all.
        let data_error = err.inner().classify() == serde_json::error::Category::Data;
        let field = err
            .path()
            .iter()
            .find_map(|segment| match segment {
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                _ => None,
            })
            .filter(|_| data_error);
        let message = match &field {
            Some(field) => format!("{field}: {}", err.inner()),
            None => err.inner().to_string(),
        };
        Refusal::invalid(message, field.as_deref())
    })
}

/// A JSON error response.
pub fn error(status: StatusCode, code: &str, message: String) -> Response {
    (status, Json(json!({ "error": code, "message": message }))).into_response()
}
