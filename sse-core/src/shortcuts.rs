//! Shortcuts for the common messages: toasts, admin notifications, broadcasts, cache
//! invalidation.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    Channel, EventType, Hub, Message, SendReport, UserId,
    error::SendError,
    message::CoalesceKey,
    name::{Rule, is_id_char},
    system,
    wire::{CacheInvalidationData, ResourceRefreshData, ToastData},
};

const RESOURCE_RULE: Rule = Rule {
    field: "resource",
    max: 200,
    allowed: "any character but control characters",
    accepts: is_id_char,
};

/// The kind of a toast; clients style it. Serialised lowercase (`"success"`).
///
/// # Examples
///
/// ```
/// assert_eq!(serde_json::to_string(&sse_hub::ToastKind::Warning).unwrap(), "\"warning\"");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(description = "The kind of a toast; clients style it.")
)]
#[serde(rename_all = "lowercase")]
pub enum ToastKind {
    /// A success confirmation.
    Success,
    /// An error.
    Error,
    /// A warning.
    Warning,
    /// Information (the default).
    #[default]
    Info,
}

/// Options of a toast: how long it shows and whether the user can dismiss it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sse_hub::ToastOptions;
///
/// let options = ToastOptions::default().duration(Duration::from_secs(10)).dismissible(false);
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct ToastOptions {
    duration: Duration,
    dismissible: bool,
}

impl Default for ToastOptions {
    fn default() -> Self {
        Self {
            duration: Duration::from_secs(5),
            dismissible: true,
        }
    }
}

impl ToastOptions {
    /// How long the toast shows (default: 5 s).
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = duration;
        self
    }

    /// Whether the user can dismiss it (default: true).
    pub fn dismissible(mut self, dismissible: bool) -> Self {
        self.dismissible = dismissible;
        self
    }
}

/// Options of [`Hub::trigger_refresh`].
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use sse_hub::{Channel, Hub, RefreshOptions};
///
/// let hub = Hub::new();
/// hub.trigger_refresh(
///     "user-list",
///     RefreshOptions::default().channel(Channel::ADMIN_ACTIONS).reason("user_status_update"),
/// )
/// .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct RefreshOptions {
    channel: Channel,
    reason: Option<String>,
}

impl Default for RefreshOptions {
    fn default() -> Self {
        Self {
            channel: Channel::LIVE_UPDATES,
            reason: None,
        }
    }
}

impl RefreshOptions {
    /// The channel to send the refresh on (default: `live-updates`).
    pub fn channel(mut self, channel: Channel) -> Self {
        self.channel = channel;
        self
    }

    /// Why the refresh is needed, passed to clients.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

impl Hub {
    /// Sends a toast to one user: channel `toasts`, event `toast`, data
    /// `{"message", "type", "duration", "dismissible"}` (duration in milliseconds). Toasts are
    /// not replayed after a reconnect: they are momentary.
    ///
    /// # Errors
    ///
    /// As [`Hub::send`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use sse_hub::{Hub, ToastKind, ToastOptions};
    ///
    /// let hub = Hub::new();
    /// let report = hub
    ///     .send_toast(123, "Operation completed successfully!", ToastKind::Success, ToastOptions::default())
    ///     .await?;
    /// assert_eq!(report.sent, 0); // nobody is connected
    /// # Ok(()) }
    /// ```
    pub async fn send_toast(
        &self,
        user: impl Into<UserId>,
        text: impl Into<String>,
        kind: ToastKind,
        options: ToastOptions,
    ) -> Result<SendReport, SendError> {
        let data = ToastData {
            message: text.into(),
            kind,
            duration: u64::try_from(options.duration.as_millis()).unwrap_or(u64::MAX),
            dismissible: options.dismissible,
        };
        self.send(
            Message::json(Channel::TOASTS, EventType::Toast, &data)
                .expect("toast data always serialises")
                .to_users([user.into()])
                .retryable(false),
        )
        .await
    }

