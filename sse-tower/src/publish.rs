//! The pieces of an HTTP publish endpoint, for any framework: read one message in the wire
//! format with errors that name the field at fault, apply an `Idempotency-Key` header, and
//! refuse bodies that are not JSON. A failed [`Hub::send`](sse_hub::Hub::send) becomes a
//! [`Rejection`] with `From<SendError>`.
//!
//! `sse_axum::api` (feature `api`) is a whole publish and administration API built on them.
//!
//! # Examples
//!
//! ```
//! use http::HeaderMap;
//! use sse_hub::Hub;
//! use sse_tower::{error::Rejection, publish};
//!
//! /// What a framework's handler does with the request's headers and body.
//! async fn handle(hub: &Hub, headers: &HeaderMap, body: &[u8]) -> Result<String, Rejection> {
//!     publish::require_json(headers)?;
//!     let message = publish::parse_message(body)?;
//!     let message = publish::with_idempotency_header(message, headers)?;
//!     let report = hub.send(message).await?;
//!     Ok(serde_json::to_string(&report).expect("a report serialises"))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let hub = Hub::new();
//! let mut headers = HeaderMap::new();
//! headers.insert("content-type", "application/json".parse().unwrap());
//! let refused = handle(&hub, &headers, br#"{"channel":"alerts","event":"alert","priority":-1}"#)
//!     .await
//!     .unwrap_err();
//! assert_eq!(refused.field(), Some("priority"));
//! assert!(refused.message().starts_with("priority: invalid value"));
//!
//! let sent = handle(&hub, &headers, br#"{"channel":"alerts","event":"alert","data":"hi"}"#).await;
//! assert!(sent.unwrap().contains(r#""sent":0"#));
//! # }
//! ```

use http::{HeaderMap, header};
use sse_hub::{IdempotencyKey, Message, error::NameError};

use crate::error::Rejection;

/// The header that carries an idempotency key.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Reads one message in the wire-format JSON. A refusal names the field at fault, for type
/// errors too (`"priority": -1`, `"target": "everyone"`): `field` is the top-level field, and
/// the message starts with it (`priority: invalid value: ...`). A body that is not JSON at all
/// names no field.
///
/// # Errors
///
/// 400 `invalid_message` ([`Rejection::invalid_message`]) for a body that is not a valid
/// message.
pub fn parse_message(body: &[u8]) -> Result<Message, Rejection> {
    let mut json = serde_json::Deserializer::from_slice(body);
    let message = serde_path_to_error::deserialize(&mut json).map_err(|err| {
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
        Rejection::invalid_message(message, field)
    })?;
    // Trailing characters after the message.
    json.end()
        .map_err(|err| Rejection::invalid_message(err.to_string(), None::<String>))?;
    Ok(message)
}

/// Applies the `Idempotency-Key` header to `message`: the header gives the key when the body
/// has none; both must agree when both are given.
///
/// # Errors
///
/// 400 `invalid_message` naming `idempotencyKey` for an invalid header or one that differs
/// from the body's key.
pub fn with_idempotency_header(
    message: Message,
    headers: &HeaderMap,
) -> Result<Message, Rejection> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(message);
    };
    let invalid = |why: String| Rejection::invalid_message(why, Some("idempotencyKey"));
    let text = value
        .to_str()
        .map_err(|_| invalid("the Idempotency-Key header is not visible ASCII".to_owned()))?;
    let key: IdempotencyKey = text
        .parse()
        .map_err(|err: NameError| invalid(err.to_string()))?;
    match message.idempotency() {
        None => Ok(message.idempotency_key(key)),
        Some(own) if *own == key => Ok(message),
        Some(own) => Err(invalid(format!(
            "the Idempotency-Key header ({text:?}) differs from idempotencyKey ({:?})",
            own.as_str()
        ))),
    }
}

/// Whether the request's `Content-Type` is JSON: `application/json` or any `+json` type,
/// with any parameters.
///
/// # Examples
///
/// ```
/// use http::{HeaderMap, HeaderValue, header::CONTENT_TYPE};
///
/// let mut headers = HeaderMap::new();
/// assert!(!sse_tower::publish::is_json(&headers));
/// headers.insert(CONTENT_TYPE, HeaderValue::from_static("Application/JSON; charset=utf-8"));
/// assert!(sse_tower::publish::is_json(&headers));
/// headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/merge-patch+json"));
/// assert!(sse_tower::publish::is_json(&headers));
/// headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
/// assert!(!sse_tower::publish::is_json(&headers));
/// ```
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim();
            mime.eq_ignore_ascii_case("application/json")
                || mime.rsplit_once('+').is_some_and(|(kind, suffix)| {
                    !kind.is_empty() && suffix.eq_ignore_ascii_case("json")
                })
        })
}

/// Refuses a body that is not declared JSON.
///
/// # Errors
///
/// 415 `unsupported_media_type` unless [`is_json`].
pub fn require_json(headers: &HeaderMap) -> Result<(), Rejection> {
    if is_json(headers) {
        Ok(())
    } else {
        Err(Rejection::unsupported_media_type(
            "the body must be JSON (content-type: application/json)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;
    use sse_hub::{Channel, EventType};

    use super::*;

    fn headers(key: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(IDEMPOTENCY_KEY, HeaderValue::from_static(key));
        headers
    }

    #[test]
    fn type_errors_name_their_field_and_syntax_errors_none() {
        let refused = parse_message(br#"{"channel":"alerts","event":"alert","target":"everyone"}"#)
            .unwrap_err();
        assert_eq!(refused.field(), Some("target"));
        assert_eq!(refused.code(), "invalid_message");
        let refused = parse_message(b"{not json").unwrap_err();
        assert_eq!(refused.field(), None);
        assert_eq!(refused.status(), http::StatusCode::BAD_REQUEST);
        let refused = parse_message(br#"{"channel":"alerts","event":"alert"} {}"#).unwrap_err();
        assert_eq!(refused.field(), None);
        assert!(
            refused.message().starts_with("trailing characters"),
            "{refused}"
        );
    }

    #[test]
    fn the_header_gives_the_key_and_must_agree_with_the_body() {
        let message = Message::new(Channel::ALERTS, EventType::Alert, "x".into());
        let keyed = with_idempotency_header(message.clone(), &headers("order-1")).unwrap();
        assert_eq!(keyed.idempotency().unwrap().as_str(), "order-1");
        let same = with_idempotency_header(keyed.clone(), &headers("order-1")).unwrap();
        assert_eq!(same, keyed);
        let refused = with_idempotency_header(keyed, &headers("order-2")).unwrap_err();
        assert_eq!(refused.field(), Some("idempotencyKey"));
        assert_eq!(
            refused.message(),
            r#"the Idempotency-Key header ("order-2") differs from idempotencyKey ("order-1")"#
        );
        assert_eq!(
            with_idempotency_header(message.clone(), &HeaderMap::new()).unwrap(),
            message
        );
    }
}
