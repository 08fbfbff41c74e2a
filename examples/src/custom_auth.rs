//! A hand-written [`Authenticator`] reading a bearer token, and a [`PermissionResolver`] mapping
//! roles to permissions, behind an analytics endpoint (`live-updates`, permission
//! `analytics.view` required).
//!
//! Run it with `cargo run -p examples --bin custom_auth`, then:
//!
//! ```text
//! curl -N -H 'authorization: Bearer analyst-token' http://127.0.0.1:3004/api/analytics/stream
//! ```

use std::{collections::HashMap, sync::Arc};

use axum::{Router, http::request::Parts, routing::post};
use sse_axum::SseRouterExt;
use sse_hub::{
    Authenticator, Hub, Identity, Permission, PermissionResolver, Role, UserId, error::AuthError,
};
use sse_tower::StreamConfig;

use crate::publish::publish;

/// Looks bearer tokens up in a table. A real application would verify a JWT or ask its session
/// store; the shape is the same: request parts in, an identity (or none, or a refusal) out.
#[derive(Debug, Clone)]
pub struct BearerTokens {
    tokens: Arc<HashMap<String, Identity>>,
}

impl BearerTokens {
    /// The demo tokens: `analyst-token` (user 10, role `analyst`), `viewer-token` (user 11, role
    /// `viewer`), `admin-token` (user 1, role `admin`).
    pub fn demo() -> Self {
        let role = |r: &str| Role::new(r).expect("valid role");
        let tokens = [
            (
                "analyst-token",
                Identity::user(UserId::from(10)).with_role(role("analyst")),
            ),
            (
                "viewer-token",
                Identity::user(UserId::from(11)).with_role(role("viewer")),
            ),
            (
                "admin-token",
                Identity::user(UserId::from(1)).with_role(role("admin")),
            ),
        ];
        Self {
            tokens: Arc::new(
                tokens
                    .into_iter()
                    .map(|(token, identity)| (token.to_owned(), identity))
                    .collect(),
            ),
        }
    }
}

#[sse_hub::async_trait]
impl Authenticator for BearerTokens {
    async fn authenticate(&self, parts: &Parts) -> Result<Option<Identity>, AuthError> {
        let Some(value) = parts.headers.get("authorization") else {
            return Ok(None);
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| AuthError::unauthorized("expected a bearer token"))?;
        match self.tokens.get(token) {
            Some(identity) => Ok(Some(identity.clone())),
            None => Err(AuthError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "invalid_token",
                "unknown or expired token",
            )),
        }
    }
}

/// Grants permissions by role: `analyst` and `admin` may view analytics, `admin` may also
/// manage users.
#[derive(Debug, Clone, Copy, Default)]
pub struct RoleGrants;

#[sse_hub::async_trait]
impl PermissionResolver for RoleGrants {
    async fn resolve(&self, identity: &Identity) -> Result<Vec<Permission>, AuthError> {
        let mut permissions = identity.permissions().to_vec();
        for role in identity.roles() {
            let granted: &[&'static str] = match role.as_str() {
                "analyst" => &["analytics.view"],
                "admin" => &["analytics.view", "users.manage"],
                _ => &[],
            };
            for permission in granted {
                let permission = Permission::from_static(permission);
                if !permissions.contains(&permission) {
                    permissions.push(permission);
                }
            }
        }
        Ok(permissions)
    }
}

/// The application: the analytics stream at `/api/analytics/stream` and a publish endpoint.
pub fn app(hub: Hub) -> Router {
    let config = StreamConfig::analytics()
        .authenticator(BearerTokens::demo())
        .permission_resolver(RoleGrants);
    Router::new()
        .sse_stream("/api/analytics/stream", hub.clone(), config)
        .route("/api/analytics/publish", post(publish))
        .with_state(hub)
}