    /// Notifies every connection holding the admin role (see
    /// [`HubBuilder::admin_role`](crate::HubBuilder::admin_role)) on `admin-actions`.
    ///
    /// # Errors
    ///
    /// As [`Hub::send`].
    pub async fn notify_admins(
        &self,
        event: EventType,
        data: Value,
    ) -> Result<SendReport, SendError> {
        let role = self.admin_role().clone();
        self.send(Message::new(Channel::ADMIN_ACTIONS, event, data).to_roles([role]))
            .await
    }

    /// Sends to every subscriber of `channel`.
    ///
    /// # Errors
    ///
    /// As [`Hub::send`].
    pub async fn broadcast_to_channel(
        &self,
        channel: Channel,
        event: EventType,
        data: Value,
    ) -> Result<SendReport, SendError> {
        self.send(Message::new(channel, event, data)).await
    }

    /// Sends to the given users' connections subscribed to `channel`.
    ///
    /// # Errors
    ///
    /// As [`Hub::send`].
    pub async fn send_to_users<U: Into<UserId>>(
        &self,
        users: impl IntoIterator<Item = U>,
        channel: Channel,
        event: EventType,
        data: Value,
    ) -> Result<SendReport, SendError> {
        self.send(Message::new(channel, event, data).to_users(users))
            .await
    }

    /// Tells clients to drop what they cached from each channel: a `refresh` event with data
    /// `{"type":"cache-invalidation","channel":...}` per channel, to the given users or, with
    /// `None`, to everyone. A queued invalidation that has not been written yet is replaced by
    /// the newer one (coalescing key `invalidate:<channel>`).
    ///
    /// # Errors
    ///
    /// As [`Hub::send`], for the first channel that fails; earlier channels were sent.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use sse_hub::{Channel, Hub, UserId};
    ///
    /// let hub = Hub::new();
    /// let reports = hub.invalidate_client_caches([Channel::ALERTS], None::<Vec<UserId>>).await?;
    /// assert_eq!(reports.len(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn invalidate_client_caches<U: Into<UserId>>(
        &self,
        channels: impl IntoIterator<Item = Channel>,
        users: Option<impl IntoIterator<Item = U>>,
    ) -> Result<Vec<SendReport>, SendError> {
        let users: Option<Vec<UserId>> = users.map(|u| u.into_iter().map(Into::into).collect());
        let mut reports = Vec::new();
        for channel in channels {
            let key = CoalesceKey::new(format!("invalidate:{channel}"))
                .expect("channel names are valid in keys");
            let data = CacheInvalidationData {
                kind: system::CACHE_INVALIDATION,
                channel: &channel,
            };
            let mut message = Message::json(channel.clone(), EventType::Refresh, &data)
                .expect("cache invalidation data always serialises")
                .coalesce_key(key);
            if let Some(users) = &users {
                message = message.to_users(users.iter().cloned());
            }
            reports.push(self.send(message).await?);
        }
        Ok(reports)
    }

    /// Asks clients to reload `resource`: a `refresh` event with data
    /// `{"resource", "reason"}` on the options' channel (default `live-updates`), coalesced per
    /// resource.
    ///
    /// # Errors
    ///
    /// As [`Hub::send`]; [`SendError::Invalid`] when `resource` is empty, longer than 200
    /// characters or holds control characters.
    pub async fn trigger_refresh(
        &self,
        resource: &str,
        options: RefreshOptions,
    ) -> Result<SendReport, SendError> {
        RESOURCE_RULE
            .check(resource)
            .map_err(|e| SendError::Invalid(e.into()))?;
        let key = CoalesceKey::new(format!("refresh:{resource}"))
            .expect("a valid resource makes a valid key");
        let data = ResourceRefreshData {
            resource,
            reason: options.reason.as_deref(),
        };
        let message = Message::json(options.channel, EventType::Refresh, &data)
            .expect("refresh data always serialises");
        self.send(message.coalesce_key(key)).await
    }
}
