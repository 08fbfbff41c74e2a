//! What an SSE endpoint serves and to whom: [`StreamConfig`].

use std::{collections::HashMap, fmt, num::NonZeroU32, sync::Arc, time::Duration};

use crate::TrustedProxies;

use sse_hub::{
    Authenticator, Channel, ExtensionAuthenticator, Permission, PermissionResolver, Role,
};

/// The configuration of one SSE endpoint: its channels, who may connect, heartbeats, lifetimes
/// and limits.
///
/// Every setter takes and returns the config, so a config reads as one expression.
/// [`chat`](StreamConfig::chat) and [`analytics`](StreamConfig::analytics) are presets for two
/// common endpoints.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_hub::{Channel, Role};
/// use sse_tower::{ChannelRule, RateLimit, StreamConfig};
///
/// let config = StreamConfig::new([Channel::CUSTOM, Channel::NOTIFICATIONS])
///     .require_auth(true)
///     .allowed_roles([Role::from_static("premium_user")])
///     .heartbeat_interval(Duration::from_secs(15))
///     .rate_limit(RateLimit::new(50, Duration::from_secs(60)))
///     .channel_rule(Channel::ADMIN_ACTIONS, ChannelRule::new().roles([Role::from_static("admin")]));
/// // A channel rule adds its channel to the served ones.
/// assert_eq!(config.channels().len(), 3);
/// ```
#[derive(Clone)]
#[must_use]
pub struct StreamConfig {
    pub(crate) channels: Vec<Channel>,
    pub(crate) require_auth: bool,
    pub(crate) allowed_roles: Vec<Role>,
    pub(crate) allowed_permissions: Vec<Permission>,
    pub(crate) channel_rules: HashMap<Channel, ChannelRule>,
    pub(crate) heartbeat_interval: Duration,
    pub(crate) connection_timeout: Option<Duration>,
    pub(crate) retry: Duration,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) max_streams_per_ip: Option<u32>,
    pub(crate) max_streams_per_user: Option<u32>,
    pub(crate) max_streams: Option<u32>,
    pub(crate) queue_capacity: Option<usize>,
    pub(crate) presence: bool,
    pub(crate) endpoint: String,
    pub(crate) log_user_ids: bool,
    pub(crate) trusted_proxies: TrustedProxies,
    pub(crate) authenticator: Arc<dyn Authenticator>,
    pub(crate) permission_resolver: Option<Arc<dyn PermissionResolver>>,
    pub(crate) max_query_len: usize,
}

impl StreamConfig {
    /// The default heartbeat interval.
    pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(15);
    /// The default `retry:` hint.
    pub const DEFAULT_RETRY: Duration = Duration::from_secs(3);

    /// An endpoint serving `channels` (also the default subscription when a client names
    /// none), open to anonymous clients, with a heartbeat every 15 s, a `retry:` hint of 3 s,
    /// no lifetime limit and no rate limit, taking the identity from request extensions.
    pub fn new(channels: impl IntoIterator<Item = Channel>) -> Self {
        let mut unique: Vec<Channel> = Vec::new();
        for channel in channels {
            if !unique.contains(&channel) {
                unique.push(channel);
            }
        }
        Self {
            channels: unique,
            require_auth: false,
            allowed_roles: Vec::new(),
            allowed_permissions: Vec::new(),
            channel_rules: HashMap::new(),
            heartbeat_interval: Self::DEFAULT_HEARTBEAT,
            connection_timeout: None,
            retry: Self::DEFAULT_RETRY,
            rate_limit: None,
            max_streams_per_ip: None,
            max_streams_per_user: None,
            max_streams: None,
            queue_capacity: None,
            presence: false,
            endpoint: "sse".to_owned(),
            log_user_ids: false,
            trusted_proxies: TrustedProxies::none(),
            authenticator: Arc::new(ExtensionAuthenticator),
            permission_resolver: None,
            max_query_len: 4096,
        }
    }

