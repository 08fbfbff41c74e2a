//! Authorization: who may open a stream on an endpoint, and on which of its channels.

use std::fmt;

use sse_hub::{Channel, Hub, Identity, Permission, Role};

use crate::{ChannelRule, StreamConfig, error::Rejection, request::StreamRequest};

/// A request the endpoint's and the channels' rules allow.
#[derive(Debug)]
pub(crate) struct Authorized {
    pub(crate) identity: Identity,
    /// The identity's effective permissions, resolved once.
    pub(crate) permissions: Vec<Permission>,
    /// The channels to subscribe to.
    pub(crate) channels: Vec<Channel>,
}

/// Checks the endpoint's and the channels' rules.
///
/// A channel the client asked for by name must be allowed (401 or 403 otherwise); from the
/// endpoint's default channels, those the client may not read are left out.
impl StreamConfig {
    /// The caller of a request, as this endpoint's [`Authenticator`](sse_hub::Authenticator)
    /// says (by default, the [`Identity`] the app's middleware put into the request
    /// extensions): `None` for an anonymous caller. With [`check_read`](Self::check_read), an
    /// endpoint next to the stream judges its callers as the stream would.
    ///
    /// # Errors
    ///
    /// The authenticator's refusal (401 for invalid credentials, or its own status).
    pub async fn authenticate(
        &self,
        parts: &http::request::Parts,
    ) -> Result<Option<Identity>, Rejection> {
        self.authenticator
            .authenticate(parts)
            .await
            .map_err(Rejection::from)
    }

    /// Whether `identity` (`None` for an anonymous caller) may read `channel` on this
    /// endpoint, as a stream request naming that channel would be judged: for endpoints that
    /// serve something about a channel besides its stream, such as its presence.
    ///
    /// # Errors
    ///
    /// The [`Rejection`] a stream request would get: 404 for a channel the endpoint does not
    /// serve, 401 or 403 when its rules are not met.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use sse_hub::{Channel, Hub, Identity, Role, UserId};
    /// use sse_tower::{ChannelRule, StreamConfig};
    ///
    /// let config = StreamConfig::new([Channel::CHAT, Channel::ADMIN_ACTIONS]).channel_rule(
    ///     Channel::ADMIN_ACTIONS,
    ///     ChannelRule::new().roles([Role::from_static("admin")]),
    /// );
    /// let hub = Hub::new();
    /// let bob = Identity::user(UserId::from(3));
    /// assert!(config.check_read(&hub, Some(bob.clone()), &Channel::CHAT).await.is_ok());
    /// let refused = config.check_read(&hub, Some(bob), &Channel::ADMIN_ACTIONS).await;
    /// assert_eq!(refused.unwrap_err().status(), http::StatusCode::FORBIDDEN);
    /// # }
    /// ```
    pub async fn check_read(
        &self,
        hub: &Hub,
        identity: Option<Identity>,
        channel: &Channel,
    ) -> Result<(), Rejection> {
        if !self.channels.contains(channel) {
            return Err(Rejection::not_found(format!(
                "unknown channel \"{channel}\""
            )));
        }
        let request = StreamRequest {
            channels: vec![channel.clone()],
            explicit: true,
            last_event_id: None,
            presence: false,
            peer: None,
            client_ip: None,
        };
        authorize(self, hub, identity, &request).await.map(|_| ())
    }
}

pub(crate) async fn authorize(
    config: &StreamConfig,
    hub: &Hub,
    identity: Option<Identity>,
    request: &StreamRequest,
) -> Result<Authorized, Rejection> {
    let restricts = |rule: &ChannelRule| {
        rule.require_auth || !rule.roles.is_empty() || !rule.permissions.is_empty()
    };
    let needs_identity = config.needs_identity()
        || (request.explicit
            && request
                .channels
                .iter()
                .filter_map(|c| config.channel_rules.get(c))
                .any(restricts));
    let identity = match identity {
        Some(identity) if identity.is_authenticated() => identity,
        _ if needs_identity => {
            return Err(Rejection::unauthorized("authentication required"));
        }
        other => other.unwrap_or_default(),
    };
    let permissions = match &config.permission_resolver {
        Some(resolver) => resolver.resolve(&identity).await?,
        None => hub.permission_resolver().resolve(&identity).await?,
    };
    let holds_role = |roles: &[Role]| roles.iter().any(|r| identity.has_role(r));
    let holds_permission = |wanted: &[Permission]| wanted.iter().any(|p| permissions.contains(p));
    if !config.allowed_roles.is_empty() && !holds_role(&config.allowed_roles) {
        return Err(Rejection::forbidden(format!(
            "one of the roles {} is required",
            list(&config.allowed_roles)
        )));
    }
    if !config.allowed_permissions.is_empty() && !holds_permission(&config.allowed_permissions) {
        return Err(Rejection::forbidden(format!(
            "one of the permissions {} is required",
            list(&config.allowed_permissions)
        )));
    }
    let mut channels = Vec::with_capacity(request.channels.len());
    for channel in &request.channels {
        let refusal = config.channel_rules.get(channel).and_then(|rule| {
            if rule.require_auth && !identity.is_authenticated() {
                Some(Rejection::unauthorized("authentication required"))
            } else if !rule.roles.is_empty() && !holds_role(&rule.roles) {
                Some(Rejection::forbidden(format!(
                    "channel \"{channel}\" requires one of the roles {}",
                    list(&rule.roles)
                )))
            } else if !rule.permissions.is_empty() && !holds_permission(&rule.permissions) {
                Some(Rejection::forbidden(format!(
                    "channel \"{channel}\" requires one of the permissions {}",
                    list(&rule.permissions)
                )))
            } else {
                None
            }
        });
        match refusal {
            Some(refusal) if request.explicit => return Err(refusal),
            Some(_) => {}
            None => channels.push(channel.clone()),
        }
    }
    if channels.is_empty() {
        if !identity.is_authenticated() {
            return Err(Rejection::unauthorized("authentication required"));
        }
        return Err(Rejection::forbidden(
            "none of this endpoint's channels may be read with these credentials",
        ));
    }
    Ok(Authorized {
        identity,
        permissions,
        channels,
    })
}

fn list<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| format!("\"{i}\""))
        .collect::<Vec<_>>()
        .join(", ")
}
