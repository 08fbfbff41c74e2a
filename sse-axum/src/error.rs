//! Refusals as axum responses.

use axum::response::{IntoResponse, Response};
use sse_tower::error::Rejection;

/// An [`sse_tower::error::Rejection`] as an axum response: its status, its headers and the
/// JSON body `{"error","message"}`.
///
/// # Examples
///
/// ```
/// use axum::response::IntoResponse;
/// use sse_axum::SseRejection;
/// use sse_tower::error::Rejection;
///
/// let response = SseRejection(Rejection::forbidden("admins only")).into_response();
/// assert_eq!(response.status(), http::StatusCode::FORBIDDEN);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseRejection(pub Rejection);

impl IntoResponse for SseRejection {
    fn into_response(self) -> Response {
        self.0.into_response::<axum::body::Body>()
    }
}

impl From<Rejection> for SseRejection {
    fn from(rejection: Rejection) -> Self {
        Self(rejection)
    }
}
