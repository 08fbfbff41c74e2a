//! The demo's authentication: a bearer token in `Authorization`, a `token` query parameter
//! (`EventSource` cannot send headers) or the `sse_token` cookie set by the page's login.

use axum::{
    extract::FromRequestParts,
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use sse_hub::{Clock, error::AuthError};
use sse_tower::error::Rejection;

use super::{
    AppState,
    users::{DemoUser, Users},
};

pub use sse_tower::auth::TokenSource;

/// The cookie the page's sign-in sets.
pub const COOKIE: &str = "sse_token";

/// Finds the token of a request: `Authorization: Bearer`, then `?token=`, then the cookie
/// (`sse_tower::auth::request_token`); `None` without one, or with a malformed header.
pub fn token(parts: &Parts) -> Option<(String, TokenSource)> {
    sse_tower::auth::request_token(parts, COOKIE).ok().flatten()
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
    /// one (or an `Authorization` header that is not `Bearer`).
    pub fn user(&self, parts: &Parts) -> Result<Option<DemoUser>, AuthError> {
        match sse_tower::auth::request_token(parts, COOKIE)? {
            None => Ok(None),
            Some((token, _)) => self.user_by_token(&token).map(Some),
        }
    }

    /// The user a token belongs to, or why it is refused (unknown, or past its `expiresAt`).
    pub fn user_by_token(&self, token: &str) -> Result<DemoUser, AuthError> {
        let user = self.users.by_token(token).ok_or_else(|| {
            AuthError::new(StatusCode::UNAUTHORIZED, "invalid_token", "unknown token")
        })?;
        if user.is_expired(self.clock.now_ms()) {
            return Err(AuthError::new(
                StatusCode::UNAUTHORIZED,
                "token_expired",
                "the token expired",
            ));
        }
        Ok(user.clone())
    }

    /// The stream endpoint's authenticator: `sse_tower`'s token authenticator on these users.
    pub fn authenticator(&self) -> impl sse_hub::Authenticator {
        let auth = self.clone();
        sse_tower::auth::TokenAuthenticator::new(move |token: String| {
            let found = auth.user_by_token(&token).map(|user| Some(user.identity()));
            async move { found }
        })
        .cookie(COOKIE)
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
