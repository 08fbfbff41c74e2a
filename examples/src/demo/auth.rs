//! The demo's authentication: a bearer token in `Authorization`, a `token` query parameter
//! (`EventSource` cannot send headers) or the `sse_token` cookie set by the page's login.

use axum::{
    extract::FromRequestParts,
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use sse_core::{Authenticator, Clock, Identity, error::AuthError};
use sse_tower::error::Rejection;

use super::{
    AppState,
    users::{DemoUser, Users},
};

/// Where a request's token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// `Authorization: Bearer`.
    Header,
    /// The `token` query parameter.
    Query,
    /// The `sse_token` cookie, which the browser sends on its own.
    Cookie,
}

/// Finds the token of a request: `Authorization: Bearer`, then `?token=`, then the cookie.
pub fn token(parts: &Parts) -> Option<(String, TokenSource)> {
    if let Some(value) = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
    {
        let token = value.strip_prefix("Bearer ").unwrap_or(value).trim();
        return Some((token.to_owned(), TokenSource::Header));
    }
    if let Some(query) = parts.uri.query() {
        for pair in query.split('&') {
            if let Some(("token", value)) = pair.split_once('=') {
                return Some((value.to_owned(), TokenSource::Query));
            }
        }
    }
    parts
        .headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("sse_token=").map(str::to_owned))
        .map(|token| (token, TokenSource::Cookie))
}

/// The authenticator of the stream endpoint.
#[derive(Debug, Clone)]
pub struct TokenAuth {
    users: Users,
    clock: Clock,
}

impl TokenAuth {
    /// Authenticates against `users`, telling expired tokens by `clock`.
    pub fn new(users: Users, clock: Clock) -> Self {
        Self { users, clock }
    }

    /// The user of a request: `Ok(None)` without a token, an error for an unknown or expired
    /// one.
    pub fn user(&self, parts: &Parts) -> Result<Option<DemoUser>, AuthError> {
        let user = match token(parts) {
            None => return Ok(None),
            Some((token, _)) if token.is_empty() => return Ok(None),
            Some((token, _)) => self.users.by_token(&token).ok_or_else(|| {
                AuthError::new(StatusCode::UNAUTHORIZED, "invalid_token", "unknown token")
            })?,
        };
        if user.is_expired(self.clock.now_ms()) {
            return Err(AuthError::new(
                StatusCode::UNAUTHORIZED,
                "token_expired",
                "the token expired",
            ));
        }
        Ok(Some(user.clone()))
    }
}

#[sse_core::async_trait]
impl Authenticator for TokenAuth {
    async fn authenticate(&self, parts: &Parts) -> Result<Option<Identity>, AuthError> {
        Ok(self.user(parts)?.map(|user| user.identity()))
    }
}

/// An authenticated API caller.
#[derive(Debug, Clone)]
pub struct Caller(pub DemoUser);

/// An authenticated API caller holding the `admin` role.
#[derive(Debug, Clone)]
pub struct Admin(pub DemoUser);

/// A refused API call, as JSON.
#[derive(Debug)]
pub struct ApiError(pub Rejection);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.into_response::<axum::body::Body>()
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match state.auth.user(parts) {
            Ok(Some(user)) => Ok(Self(user)),
            Ok(None) => Err(ApiError(Rejection::unauthorized("authentication required"))),
            Err(err) => Err(ApiError(err.into())),
        }
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Caller(user) = Caller::from_request_parts(parts, state).await?;
        if user.roles.iter().any(|r| r.as_str() == "admin") {
            Ok(Self(user))
        } else {
            Err(ApiError(Rejection::forbidden("the admin role is required")))
        }
    }
}
