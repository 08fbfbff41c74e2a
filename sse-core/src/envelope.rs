//! Envelopes: messages validated and encoded once, as they travel through the backplane.

use std::{fmt, sync::Arc};

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use crate::{
    Channel, Cursor, EventType, FrameBuilder, MessageId, Permission, Role, Target, UserId,
    error::{BackplaneError, MessageError},
    message::{CoalesceKey, MessageParts},
    wire::EventEnvelope,
};

/// A message after validation: its routing metadata and its SSE frame, encoded once.
///
/// The frame holds the `event:` and `data:` lines; the `id:` line (the cursor) is added when the
/// backplane has placed the message in its log, once per message and instance, never per
/// recipient. Every recipient then gets a clone of the same [`Bytes`].
///
/// Backplanes that leave the process carry an envelope as the bytes of
/// [`to_transport`](Envelope::to_transport) and rebuild it with
/// [`from_transport`](Envelope::from_transport); the frame travels as it was encoded.
#[derive(Clone)]
pub struct Envelope {
    /// Shared by the envelope a hub encodes and the log entries made from it.
    routing: Arc<Routing>,
    body: Bytes,
}

/// What the hub routes by. Kept apart from the payload, which lives only in the encoded frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Routing {
    pub(crate) id: MessageId,
    pub(crate) channel: Channel,
    pub(crate) event: EventType,
    pub(crate) timestamp: u64,
    /// When the hub that encoded the message received it: the clock that expiry, history age
    /// and replay order follow (absent from entries written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) received_at: Option<u64>,
    pub(crate) target: Target,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) target_users: Vec<UserId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) target_roles: Vec<Role>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) target_permissions: Vec<Permission>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) exclude_users: Vec<UserId>,
    pub(crate) priority: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) expires_at: Option<u64>,
    pub(crate) persistent: bool,
    pub(crate) retryable: bool,
    pub(crate) require_auth: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) coalesce_key: Option<CoalesceKey>,
    /// A presence event: only connections that asked for presence events receive it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) presence: bool,
    /// A token unique to one send, by which the sending hub recognises its own message when a
    /// shared backplane hands it back (message ids are the application's and may repeat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) send_token: Option<String>,
}

/// The view of a connection that targeting decisions need.
pub(crate) struct Recipient<'a> {
    pub(crate) user: Option<&'a UserId>,
    pub(crate) roles: &'a [Role],
    pub(crate) permissions: &'a [Permission],
    pub(crate) channels: &'a [Channel],
    /// Whether the connection asked for presence events.
    pub(crate) presence: bool,
}

impl Envelope {
    /// Validates the message parts and encodes the frame.
    pub(crate) fn encode(
        parts: MessageParts,
        id: MessageId,
        now_ms: u64,
        limits: &Limits,
    ) -> Result<Self, MessageError> {
        if parts.priority > crate::Message::MAX_PRIORITY {
            return Err(MessageError::Priority(parts.priority));
        }
        if parts.ttl == Some(0) {
            return Err(MessageError::ZeroTtl);
        }
        // A list goes with its own target only: a list another target would ignore (or that
        // the default target `all` would widen to everyone) is refused, never guessed at.
        let lists = [
            (
                "targetUsers",
                parts.target_users.is_empty(),
                Target::UserSpecific,
            ),
            (
                "targetRoles",
                parts.target_roles.is_empty(),
                Target::RoleBased,
            ),
            (
                "targetPermissions",
                parts.target_permissions.is_empty(),
                Target::PermissionBased,
            ),
        ];
        for (field, empty, reader) in lists {
            if !empty && parts.target != reader {
                return Err(MessageError::TargetMismatch {
                    field,
                    target: parts.target.as_str(),
                    needs: reader.as_str(),
                });
            }
            if empty && parts.target == reader {
                return Err(MessageError::EmptyTarget {
                    target: parts.target.as_str(),
                    field,
                });
            }
        }
        let mut users = parts.target_users;
        let mut roles = parts.target_roles;
        let mut permissions = parts.target_permissions;
        let mut excluded = parts.exclude_users;
        let lists_len = sorted_list(&mut users, "targetUsers", limits.max_list)?
            + sorted_list(&mut roles, "targetRoles", limits.max_list)?
            + sorted_list(&mut permissions, "targetPermissions", limits.max_list)?
            + sorted_list(&mut excluded, "excludeUsers", limits.max_list)?;
        // The hub's own clock decides expiry, history age and order; the publisher's
        // timestamp, if any, is shown to clients as data.
        let timestamp = parts.timestamp.unwrap_or(now_ms);
        let frame = FrameBuilder::with_capacity(96).event_data(&EventEnvelope {
            id: id.as_str(),
            channel: &parts.channel,
            event: &parts.event,
            data: &parts.data,
            timestamp,
        })?;
        let fields_before_data = "event: \n".len() + parts.event.as_str().len();
        let size = frame.len() - fields_before_data - "data: \n".len() + lists_len;
        if size > limits.max_payload {
            return Err(MessageError::TooLarge {
                size,
                max: limits.max_payload,
            });
        }
        Ok(Self {
            routing: Arc::new(Routing {
                id,
                channel: parts.channel,
                event: parts.event,
                timestamp,
                received_at: Some(now_ms),
                target: parts.target,
                target_users: users,
                target_roles: roles,
                target_permissions: permissions,
                exclude_users: excluded,
                priority: parts.priority,
                expires_at: parts
                    .ttl
                    .map(|ttl| now_ms.saturating_add(u64::from(ttl) * 1000)),
                persistent: parts.persistent,
                retryable: parts.retryable,
                require_auth: parts.require_auth,
                presence: parts.presence,
                coalesce_key: parts.coalesce_key,
                send_token: None,
            }),
            // The builder's buffer grew by doubling; see `shrunk`.
            body: frame.finish(),
        })
    }

