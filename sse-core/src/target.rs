//! Targeting: who a message is for.

use serde::{Deserialize, Serialize};

/// Who a message is for, besides being subscribed to its channel.
///
/// Serialised as on the wire: `all`, `authenticated`, `user-specific`, `role-based`,
/// `permission-based`.
///
/// # Examples
///
/// ```
/// use sse_hub::Target;
///
/// let target: Target = serde_json::from_str("\"permission-based\"")?;
/// assert_eq!(target, Target::PermissionBased);
/// assert_eq!(target.as_str(), "permission-based");
/// assert_eq!(Target::default(), Target::All);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(
        description = "Which connections of the channel receive a message: all, authenticated (with a user id), user-specific (`targetUsers`), role-based (`targetRoles`), permission-based (`targetPermissions`)."
    )
)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// Every connection subscribed to the channel, anonymous ones included.
    #[default]
    All,
    /// Every connection with a user id.
    Authenticated,
    /// The connections of the users in `targetUsers`.
    UserSpecific,
    /// Connections holding any of the roles in `targetRoles`.
    RoleBased,
    /// Connections holding any of the permissions in `targetPermissions` (after the
    /// [`PermissionResolver`](crate::PermissionResolver)).
    PermissionBased,
}

impl Target {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Authenticated => "authenticated",
            Self::UserSpecific => "user-specific",
            Self::RoleBased => "role-based",
            Self::PermissionBased => "permission-based",
        }
    }
}
