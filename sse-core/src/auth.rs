//! Pluggable authentication: the host application decides who a request belongs to.
//!
//! The core never parses credentials. An [`Authenticator`] turns request parts into an
//! [`Identity`] (or none, for an anonymous request, or an [`AuthError`] with its HTTP status);
//! a [`PermissionResolver`] turns an identity into its effective permissions, which
//! `permission-based` messages target.
//!
//! The default, [`ExtensionAuthenticator`], reads an [`Identity`] that the host's own
//! middleware inserted into the request extensions: in axum a `middleware::from_fn`, in warp a
//! filter, in poem a middleware. Both traits are object-safe and used as `Arc<dyn ...>`.

use std::{collections::HashMap, fmt, sync::Arc};

use http::request::Parts;

use crate::{Identity, Permission, Role, error::AuthError};

/// Decides who a request belongs to.
///
/// Return `Ok(Some(identity))` for an authenticated request, `Ok(None)` for an anonymous one
/// (the endpoint decides whether anonymous requests are allowed) and `Err` to refuse the request
/// with the error's HTTP status.
///
/// A plain function or closure `Fn(&Parts) -> Result<Option<Identity>, AuthError>` is an
/// authenticator; implement the trait for lookups that need to `.await`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use http::{Request, request::Parts};
/// use sse_hub::{Authenticator, Identity, UserId, error::AuthError};
///
/// let bearer = |parts: &Parts| -> Result<Option<Identity>, AuthError> {
///     match parts.headers.get("authorization").map(|v| v.to_str()) {
///         None => Ok(None),
///         Some(Ok("Bearer secret-token")) => Ok(Some(Identity::user(UserId::from(1)))),
///         Some(_) => Err(AuthError::unauthorized("invalid bearer token")),
///     }
/// };
/// let auth: Arc<dyn Authenticator> = Arc::new(bearer);
///
/// let (parts, ()) = Request::builder()
///     .header("authorization", "Bearer secret-token")
///     .body(())
///     .unwrap()
///     .into_parts();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let identity = auth.authenticate(&parts).await?.expect("authenticated");
/// assert_eq!(identity.user_id().unwrap().as_str(), "1");
/// # Ok::<(), AuthError>(()) }).unwrap();
/// ```
#[async_trait::async_trait]
pub trait Authenticator: Send + Sync + 'static {
    /// Authenticates the request.
    ///
    /// # Errors
    ///
    /// An [`AuthError`] whose status the request is answered with.
    async fn authenticate(&self, parts: &Parts) -> Result<Option<Identity>, AuthError>;
}

#[async_trait::async_trait]
impl<F> Authenticator for F
where
    F: Fn(&Parts) -> Result<Option<Identity>, AuthError> + Send + Sync + 'static,
{
    async fn authenticate(&self, parts: &Parts) -> Result<Option<Identity>, AuthError> {
        self(parts)
    }
}

#[async_trait::async_trait]
impl<A: Authenticator + ?Sized> Authenticator for Arc<A> {
    async fn authenticate(&self, parts: &Parts) -> Result<Option<Identity>, AuthError> {
        (**self).authenticate(parts).await
    }
}

/// The default authenticator: the [`Identity`] the host application's middleware put into the
/// request extensions, or anonymous when there is none.
///
/// # Examples
///
/// ```
/// use http::Request;
/// use sse_hub::{Authenticator, ExtensionAuthenticator, Identity, UserId};
///
/// let mut request = Request::new(());
/// request.extensions_mut().insert(Identity::user(UserId::from(7)));
/// let (parts, ()) = request.into_parts();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let identity = ExtensionAuthenticator.authenticate(&parts).await.unwrap();
/// assert_eq!(identity.unwrap().user_id().unwrap().as_str(), "7");
/// # });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtensionAuthenticator;

#[async_trait::async_trait]
impl Authenticator for ExtensionAuthenticator {
    async fn authenticate(&self, parts: &Parts) -> Result<Option<Identity>, AuthError> {
        Ok(parts.extensions.get::<Identity>().cloned())
    }
}

/// Computes the effective permissions of an identity.
///
/// `permission-based` messages reach connections whose effective permissions include any of the
/// targeted ones. The result should include the identity's own permissions; the hub calls the
/// resolver once per connection, when it opens.
///
/// A function or closure `Fn(&Identity) -> Vec<Permission>` is a resolver.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use sse_hub::{Identity, Permission, PermissionResolver, Role, UserId};
///
/// let resolver: Arc<dyn PermissionResolver> = Arc::new(|identity: &Identity| {
///     let mut permissions = identity.permissions().to_vec();
///     if identity.has_role("analyst") {
///         permissions.push(Permission::from_static("analytics.view"));
///     }
///     permissions
/// });
/// let analyst = Identity::user(UserId::from(1)).with_role(Role::from_static("analyst"));
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let permissions = resolver.resolve(&analyst).await.unwrap();
/// assert_eq!(permissions, [Permission::from_static("analytics.view")]);
/// # });
/// ```
#[async_trait::async_trait]
pub trait PermissionResolver: Send + Sync + 'static {
    /// The effective permissions of `identity`.
    ///
    /// # Errors
    ///
    /// An [`AuthError`] refusing the connection with the error's HTTP status (for example when
    /// the permission store is unreachable).
    async fn resolve(&self, identity: &Identity) -> Result<Vec<Permission>, AuthError>;
}

