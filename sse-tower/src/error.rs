//! Refused requests: each becomes an HTTP status with a small JSON body.

use std::{borrow::Cow, fmt, time::Duration};

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use sse_hub::error::{AuthError, SendError};

/// Why a request did not get a stream, with its HTTP meaning.
///
/// Answered with [`status`](Rejection::status), the body
/// `{"error": code, "message": message}` and, where it applies, `Retry-After` (429, 503) or
/// `Allow` (405). A stream is never opened and then failed: every refusal happens before the
/// `200`.
///
/// # Examples
///
/// ```
/// use http::StatusCode;
/// use sse_tower::error::Rejection;
///
/// let rejection = Rejection::not_found("unknown channel \"billing\"");
/// assert_eq!(rejection.status(), StatusCode::NOT_FOUND);
/// assert_eq!(
///     rejection.json_body(),
///     r#"{"error":"not_found","message":"unknown channel \"billing\""}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    status: StatusCode,
    code: Cow<'static, str>,
    message: Cow<'static, str>,
    retry_after: Option<Duration>,
    until: Option<u64>,
    field: Option<Box<str>>,
    cause: Option<&'static str>,
}

impl Rejection {
    /// A rejection with an explicit status and code.
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            retry_after: None,
            until: None,
            field: None,
            cause: None,
        }
    }

    /// 400 `bad_request`: a malformed channel, cursor or query.
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 401 `unauthorized`: credentials are missing or invalid.
    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403 `forbidden`: authenticated, but not allowed (role, permission, channel).
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 `not_found`: a channel this endpoint does not serve.
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 405 `method_not_allowed`, with `Allow: GET`.
    pub fn method_not_allowed(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            message,
        )
    }

    /// 406 `not_acceptable`: the `Accept` header excludes `text/event-stream`.
    pub fn not_acceptable(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_ACCEPTABLE, "not_acceptable", message)
    }

    /// 429 `too_many_requests`, with `Retry-After` in whole seconds (rounded up).
    pub fn too_many_requests(message: impl Into<Cow<'static, str>>, retry_after: Duration) -> Self {
        let mut rejection = Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message);
        rejection.retry_after = Some(retry_after);
        rejection
    }

    /// 503 `service_unavailable`, with `Retry-After`: the hub is shutting down.
    pub fn service_unavailable(
        message: impl Into<Cow<'static, str>>,
        retry_after: Duration,
    ) -> Self {
        let mut rejection = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            message,
        );
        rejection.retry_after = Some(retry_after);
        rejection
    }

    /// 403 `banned`: the user is banned until `until` (milliseconds since the Unix epoch),
    /// which the JSON body gives as `"until"`. A browser's `EventSource` does not retry after
    /// it.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_tower::error::Rejection;
    ///
    /// let rejection = Rejection::banned(1_767_225_600_000);
    /// assert_eq!(rejection.status(), http::StatusCode::FORBIDDEN);
    /// assert_eq!(
    ///     rejection.json_body(),
    ///     r#"{"error":"banned","message":"this user is banned","until":1767225600000}"#
    /// );
    /// ```
    pub fn banned(until: u64) -> Self {
        let mut rejection = Self::new(StatusCode::FORBIDDEN, "banned", "this user is banned");
        rejection.until = Some(until);
        rejection
    }

    /// 400 `invalid_message`: a message to publish is not valid; `field` names the field at
    /// fault (the JSON body gives it as `"field"`).
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_tower::error::Rejection;
    ///
    /// let rejection = Rejection::invalid_message("priority is 11; the maximum is 10", Some("priority"));
    /// assert_eq!(
    ///     rejection.json_body(),
    ///     r#"{"error":"invalid_message","message":"priority is 11; the maximum is 10","field":"priority"}"#
    /// );
    /// ```
    pub fn invalid_message(
        message: impl Into<Cow<'static, str>>,
        field: Option<impl Into<Cow<'static, str>>>,
    ) -> Self {
        let mut rejection = Self::new(StatusCode::BAD_REQUEST, "invalid_message", message);
        rejection.field = field.map(|field| field.into().into());
        rejection
    }

    /// 415 `unsupported_media_type`: a body that must be JSON is not.
    pub fn unsupported_media_type(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            message,
        )
    }

    /// Names the cause of a refusal whose code several causes share (a rate limit's 429 and a
    /// stream cap's are both `too_many_requests`): metrics label refusals with it.
    pub(crate) fn because(mut self, cause: &'static str) -> Self {
        self.cause = Some(cause);
        self
    }

    /// What refused the request, for metrics and logs: the cause where several share the
    /// code (`rate_limited`, `max_streams`, `max_streams_per_ip`, `max_streams_per_user` for a
    /// 429), the [`code`](Rejection::code) otherwise.
    pub fn cause(&self) -> &str {
        self.cause.unwrap_or(&self.code)
    }

    /// The end of a ban, for [`banned`](Rejection::banned).
    pub fn until(&self) -> Option<u64> {
        self.until
    }

    /// The field at fault, for [`invalid_message`](Rejection::invalid_message).
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The machine-readable code (`error` in the JSON body).
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The message (`message` in the JSON body).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The `Retry-After` delay, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The JSON body.
    pub fn json_body(&self) -> String {
        /// The body, its keys in this order.
        #[derive(serde::Serialize)]
        struct Body<'a> {
            error: &'a str,
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            until: Option<u64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            field: Option<&'a str>,
        }
        let body = Body {
            error: &self.code,
            message: &self.message,
            until: self.until,
            field: self.field.as_deref(),
        };
        serde_json::to_string(&body).unwrap_or_default()
    }

    /// The HTTP response, with any body type built from `Bytes`.
    pub fn into_response<B: From<Bytes>>(self) -> Response<B> {
        let body = Bytes::from(self.json_body());
        let mut response = Response::new(B::from(body));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(after) = self.retry_after {
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            headers.insert(header::ALLOW, HeaderValue::from_static("GET"));
        }
        response
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for Rejection {}

impl From<AuthError> for Rejection {
    fn from(err: AuthError) -> Self {
        let (status, code, message) = err.into_parts();
        Self::new(status, code, message)
    }
}

/// The refusal of a [`Hub::send`](sse_hub::Hub::send) that failed, for an HTTP publish
/// endpoint: 400 `invalid_message` naming the field at fault, 409 `idempotency_conflict` for
/// an idempotency key used for another message, 503 `service_unavailable` (with
/// `Retry-After: 3`) when the hub is shutting down or its backplane failed.
///
/// # Examples
///
/// ```
/// use http::StatusCode;
/// use sse_hub::{Channel, EventType, Hub, Message};
/// use sse_tower::error::Rejection;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let hub = Hub::new();
/// let message = Message::new(Channel::ALERTS, EventType::Alert, "hi".into()).priority(11);
/// let rejection = Rejection::from(hub.send(message).await.unwrap_err());
/// assert_eq!(rejection.status(), StatusCode::BAD_REQUEST);
/// assert_eq!(rejection.field(), Some("priority"));
/// # }
/// ```
impl From<SendError> for Rejection {
    fn from(err: SendError) -> Self {
        match err {
            SendError::Invalid(err) => Self::invalid_message(err.to_string(), Some(err.field())),
            SendError::IdempotencyConflict { .. } => Self::new(
                StatusCode::CONFLICT,
                "idempotency_conflict",
                err.to_string(),
            ),
            // Shutting down, or the backplane failed: both pass.
            other => Self::service_unavailable(other.to_string(), Duration::from_secs(3)),
        }
    }
}

/// A text is not an address range in CIDR notation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidIpRange {
    /// The rejected text, cut to 64 characters.
    pub value: String,
}

impl fmt::Display for InvalidIpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid address range {:?}: expected an address or CIDR such as 10.0.0.0/8",
            self.value
        )
    }
}

impl std::error::Error for InvalidIpRange {}