    /// The frame to write for this envelope at `cursor`: `id: <cursor>` and the encoded body,
    /// in an allocation of exactly its size.
    ///
    /// The hub calls it once per log entry ([`Entry::new`](crate::Entry::new)); every
    /// recipient, live or replaying, then shares that frame.
    pub fn frame(&self, cursor: &Cursor) -> Bytes {
        let mut id = [0_u8; Cursor::MAX_LEN];
        let id_len = {
            let mut rest = &mut id[..];
            cursor.write_to(&mut rest);
            Cursor::MAX_LEN - rest.len()
        };
        let mut buf = BytesMut::with_capacity("id: \n".len() + id_len + self.body.len());
        buf.put_slice(b"id: ");
        buf.put_slice(&id[..id_len]);
        buf.put_u8(b'\n');
        buf.put_slice(&self.body);
        buf.freeze()
    }

    /// The envelope with its body in an allocation of exactly its size, for an envelope that is
    /// kept (a sent one is framed, and so copied, right away).
    pub(crate) fn shrunk(mut self) -> Self {
        self.body = Bytes::copy_from_slice(&self.body);
        self
    }

    /// This envelope framed at `cursor`, and a copy of the envelope whose body shares the
    /// frame's bytes, so that a log entry holds its message once.
    pub(crate) fn framed(&self, cursor: &Cursor) -> (Bytes, Self) {
        let frame = self.frame(cursor);
        let body = frame.slice(frame.len() - self.body.len()..);
        let envelope = Self {
            routing: Arc::clone(&self.routing),
            body,
        };
        (frame, envelope)
    }

    /// The encoded `event:` and `data:` lines and the closing blank line, without an `id:`.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The message id.
    pub fn id(&self) -> &MessageId {
        &self.routing.id
    }

    /// The channel.
    pub fn channel(&self) -> &Channel {
        &self.routing.channel
    }

    /// The event type.
    pub fn event(&self) -> &EventType {
        &self.routing.event
    }

    /// The timestamp clients see, in milliseconds since the Unix epoch: the publisher's, if it
    /// gave one, else when the hub received the message.
    pub fn timestamp(&self) -> u64 {
        self.routing.timestamp
    }

    /// When the hub received the message, in milliseconds since the Unix epoch: what its TTL,
    /// history age and replay order follow.
    pub fn received_at(&self) -> u64 {
        self.routing.received_at.unwrap_or(self.routing.timestamp)
    }

    /// The priority, 0 to 10.
    pub fn priority(&self) -> u8 {
        self.routing.priority
    }

    /// When the message expires, in milliseconds since the Unix epoch.
    pub fn expires_at(&self) -> Option<u64> {
        self.routing.expires_at
    }