#[async_trait::async_trait]
impl<F> PermissionResolver for F
where
    F: Fn(&Identity) -> Vec<Permission> + Send + Sync + 'static,
{
    async fn resolve(&self, identity: &Identity) -> Result<Vec<Permission>, AuthError> {
        Ok(self(identity))
    }
}

#[async_trait::async_trait]
impl<R: PermissionResolver + ?Sized> PermissionResolver for Arc<R> {
    async fn resolve(&self, identity: &Identity) -> Result<Vec<Permission>, AuthError> {
        (**self).resolve(identity).await
    }
}

/// The default resolver: exactly the permissions the identity carries.
///
/// # Examples
///
/// ```
/// use sse_hub::{Identity, IdentityPermissions, Permission, PermissionResolver, UserId};
///
/// let identity = Identity::user(UserId::from(1)).with_permission(Permission::from_static("a.b"));
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert_eq!(IdentityPermissions.resolve(&identity).await.unwrap(), identity.permissions());
/// # });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct IdentityPermissions;

#[async_trait::async_trait]
impl PermissionResolver for IdentityPermissions {
    async fn resolve(&self, identity: &Identity) -> Result<Vec<Permission>, AuthError> {
        Ok(identity.permissions().to_vec())
    }
}

/// A static role -> permissions table: an identity's effective permissions are its own plus
/// those of each of its roles.
///
/// # Examples
///
/// ```
/// use sse_hub::{Identity, Permission, PermissionResolver, Role, RolePermissions, UserId};
///
/// let resolver = RolePermissions::new()
///     .grant(Role::from_static("admin"), [
///         Permission::from_static("dashboard.view"),
///         Permission::from_static("users.manage"),
///     ])
///     .grant(Role::from_static("analyst"), [Permission::from_static("dashboard.view")]);
///
/// let both = Identity::user(UserId::from(1))
///     .with_roles([Role::from_static("admin"), Role::from_static("analyst")])
///     .with_permission(Permission::from_static("content.review"));
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let permissions = resolver.resolve(&both).await.unwrap();
/// let names: Vec<&str> = permissions.iter().map(|p| p.as_str()).collect();
/// assert_eq!(names, ["content.review", "dashboard.view", "users.manage"]);
/// # });
/// ```
#[derive(Clone, Default)]
pub struct RolePermissions {
    table: HashMap<Role, Vec<Permission>>,
}

impl RolePermissions {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Grants `permissions` to every identity holding `role`.
    #[must_use]
    pub fn grant(mut self, role: Role, permissions: impl IntoIterator<Item = Permission>) -> Self {
        self.table.entry(role).or_default().extend(permissions);
        self
    }

    /// The effective permissions of `identity`, deduplicated, in order of first appearance
    /// (its own first, then by role).
    pub fn permissions_of(&self, identity: &Identity) -> Vec<Permission> {
        let mut out: Vec<Permission> = Vec::new();
        let granted = identity
            .roles()
            .iter()
            .filter_map(|role| self.table.get(role))
            .flatten();
        for permission in identity.permissions().iter().chain(granted) {
            if !out.contains(permission) {
                out.push(permission.clone());
            }
        }
        out
    }
}

impl fmt::Debug for RolePermissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.table.iter()).finish()
    }
}

#[async_trait::async_trait]
impl PermissionResolver for RolePermissions {
    async fn resolve(&self, identity: &Identity) -> Result<Vec<Permission>, AuthError> {
        Ok(self.permissions_of(identity))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UserId;

    fn parts() -> Parts {
        http::Request::new(()).into_parts().0
    }

    #[tokio::test]
    async fn extension_authenticator_is_anonymous_without_an_identity() {
        assert_eq!(
            ExtensionAuthenticator.authenticate(&parts()).await,
            Ok(None)
        );
    }

    #[tokio::test]
    async fn closures_and_arcs_are_authenticators() {
        let refuse = |_: &Parts| -> Result<Option<Identity>, AuthError> {
            Err(AuthError::forbidden("banned"))
        };
        let auth: Arc<dyn Authenticator> = Arc::new(refuse);
        let err = auth.authenticate(&parts()).await.unwrap_err();
        assert_eq!(err.status(), http::StatusCode::FORBIDDEN);
        assert_eq!(err.code(), "forbidden");
        assert_eq!(err.message(), "banned");
        let twice: Arc<dyn Authenticator> = Arc::new(auth);
        assert!(twice.authenticate(&parts()).await.is_err());
    }

    #[tokio::test]
    async fn role_permissions_deduplicate() {
        let table = RolePermissions::new()
            .grant(
                Role::from_static("a"),
                [Permission::from_static("p"), Permission::from_static("q")],
            )
            .grant(Role::from_static("b"), [Permission::from_static("q")]);
        let identity = Identity::user(UserId::from(1)).with_roles([
            Role::from_static("b"),
            Role::from_static("a"),
            Role::from_static("z"),
        ]);
        let resolved = table.resolve(&identity).await.unwrap();
        assert_eq!(
            resolved,
            [Permission::from_static("q"), Permission::from_static("p")]
        );
        assert_eq!(
            IdentityPermissions.resolve(&identity).await.unwrap(),
            Vec::<Permission>::new()
        );
    }
}
