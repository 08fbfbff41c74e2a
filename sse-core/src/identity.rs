//! Who is on the other end of a connection: user ids, roles, permissions and [`Identity`].

use std::{fmt, sync::Arc};

use crate::{
    error::NameError,
    name::{
        AsciiClass, Name, Rule, check_ascii_literal, is_grant_char, is_id_char, name_from_string,
        name_type,
    },
};

const USER_RULE: Rule = Rule {
    field: "user id",
    max: UserId::MAX_LEN,
    allowed: "any character but control characters",
    accepts: is_id_char,
};

const ROLE_RULE: Rule = Rule {
    field: "role",
    max: Role::MAX_LEN,
    allowed: "A-Z a-z 0-9 - _ . : /",
    accepts: is_grant_char,
};

const PERMISSION_RULE: Rule = Rule {
    field: "permission",
    max: Permission::MAX_LEN,
    allowed: "A-Z a-z 0-9 - _ . : /",
    accepts: is_grant_char,
};

/// A user id: 1 to 128 characters, no control characters.
///
/// Integers and strings are both accepted (many apps number their users; others use UUIDs or
/// e-mail addresses); the id is always a string on output, so `123` and `"123"` are
/// the same user.
///
/// # Examples
///
/// ```
/// use sse_hub::UserId;
///
/// let from_int = UserId::from(123);
/// let from_str: UserId = "123".parse()?;
/// assert_eq!(from_int, from_str);
///
/// let from_json: Vec<UserId> = serde_json::from_str(r#"[123, "ada@example.org"]"#).unwrap();
/// assert_eq!(serde_json::to_string(&from_json).unwrap(), r#"["123","ada@example.org"]"#);
/// # Ok::<(), sse_hub::error::NameError>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserId(Name);

name_type!(UserId, USER_RULE);

impl UserId {
    /// The longest user id, in characters.
    pub const MAX_LEN: usize = 128;

    /// Validates a runtime user id.
    ///
    /// # Errors
    ///
    /// [`NameError`] naming the field `user id` when the id is empty, longer than 128 characters
    /// or holds a control character.
    pub fn new(id: impl AsRef<str>) -> Result<Self, NameError> {
        USER_RULE.parse(id.as_ref()).map(Self)
    }
}

macro_rules! user_id_from_int {
    ($($int:ty),*) => {$(
        impl From<$int> for UserId {
            fn from(id: $int) -> Self {
                Self(Name::Shared(Arc::from(id.to_string())))
            }
        }
    )*};
}

user_id_from_int!(u32, u64, i32, i64, usize);

impl From<&UserId> for UserId {
    fn from(id: &UserId) -> Self {
        id.clone()
    }
}

/// A UUID is written in its hyphenated lower-case form (feature `uuid`).
///
/// ```
/// # #[cfg(feature = "uuid")] {
/// let id = uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
/// let user = sse_hub::UserId::from(id);
/// assert_eq!(user.as_str(), "01234567-89ab-cdef-0123-456789abcdef");
/// # }
/// ```
#[cfg(feature = "uuid")]
impl From<uuid::Uuid> for UserId {
    fn from(id: uuid::Uuid) -> Self {
        Self::new(id.hyphenated().to_string()).expect("a UUID is a valid user id")
    }
}

impl<'de> serde::Deserialize<'de> for UserId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl serde::de::Visitor<'_> for Visitor {
            type Value = UserId;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a user id (string or integer)")
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<UserId, E> {
                Ok(UserId::from(v))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<UserId, E> {
                Ok(UserId::from(v))
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<UserId, E> {
                UserId::new(v).map_err(E::custom)
            }
        }

        d.deserialize_any(Visitor)
    }
}

/// A role, such as `admin` or `security_officer`: 1 to 64 characters of
/// `A-Z a-z 0-9 - _ . : /`.
///
/// # Examples
///
/// ```
/// use sse_hub::Role;
///
/// const ADMIN: Role = Role::from_static("admin");
/// assert_eq!("admin".parse::<Role>()?, ADMIN);
/// # Ok::<(), sse_hub::error::NameError>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Role(Name);

name_type!(Role, ROLE_RULE);
name_from_string!(Role);

impl Role {
    /// The longest role, in characters.
    pub const MAX_LEN: usize = 64;

    /// Validates a runtime role.
    ///
    /// # Errors
    ///
    /// [`NameError`] naming the field `role` for an empty, too long or badly formed role.
    pub fn new(role: impl AsRef<str>) -> Result<Self, NameError> {
        ROLE_RULE.parse(role.as_ref()).map(Self)
    }

