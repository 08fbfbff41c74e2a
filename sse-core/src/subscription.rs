//! The receiving half of a connection.

use std::{
    fmt,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use bytes::Bytes;
use futures_core::Stream;
use serde::Serialize;

use crate::{Channel, ConnectionId, UserId, connection::Connection, registry::Roster};

/// What a connection got when it opened: the content of the `connected` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Connected {
    /// The connection id.
    pub connection_id: ConnectionId,
    /// The subscribed channels.
    pub channels: Vec<Channel>,
    /// The user, if authenticated (`null` for an anonymous connection).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, required = true))]
    pub user_id: Option<UserId>,
    /// Whether the client resumed from a cursor.
    pub resumed: bool,
    /// Frames queued from history and the persistent cache before live messages.
    pub replayed: usize,
    /// Whether the history no longer reached the client's cursor (a `history-gap` refresh was
    /// queued first).
    pub history_gap: bool,
}

/// The receiving half of a connection: yields the encoded frames to write, in order.
///
/// Each item is one chunk for one write: when several frames wait, they come out together
/// (up to the hub's batch size), so a server makes one write rather than one per event.
/// The stream ends after the final `retry:` frame when the hub closes the connection (too slow,
/// disconnected, shutting down).
///
/// Dropping the subscription unregisters the connection at once.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use serde_json::json;
/// use sse_hub::{Channel, ConnectOptions, EventType, Hub, Identity, Message};
///
/// let hub = Hub::new();
/// let mut subscription = hub
///     .connect(ConnectOptions::new(Identity::anonymous()).channels([Channel::SYSTEM]))
///     .await?;
/// hub.send(Message::new(Channel::SYSTEM, EventType::Broadcast, json!("maintenance at 5"))).await?;
///
/// let chunk = subscription.recv().await.unwrap();
/// let text = std::str::from_utf8(&chunk)?;
/// assert!(text.starts_with("id: "));
/// assert!(text.contains("event: broadcast\ndata: {"));
/// assert!(text.contains("\"data\":\"maintenance at 5\""));
/// # Ok(()) }
/// ```
pub struct Subscription {
    pub(crate) conn: Arc<Connection>,
    /// What the connection reports to and leaves when dropped: not the whole hub.
    pub(crate) roster: Arc<Roster>,
    pub(crate) replayed: u32,
    pub(crate) resumed: bool,
    pub(crate) history_gap: bool,
    pub(crate) done: bool,
}

impl Subscription {
    /// The connection id.
    pub fn id(&self) -> ConnectionId {
        self.roster.origin.connection_id(self.conn.seq)
    }

    /// What the connection got when it opened: the content of the `connected` event.
    pub fn connected(&self) -> Connected {
        Connected {
            connection_id: self.id(),
            channels: self.conn.channels.to_vec(),
            user_id: self.conn.user.clone(),
            resumed: self.resumed,
            replayed: self.replayed as usize,
            history_gap: self.history_gap,
        }
    }

    /// Records that something (such as a heartbeat) was written, for
    /// [`ConnectionInfo::last_activity`](crate::ConnectionInfo::last_activity).
    pub fn touch(&self) {
        self.conn.touch(self.roster.clock.now_ms());
    }

    /// When the connection's credentials expire (milliseconds since the Unix epoch), if they
    /// do; [`Hub::refresh_user`](crate::Hub::refresh_user) may move it.
    ///
    /// The stream ends with the `auth-expired` refresh when it is polled at or after that
    /// moment; a server wakes it then with a timer of its own (the `Subscription` has none).
    pub fn expires_at(&self) -> Option<u64> {
        self.conn.expires_at()
    }

    /// Why the stream ended, once it did: the hub's reason (too slow, kicked, banned,
    /// credentials ended, shut down) or the one a server gave with
    /// [`end_for_lifetime`](Subscription::end_for_lifetime); `None` while it is open. A
    /// subscription dropped with none counts as the client gone.
    pub fn close_reason(&self) -> Option<crate::CloseReason> {
        self.conn.close_reason()
    }

    /// Records that the server ends the stream because it reached its lifetime (unless the
    /// hub ended it first), for statistics and logs. The server writes its own final `retry:`
    /// and drops the subscription.
    pub fn end_for_lifetime(&self) {
        self.conn.ended_by(crate::CloseReason::Lifetime);
    }

    /// Frames waiting to be written.
    pub fn queue_len(&self) -> usize {
        self.conn.queue_len()
    }

    /// Polls for the next chunk of frames; `Ready(None)` once the stream has ended.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        if self.done {
            return Poll::Ready(None);
        }
        let roster = &*self.roster;
        if let Some(at) = self.conn.expires_at() {
            if roster.clock.now_ms() >= at {
                roster.expire(&self.conn);
            }
        }
        let next = self
            .conn
            .poll_next(cx, &roster.clock, roster.max_batch_bytes, &roster.counters);
        if let Poll::Ready(None) = next {
            self.done = true;
        }
        next
    }

    /// Waits for the next chunk of frames; `None` once the stream has ended.
    pub async fn recv(&mut self) -> Option<Bytes> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }
}

impl Stream for Subscription {
    type Item = Bytes;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        self.get_mut().poll_recv(cx)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.roster.unregister(&self.conn);
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id())
            .field("resumed", &self.resumed)
            .field("done", &self.done)
            .finish()
    }
}