    /// A chat endpoint: channel `chat`, authentication required, a heartbeat every
    /// 10 s and streams of at most 10 minutes.
    pub fn chat() -> Self {
        Self::new([Channel::CHAT])
            .require_auth(true)
            .heartbeat_interval(Duration::from_secs(10))
            .connection_timeout(Duration::from_secs(600))
    }

    /// An analytics endpoint: channel `live-updates`, authentication and the permission
    /// `analytics.view` required, a heartbeat every 30 s.
    pub fn analytics() -> Self {
        Self::new([Channel::LIVE_UPDATES])
            .require_auth(true)
            .allowed_permissions([Permission::from_static("analytics.view")])
            .heartbeat_interval(Duration::from_secs(30))
    }

    /// Whether clients must be authenticated (401 otherwise).
    pub fn require_auth(mut self, require: bool) -> Self {
        self.require_auth = require;
        self
    }

    /// Clients must hold at least one of these roles (403 otherwise); implies authentication.
    pub fn allowed_roles(mut self, roles: impl IntoIterator<Item = Role>) -> Self {
        self.allowed_roles = roles.into_iter().collect();
        self
    }

    /// Clients must hold at least one of these permissions, after the resolver (403
    /// otherwise); implies authentication.
    pub fn allowed_permissions(
        mut self,
        permissions: impl IntoIterator<Item = Permission>,
    ) -> Self {
        self.allowed_permissions = permissions.into_iter().collect();
        self
    }

    /// Adds a rule for subscribing to one channel (403 when a client asks for it without
    /// satisfying it). The channel is added to the served channels if missing.
    pub fn channel_rule(mut self, channel: Channel, rule: ChannelRule) -> Self {
        if !self.channels.contains(&channel) {
            self.channels.push(channel.clone());
        }
        self.channel_rules.insert(channel, rule);
        self
    }

    /// How often idle streams get a `heartbeat` event (default 15 s; between 10 ms and a year).
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        // Beyond a year there is no heartbeat to speak of, and the timer's arithmetic stays far
        // from overflowing.
        self.heartbeat_interval =
            interval.clamp(Duration::from_millis(10), Duration::from_secs(365 * 86_400));
        self
    }

    /// The longest a stream may stay open; it then ends with a `retry:` so the client comes
    /// back. Checked at heartbeat ticks, so a stream ends at most one heartbeat interval late.
    /// A lifetime too long for the clock (such as `Duration::MAX`) is no limit.
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = Some(timeout);
        self
    }

    /// The `retry:` hint sent at the start of every stream (default 3 s).
    pub fn retry(mut self, retry: Duration) -> Self {
        self.retry = retry;
        self
    }

    /// Limits new connections per client IP (429 with `Retry-After` beyond it).
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// The most open streams per client IP.
    pub fn max_streams_per_ip(mut self, max: u32) -> Self {
        self.max_streams_per_ip = Some(max);
        self
    }

    /// The most open streams per user.
    pub fn max_streams_per_user(mut self, max: u32) -> Self {
        self.max_streams_per_user = Some(max);
        self
    }

    /// The most open streams on this endpoint.
    pub fn max_streams(mut self, max: u32) -> Self {
        self.max_streams = Some(max);
        self
    }

    /// Whether clients may ask for presence events with `?presence=true` (default: no; the
    /// request is then refused with 400). The hub announces joins and leaves on its
    /// [`presence_channels`](sse_hub::HubBuilder::presence_channels), to the connections
    /// that asked, on channels they may read.
    pub fn presence(mut self, allowed: bool) -> Self {
        self.presence = allowed;
        self
    }

    /// The endpoint's name in metrics (the `endpoint` label) and logs (`sse.endpoint`),
    /// default `sse`: name each endpoint when an application has several.
    pub fn endpoint(mut self, name: impl Into<String>) -> Self {
        self.endpoint = name.into();
        self
    }

    /// Whether stream spans carry the user id (`sse.user_id`; default: no, user ids are
    /// personal data).
    pub fn log_user_ids(mut self, log: bool) -> Self {
        self.log_user_ids = log;
        self
    }

    /// The queue capacity of each connection, in frames (default: the hub's).
    pub fn queue_capacity(mut self, frames: usize) -> Self {
        self.queue_capacity = Some(frames);
        self
    }

    /// Which peers may tell the client address in `Forwarded` / `X-Forwarded-For` (default:
    /// none, the peer address is the client address).
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// How requests are authenticated (default: an [`sse_hub::Identity`] in the request
    /// extensions, put there by the application's own middleware).
    pub fn authenticator(mut self, authenticator: impl Authenticator) -> Self {
        self.authenticator = Arc::new(authenticator);
        self
    }

    /// How effective permissions are computed for access checks and targeting (default: the
    /// hub's resolver).
    pub fn permission_resolver(mut self, resolver: impl PermissionResolver) -> Self {
        self.permission_resolver = Some(Arc::new(resolver));
        self
    }

    /// The longest query string accepted, in bytes (default 4096; 400 beyond it).
    pub fn max_query_len(mut self, bytes: usize) -> Self {
        self.max_query_len = bytes;
        self
    }

    /// The served channels.
    pub fn channels(&self) -> &[Channel] {
        &self.channels
    }

    /// Whether authentication is needed at all: required, or implied by role, permission or
    /// channel rules.
    pub(crate) fn needs_identity(&self) -> bool {
        self.require_auth || !self.allowed_roles.is_empty() || !self.allowed_permissions.is_empty()
    }
}