    /// Whether the message has expired at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.routing.expires_at.is_some_and(|at| now_ms >= at)
    }

    /// Whether the message is kept for connections that open later.
    pub fn is_persistent(&self) -> bool {
        self.routing.persistent
    }

    /// Whether the message is kept in history for reconnecting clients.
    pub fn is_retryable(&self) -> bool {
        self.routing.retryable
    }

    /// The coalescing key, if any.
    pub fn coalesce_key(&self) -> Option<&CoalesceKey> {
        self.routing.coalesce_key.as_ref()
    }

    /// The target kind.
    pub fn target(&self) -> Target {
        self.routing.target
    }

    pub(crate) fn routing(&self) -> &Routing {
        &self.routing
    }

    pub(crate) fn send_token(&self) -> Option<&str> {
        self.routing.send_token.as_deref()
    }

    /// Marks the envelope with the token of one send. The routing is copied only if another
    /// envelope shares it.
    pub(crate) fn set_send_token(&mut self, token: String) {
        Arc::make_mut(&mut self.routing).send_token = Some(token);
    }

    /// Approximate heap bytes held by this envelope, for memory statistics.
    pub fn heap_size(&self) -> usize {
        let r = &self.routing;
        self.body.len()
            + std::mem::size_of::<Self>()
            + std::mem::size_of::<Routing>()
            + r.target_users.iter().map(|u| u.len() + 32).sum::<usize>()
            + r.target_roles.iter().map(|x| x.len() + 32).sum::<usize>()
            + r.target_permissions
                .iter()
                .map(|x| x.len() + 32)
                .sum::<usize>()
            + r.exclude_users.iter().map(|u| u.len() + 32).sum::<usize>()
    }

    /// The envelope as bytes for a backplane that leaves the process: the routing metadata as
    /// one line of JSON, then the encoded frame unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// use sse_hub::{Channel, Envelope, EventType, Hub, Message};
    ///
    /// let hub = Hub::new();
    /// let envelope = hub.encode(Message::new(Channel::CHAT, EventType::Data, "hi".into()))?;
    /// let bytes = envelope.to_transport();
    /// let back = Envelope::from_transport(&bytes)?;
    /// assert_eq!(back.body(), envelope.body());
    /// # Ok(()) }
    /// ```
    pub fn to_transport(&self) -> Bytes {
        let mut buf = BytesMut::with_capacity(self.body.len() + 256);
        serde_json::to_writer((&mut buf).writer(), &*self.routing)
            .expect("routing metadata always serialises");
        buf.put_u8(b'\n');
        buf.put_slice(&self.body);
        buf.freeze()
    }

    /// Rebuilds an envelope from the bytes of [`to_transport`](Envelope::to_transport).
    ///
    /// # Errors
    ///
    /// [`BackplaneError::Corrupt`] when the bytes are not an encoded envelope.
    pub fn from_transport(bytes: &[u8]) -> Result<Self, BackplaneError> {
        let newline = bytes
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(BackplaneError::Corrupt(
                "envelope has no routing line".into(),
            ))?;
        let mut routing: Routing = serde_json::from_slice(&bytes[..newline])
            .map_err(|e| BackplaneError::Corrupt(format!("envelope routing: {e}").into()))?;
        // Membership is a binary search: the lists must be sorted, whoever encoded them.
        sort(&mut routing.target_users);
        sort(&mut routing.target_roles);
        sort(&mut routing.target_permissions);
        sort(&mut routing.exclude_users);
        let body = Bytes::copy_from_slice(&bytes[newline + 1..]);
        if !body.ends_with(b"\n\n") {
            return Err(BackplaneError::Corrupt(
                "envelope frame is not terminated".into(),
            ));
        }
        Ok(Self {
            routing: Arc::new(routing),
            body,
        })
    }

    /// Whether the message goes to `recipient`: subscribed to the channel, selected by the
    /// target, not excluded, and authenticated where that is required.
    pub(crate) fn admits(&self, recipient: &Recipient<'_>) -> bool {
        let r = &self.routing;
        if !recipient.channels.contains(&r.channel) {
            return false;
        }
        self.admits_identity(recipient)
    }

    /// [`admits`](Self::admits) without the channel check, for callers that walked the channel.
    pub(crate) fn admits_identity(&self, recipient: &Recipient<'_>) -> bool {
        let r = &self.routing;
        if r.presence && !recipient.presence {
            return false;
        }
        // The lists are sorted (see `sorted_list`): membership is a binary search, and a
        // connection's own few roles and permissions are looked up in the long lists.
        if let Some(user) = recipient.user {
            if r.exclude_users.binary_search(user).is_ok() {
                return false;
            }
        } else if r.require_auth || r.target == Target::Authenticated {
            return false;
        }
        match r.target {
            Target::All | Target::Authenticated => true,
            Target::UserSpecific => recipient
                .user
                .is_some_and(|u| r.target_users.binary_search(u).is_ok()),
            Target::RoleBased => recipient
                .roles
                .iter()
                .any(|role| r.target_roles.binary_search(role).is_ok()),
            Target::PermissionBased => recipient
                .permissions
                .iter()
                .any(|p| r.target_permissions.binary_search(p).is_ok()),
        }
    }
}