    /// A role from a literal, checked at compile time when used in a `const`.
    ///
    /// # Panics
    ///
    /// When the literal is not a valid role.
    #[track_caller]
    pub const fn from_static(role: &'static str) -> Self {
        check_ascii_literal(role, Self::MAX_LEN, AsciiClass::Grant);
        Self(Name::Static(role))
    }
}

/// A permission, such as `dashboard.view`: 1 to 128 characters of `A-Z a-z 0-9 - _ . : /`.
///
/// # Examples
///
/// ```
/// use sse_hub::Permission;
///
/// let view: Permission = "analytics.view".parse()?;
/// assert_eq!(view, Permission::from_static("analytics.view"));
/// # Ok::<(), sse_hub::error::NameError>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Permission(Name);

name_type!(Permission, PERMISSION_RULE);
name_from_string!(Permission);

impl Permission {
    /// The longest permission, in characters.
    pub const MAX_LEN: usize = 128;

    /// Validates a runtime permission.
    ///
    /// # Errors
    ///
    /// [`NameError`] naming the field `permission` for an empty, too long or badly formed
    /// permission.
    pub fn new(permission: impl AsRef<str>) -> Result<Self, NameError> {
        PERMISSION_RULE.parse(permission.as_ref()).map(Self)
    }

    /// A permission from a literal, checked at compile time when used in a `const`.
    ///
    /// # Panics
    ///
    /// When the literal is not a valid permission.
    #[track_caller]
    pub const fn from_static(permission: &'static str) -> Self {
        check_ascii_literal(permission, Self::MAX_LEN, AsciiClass::Grant);
        Self(Name::Static(permission))
    }
}

/// Who a connection belongs to: an optional user id, roles and permissions.
///
/// An identity without a user id is anonymous. The host application produces identities with
/// its own authentication (see [`Authenticator`](crate::Authenticator)); the [`Hub`](crate::Hub)
/// routes targeted messages by them. The permissions held here are the ones granted directly;
/// a [`PermissionResolver`](crate::PermissionResolver) may add more (for example from roles).
///
/// # Examples
///
/// ```
/// use sse_hub::{Identity, Permission, Role, UserId};
///
/// let ada = Identity::user(UserId::from(42))
///     .with_role(Role::from_static("admin"))
///     .with_permission(Permission::from_static("dashboard.view"));
/// assert!(ada.is_authenticated());
/// assert!(ada.has_role("admin"));
/// assert!(ada.has_permission("dashboard.view"));
///
/// assert!(!Identity::anonymous().is_authenticated());
/// ```
#[derive(Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_id: Option<UserId>,
    #[serde(default)]
    roles: Vec<Role>,
    #[serde(default)]
    permissions: Vec<Permission>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
}

impl Identity {
    /// An anonymous identity: no user, no roles, no permissions.
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// The identity of a user, without roles or permissions yet.
    pub fn user(id: impl Into<UserId>) -> Self {
        Self {
            user_id: Some(id.into()),
            ..Self::default()
        }
    }

    /// Adds a role (duplicates are ignored).
    #[must_use]
    pub fn with_role(mut self, role: Role) -> Self {
        if !self.roles.contains(&role) {
            self.roles.push(role);
        }
        self
    }

    /// Adds roles (duplicates are ignored).
    #[must_use]
    pub fn with_roles(self, roles: impl IntoIterator<Item = Role>) -> Self {
        roles.into_iter().fold(self, Self::with_role)
    }

    /// Adds a permission (duplicates are ignored).
    #[must_use]
    pub fn with_permission(mut self, permission: Permission) -> Self {
        if !self.permissions.contains(&permission) {
            self.permissions.push(permission);
        }
        self
    }

    /// Adds permissions (duplicates are ignored).
    #[must_use]
    pub fn with_permissions(self, permissions: impl IntoIterator<Item = Permission>) -> Self {
        permissions.into_iter().fold(self, Self::with_permission)
    }

