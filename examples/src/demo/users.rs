//! The demo's users: who a token belongs to.

use std::{collections::HashMap, path::Path, sync::Arc};

use serde::{Deserialize, Serialize};
use sse_hub::{Identity, Permission, Role, UserId};

/// One demo user, as in the `--users` file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DemoUser {
    /// The bearer token that identifies the user.
    pub token: String,
    /// The user id (a string or an integer in the file).
    pub user_id: UserId,
    /// A display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Roles.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Permissions granted directly.
    #[serde(default)]
    pub permissions: Vec<Permission>,
    /// When the token expires, in milliseconds since the Unix epoch: it is refused from then
    /// on (401), and a stream opened with it ends then with the `auth-expired` refresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
}

impl DemoUser {
    /// The identity this user connects with.
    pub fn identity(&self) -> Identity {
        let identity = Identity::user(self.user_id.clone())
            .with_roles(self.roles.iter().cloned())
            .with_permissions(self.permissions.iter().cloned());
        match self.expires_at {
            Some(at) => identity.with_expiry(at),
            None => identity,
        }
    }

    /// Whether the token has expired at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_at.is_some_and(|at| now_ms >= at)
    }

    /// The display name, or the user id.
    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("user {}", self.user_id))
    }
}

/// The users, by token.
#[derive(Debug, Clone)]
pub struct Users {
    by_token: Arc<HashMap<String, DemoUser>>,
    ordered: Arc<Vec<DemoUser>>,
    builtin: bool,
}

impl Users {
    /// The built-in demo users:
    ///
    /// | token | user | roles | permissions |
    /// | --- | --- | --- | --- |
    /// | `admin-token` | `1` (Ada) | `admin` | `dashboard.view`, `users.manage` |
    /// | `alice-token` | `2` (Alice) | `editor` | `dashboard.view` |
    /// | `bob-token` | `3` (Bob) | `viewer` | |
    pub fn builtin() -> Self {
        let user =
            |token: &str, id: u64, name: &str, roles: &[&'static str], perms: &[&'static str]| {
                DemoUser {
                    token: token.to_owned(),
                    user_id: UserId::from(id),
                    name: Some(name.to_owned()),
                    roles: roles.iter().map(|r| Role::from_static(r)).collect(),
                    permissions: perms.iter().map(|p| Permission::from_static(p)).collect(),
                    expires_at: None,
                }
            };
        Self::new(vec![
            user(
                "admin-token",
                1,
                "Ada",
                &["admin"],
                &["dashboard.view", "users.manage"],
            ),
            user("alice-token", 2, "Alice", &["editor"], &["dashboard.view"]),
            user("bob-token", 3, "Bob", &["viewer"], &[]),
        ])
        .map(|users| Self {
            builtin: true,
            ..users
        })
        .expect("the built-in users are valid")
    }

    /// Users from a list; tokens must be unique and non-empty.
    ///
    /// # Errors
    ///
    /// A message naming the duplicate or empty token.
    pub fn new(users: Vec<DemoUser>) -> Result<Self, String> {
        let mut by_token = HashMap::new();
        for user in &users {
            if user.token.is_empty() {
                return Err(format!("user {} has an empty token", user.user_id));
            }
            if by_token.insert(user.token.clone(), user.clone()).is_some() {
                return Err(format!("token {:?} is used twice", user.token));
            }
        }
        Ok(Self {
            by_token: Arc::new(by_token),
            ordered: Arc::new(users),
            builtin: false,
        })
    }

    /// Users from a JSON file: a list of `{ "token", "userId", "roles", "permissions" }`.
    ///
    /// # Errors
    ///
    /// A message naming the file and what is wrong with it.
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let users: Vec<DemoUser> = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a list of users: {e}", path.display()))?;
        Self::new(users).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The user a token belongs to.
    pub fn by_token(&self, token: &str) -> Option<&DemoUser> {
        self.by_token.get(token)
    }

    /// Every user, in the order given.
    pub fn all(&self) -> &[DemoUser] {
        &self.ordered
    }

    /// Whether these are the built-in demo users, whose tokens are public. Tokens from a users
    /// file are secrets: never served or printed.
    pub fn is_builtin(&self) -> bool {
        self.builtin
    }
}