impl Envelope {
    /// Why the message does not go to `recipient`, in words; `None` when it does.
    pub(crate) fn refusal(&self, recipient: &Recipient<'_>) -> Option<String> {
        let r = &self.routing;
        if !recipient.channels.contains(&r.channel) {
            return Some(format!("not subscribed to the channel {}", r.channel));
        }
        if let Some(user) = recipient.user {
            if r.exclude_users.binary_search(user).is_ok() {
                return Some("the user is excluded (excludeUsers)".to_owned());
            }
        } else if r.require_auth {
            return Some("anonymous, and the message requires authentication".to_owned());
        } else if r.target == Target::Authenticated {
            return Some("anonymous, and the message targets authenticated users".to_owned());
        }
        if r.presence && !recipient.presence {
            return Some("a presence event, and the connection did not ask for them".to_owned());
        }
        if self.admits_identity(recipient) {
            return None;
        }
        let list = |items: Vec<&str>| items.join(", ");
        Some(match r.target {
            Target::UserSpecific => "the user is not among targetUsers".to_owned(),
            Target::RoleBased => format!(
                "holds none of the roles {}",
                list(r.target_roles.iter().map(|x| x.as_str()).collect())
            ),
            Target::PermissionBased => format!(
                "holds none of the permissions {}",
                list(r.target_permissions.iter().map(|x| x.as_str()).collect())
            ),
            Target::All | Target::Authenticated => "not a recipient".to_owned(),
        })
    }
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("routing", &self.routing)
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
}

/// The limits a message is encoded under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The largest encoded event plus recipient lists, in bytes.
    pub(crate) max_payload: usize,
    /// The most entries of one recipient list.
    pub(crate) max_list: usize,
}

/// Sorts and deduplicates a recipient list, checks its length, and returns its size in bytes
/// (each entry and a separator), which counts toward the size limit.
fn sorted_list<T: Ord + AsRef<str>>(
    items: &mut Vec<T>,
    field: &'static str,
    max: usize,
) -> Result<usize, MessageError> {
    items.sort_unstable();
    items.dedup();
    if items.len() > max {
        return Err(MessageError::TooManyTargets {
            field,
            len: items.len(),
            max,
        });
    }
    Ok(items.iter().map(|item| item.as_ref().len() + 1).sum())
}

fn sort<T: Ord>(items: &mut [T]) {
    if !items.is_sorted() {
        items.sort_unstable();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Hub, Message};

    fn recipient<'a>(user: Option<&'a UserId>, channels: &'a [Channel]) -> Recipient<'a> {
        Recipient {
            user,
            roles: &[],
            permissions: &[],
            channels,
            presence: false,
        }
    }

    #[test]
    fn refusals_say_why_a_connection_is_not_a_recipient() {
        let hub = Hub::new();
        let encode = |m: Message| hub.encode(m).unwrap();
        let chat = [Channel::CHAT];
        let data = || Message::new(Channel::CHAT, crate::EventType::Data, 1.into());
        let anonymous = recipient(None, &chat);
        assert_eq!(
            encode(data().require_auth()).refusal(&anonymous).as_deref(),
            Some("anonymous, and the message requires authentication")
        );
        assert_eq!(
            encode(data().to_authenticated())
                .refusal(&anonymous)
                .as_deref(),
            Some("anonymous, and the message targets authenticated users")
        );
        assert_eq!(encode(data()).refusal(&anonymous), None);
        let presence = Message::presence_event(Channel::CHAT, crate::EventType::Data, 1.into());
        assert_eq!(
            encode(presence).refusal(&anonymous).as_deref(),
            Some("a presence event, and the connection did not ask for them")
        );
        let user = UserId::from(3);
        let alerts = [Channel::ALERTS];
        assert_eq!(
            encode(data())
                .refusal(&recipient(Some(&user), &alerts))
                .as_deref(),
            Some("not subscribed to the channel chat")
        );
    }
}