    /// Credentials that expire at `at_ms` (milliseconds since the Unix epoch), as an
    /// [`Authenticator`](crate::Authenticator) reads them from a token.
    ///
    /// A connection refuses an identity already past it
    /// ([`ConnectError::CredentialsExpired`](crate::error::ConnectError::CredentialsExpired)),
    /// and an open stream ends at that moment with a `refresh` event whose `data.reason` is
    /// `auth-expired`, then a final `retry:` (see [`Hub::revoke_user`](crate::Hub::revoke_user)
    /// and [`Hub::refresh_user`](crate::Hub::refresh_user)).
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_hub::{Identity, UserId};
    ///
    /// let bob = Identity::user(UserId::from(3)).with_expiry(1_767_225_600_000);
    /// assert_eq!(bob.expires_at(), Some(1_767_225_600_000));
    /// assert!(bob.is_expired(1_767_225_600_000));
    /// assert!(!bob.is_expired(1_767_225_599_999));
    /// ```
    #[must_use]
    pub fn with_expiry(mut self, at_ms: u64) -> Self {
        self.expires_at = Some(at_ms);
        self
    }

    /// When the credentials expire (milliseconds since the Unix epoch), if they do.
    pub fn expires_at(&self) -> Option<u64> {
        self.expires_at
    }

    /// Whether the credentials have expired at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_at.is_some_and(|at| now_ms >= at)
    }

    /// The user id, or `None` for an anonymous identity.
    pub fn user_id(&self) -> Option<&UserId> {
        self.user_id.as_ref()
    }

    /// The roles.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// The permissions.
    pub fn permissions(&self) -> &[Permission] {
        &self.permissions
    }

    /// The user id, roles and expiry, for a connection's own copy.
    pub(crate) fn into_parts(self) -> (Option<UserId>, Vec<Role>, Option<u64>) {
        (self.user_id, self.roles, self.expires_at)
    }

    /// Whether the identity has a user id.
    pub fn is_authenticated(&self) -> bool {
        self.user_id.is_some()
    }

    /// Whether the identity holds `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r.as_str() == role)
    }

    /// Whether the identity holds `permission`.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p.as_str() == permission)
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("user_id", &self.user_id.as_ref().map(UserId::as_str))
            .field("roles", &self.roles)
            .field("permissions", &self.permissions)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_accept_integers_and_strings() {
        let ids: Vec<UserId> = serde_json::from_str(r#"[123, -7, "abc", "123"]"#).unwrap();
        assert_eq!(ids[0], ids[3]);
        assert_eq!(ids[1].as_str(), "-7");
        assert_eq!(
            serde_json::to_string(&ids).unwrap(),
            r#"["123","-7","abc","123"]"#
        );
        assert!(serde_json::from_str::<UserId>("1.5").is_err());
        let err = serde_json::from_str::<UserId>(r#""a\nb""#).unwrap_err();
        assert!(
            err.to_string()
                .contains("user id contains '\\n' at character 1"),
            "{err}"
        );
    }

    #[test]
    fn user_id_limits() {
        assert_eq!(UserId::new(""), Err(NameError::Empty { field: "user id" }));
        assert!(UserId::new("ü".repeat(128)).is_ok());
        assert_eq!(
            UserId::new("x".repeat(129)),
            Err(NameError::TooLong {
                field: "user id",
                len: 129,
                max: 128
            })
        );
        assert!(UserId::new("ada lovelace").is_ok());
        assert!(UserId::new("a\u{0085}").is_err());
    }

    #[test]
    fn roles_and_permissions_are_validated() {
        assert_eq!(
            Role::new("ad min"),
            Err(NameError::InvalidChar {
                field: "role",
                ch: ' ',
                index: 2,
                allowed: "A-Z a-z 0-9 - _ . : /"
            })
        );
        assert!(Permission::new("content.review").is_ok());
        assert_eq!(Permission::new("x\0").unwrap_err().field(), "permission");
    }

    #[test]
    fn identity_builder_ignores_duplicates() {
        let id = Identity::user(1u64)
            .with_roles([
                Role::from_static("a"),
                Role::from_static("a"),
                Role::from_static("b"),
            ])
            .with_permission(Permission::from_static("p"))
            .with_permission(Permission::from_static("p"));
        assert_eq!(id.roles().len(), 2);
        assert_eq!(id.permissions().len(), 1);
        assert!(id.has_role("b"));
        assert!(!id.has_role("c"));
    }

    #[test]
    fn identity_serde() {
        let id: Identity =
            serde_json::from_str(r#"{"userId": 7, "roles": ["admin"], "permissions": []}"#)
                .unwrap();
        assert_eq!(id.user_id().unwrap().as_str(), "7");
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            r#"{"userId":"7","roles":["admin"],"permissions":[]}"#
        );
    }
}