impl fmt::Debug for StreamConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamConfig")
            .field("channels", &self.channels)
            .field("require_auth", &self.require_auth)
            .field("allowed_roles", &self.allowed_roles)
            .field("allowed_permissions", &self.allowed_permissions)
            .field("channel_rules", &self.channel_rules)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .field("connection_timeout", &self.connection_timeout)
            .field("retry", &self.retry)
            .field("rate_limit", &self.rate_limit)
            .field("max_streams_per_ip", &self.max_streams_per_ip)
            .field("max_streams_per_user", &self.max_streams_per_user)
            .field("max_streams", &self.max_streams)
            .field("queue_capacity", &self.queue_capacity)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish_non_exhaustive()
    }
}

/// Who may subscribe to one channel.
///
/// A client asking for the channel must be authenticated if the rule says so, hold one of its
/// roles if it lists any, and one of its permissions if it lists any.
///
/// # Examples
///
/// ```
/// use sse_hub::{Permission, Role};
/// use sse_tower::ChannelRule;
///
/// let admins = ChannelRule::new().roles([Role::from_static("admin")]);
/// let reviewers = ChannelRule::new().permissions([Permission::from_static("content.review")]);
/// # let _ = (admins, reviewers);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct ChannelRule {
    pub(crate) require_auth: bool,
    pub(crate) roles: Vec<Role>,
    pub(crate) permissions: Vec<Permission>,
}

impl ChannelRule {
    /// A rule that only requires what the endpoint requires.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requires authentication.
    pub fn require_auth(mut self) -> Self {
        self.require_auth = true;
        self
    }

    /// Requires one of these roles (and authentication).
    pub fn roles(mut self, roles: impl IntoIterator<Item = Role>) -> Self {
        self.roles = roles.into_iter().collect();
        self
    }

    /// Requires one of these permissions (and authentication).
    pub fn permissions(mut self, permissions: impl IntoIterator<Item = Permission>) -> Self {
        self.permissions = permissions.into_iter().collect();
        self
    }
}

/// New connections allowed per client IP: `max_connections` per `window` (for example 50 per
/// minute).
///
/// The limit is a token bucket (GCRA, by `governor`): a burst of `max_connections`, refilled
/// evenly over the window.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let limit = sse_tower::RateLimit::new(50, Duration::from_secs(60));
/// # let _ = limit;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub(crate) max_connections: NonZeroU32,
    pub(crate) window: Duration,
}

impl RateLimit {
    /// `max_connections` per `window` (a zero count is taken as one, a zero window as 1 ms).
    pub fn new(max_connections: u32, window: Duration) -> Self {
        Self {
            max_connections: NonZeroU32::new(max_connections).unwrap_or(NonZeroU32::MIN),
            window: window.max(Duration::from_millis(1)),
        }
    }
}
