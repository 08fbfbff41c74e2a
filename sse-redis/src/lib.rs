//! A [`Backplane`](sse_hub::Backplane) on Redis Streams, so that several server instances
//! share fan-out and replay history.
//!
//! Run one [`RedisBackplane`] per server instance, all on the same Redis and stream key, and
//! build each instance's [`Hub`](sse_hub::Hub) on it with [`hub()`]. A message sent on any
//! instance then reaches every connection it targets on every instance, exactly once, and a
//! client that reconnects to another instance resumes where it stopped.
//!
//! # The model
//!
//! One Redis stream is the log of the whole deployment.
//!
//! - **Publish.** [`Hub::send`](sse_hub::Hub::send) validates and encodes the message once,
//!   then the backplane appends it to the stream:
//!   `XADD <key> MAXLEN ~ <max_len> * e <envelope>`. The entry id `<ms>-<seq>` becomes the
//!   message's [`Cursor`](sse_hub::Cursor), `<epoch>-<ms>-<seq>`, its SSE id on every
//!   instance.
//! - **Fan-out.** Each backplane runs a task that tails the stream with blocking
//!   `XREAD BLOCK <block> COUNT <read_count> STREAMS <key> <last id>` on a connection of its
//!   own, and hands every entry, its own instance's included, to the hub's dispatcher, which
//!   delivers it to the local connections it targets. Every instance delivers in stream
//!   order, so all clients see the same order. The tail starts at the end of the stream as
//!   [`RedisBackplane::connect`] found it: earlier entries are history, not news, and
//!   nothing appended after `connect` returned is missed.
//! - **Replay.** A client reconnecting with `Last-Event-ID` may land on any instance; that
//!   instance reads the entries after the cursor with
//!   `XRANGE <key> (<ms>-<seq> + COUNT <max+1>` and queues the ones the client is entitled
//!   to before live messages.
//! - **Epoch.** A random number at `<key>:epoch`, created with `SET NX` in the same Lua script
//!   as the `XADD`. It lives as long as the stream's data: when Redis restarts without
//!   persistence, is flushed or replaced, the next publish or tail creates a new one, so a
//!   cursor from before is recognised as pointing into a history that is gone.
//!
//! ## Reconnect and replay
//!
//! A replay is a `history-gap` (the client gets a `refresh` event with
//! `"reason":"history-gap"` and resynchronises) when the cursor's epoch is not the stream's,
//! when the client's own entry was trimmed away (`MAXLEN`), or when more than the hub's
//! [`max_replay`](sse_hub::HubBuilder::max_replay) messages follow it. The check and the read
//! run in one Lua script: trimming removes the oldest entries first, so if the client's entry
//! is still there, everything after it is too. The `refresh` carries the stream's newest
//! cursor as its id (`<epoch>-0-0` while the stream is empty), so the client's next reconnect
//! resumes from there; from `<epoch>-0-0` it replays the whole stream, unless something was
//! trimmed from it since.
//!
//! ## When Redis is down or restarts
//!
//! - Publishes fail within [`publish_timeout`](RedisConfig::publish_timeout) (2 s by default)
//!   with [`BackplaneError::Unavailable`](sse_hub::error::BackplaneError::Unavailable) or
//!   [`Timeout`](sse_hub::error::BackplaneError::Timeout); the message reached nobody, and
//!   the hub counts the error in [`HubStats::backplane_errors`](sse_hub::HubStats). Once
//!   Redis has stored the entry the publish succeeds, even when this instance's tail is late
//!   to read it back (the publish waits for that only up to the same limit): reporting it as
//!   failed would make the caller send the message twice.
//! - The publish connection reconnects by itself; the tail reconnects with a backoff of up to
//!   [`reconnect_max_delay`](RedisConfig::reconnect_max_delay) and reports each outage once
//!   to the hub, which counts it too. Open connections stay open.
//! - After a restart that kept the data (same epoch), the tail goes on from the last entry it
//!   read: nothing published meanwhile is lost. After one that lost it (new epoch), the tail
//!   reads the new stream from its start, and clients resuming with an older cursor get the
//!   `history-gap` refresh instead of silently missing messages.
//!
//! ## Losses are never silent
//!
//! The tail reads the entry it read last in the same pipeline as each `XREAD` (`XRANGE` of
//! that one id). Trimming only ever removes the oldest entries, so while that entry is there,
//! nothing after it was trimmed before the tail read. When it is gone (the tail fell more than
//! `max_len` entries behind, or was away), or the epoch changed, the tail reports
//! [`BackplaneError::Lost`](sse_hub::error::BackplaneError::Lost) and the hub gives every
//! local connection the `history-gap` refresh. When only the epoch key was lost and the stream
//! still holds what the tail read, it goes on from there under the new epoch instead of
//! delivering the whole stream again. A replay leaves out an entry it cannot decode and
//! counts it in [`BackplaneStats::skipped`](sse_hub::BackplaneStats::skipped).
//!
//! ## Per instance and cluster-wide numbers
//!
//! [`Hub::stats`](sse_hub::Hub::stats) describes one instance: its connections, the messages
//! *it* sent (`messagesSent`), dispatched and queued, its errors. `backplane.entries` alone is
//! cluster-wide: the length of the shared stream (`XLEN`, refreshed by each `XREAD`, so at most
//! [`block`](RedisConfig::block) old); `backplane.bytes` and `memory.history` are 0, because
//! the history lives in Redis. A [`SendReport`](sse_hub::SendReport) counts the sending
//! instance's recipients only. [`Hub::cluster_stats`](sse_hub::Hub::cluster_stats) gives every
//! live instance's numbers and their totals (see below).
//!
//! ## The control path
//!
//! What acts on connections wherever they are ([`Hub::kick_user`](sse_hub::Hub::kick_user),
//! [`ban_user`](sse_hub::Hub::ban_user), [`revoke_user`](sse_hub::Hub::revoke_user),
//! [`refresh_user`](sse_hub::Hub::refresh_user), cluster listings and statistics) travels on
//! Redis pub/sub, beside the stream:
//!
//! - A command is `PUBLISH <key>:control {"id","from","command"}`; every instance subscribes
//!   (on a connection of its own, reconnecting with the same backoff as the tail), carries it
//!   out through its hub's dispatcher and answers on `<key>:control:<from>`. The caller waits
//!   for as many answers as `PUBLISH` counted subscribers, at most
//!   [`control_timeout`](RedisConfig::control_timeout) (1 s).
//! - Each instance writes its statistics every [`stats`](RedisConfig::stats) interval (5 s)
//!   to `<key>:instance:<id>` with a time to live (15 s) and lists itself in the sorted set
//!   `<key>:instances`. An instance counts as alive while its snapshot lives: one that was
//!   alive and did not answer a command is named in the report's `missing`, and
//!   `cluster_stats` counts it from its last snapshot until that expires. A clean
//!   [`close`](RedisBackplane::close) removes the snapshot at once.
//! - Bans are kept in the hash `<key>:bans` (user id → end in Unix ms), read by every hub
//!   when its dispatcher starts, so an instance started during a ban refuses the user too.
//! - Persistent messages are kept, in the publish script, in the hash `<key>:persistent`
//!   (by message id, or by coalescing key so that a newer one replaces an older one) with
//!   their end in `<key>:persistent:until`: their TTL, or
//!   [`persistent`](RedisConfig::persistent)'s default of 24 h, at most 1,000 of them (those
//!   closest to their end go first). A hub reads them when its dispatcher starts, so an
//!   instance started after a persistent message was sent serves it to its new connections.
//!
//! - Idempotency keys are `<key>:idem:<idempotency key>`: a send claims its key with
//!   `SET NX PX` holding a pending record (for ten publish timeouts at most, so that a send that
//!   dies does not hold the key for the whole window), then stores its report there for the
//!   window; a repeat on any instance waits for that report (two publish timeouts at most) and
//!   returns it marked `duplicate`.
//! - Presence: `<key>:presence:<channel>:<user>` (hash, instance id → since) holds which
//!   instances have the user on a presence channel, written only when the user's first
//!   connection there opens or their last one closes (one script call each; further tabs
//!   cost nothing), and `<key>:presence-leaving:<channel>:<user>` a leave waiting for its
//!   debounce. A field of an instance whose snapshot ended does not count. Listing a channel's
//!   users goes through the control path instead, so counts are current and a dead instance's
//!   users are gone at once. A leave of a user whose only instance died is not announced.
//!
//! Every one of these keys starts with `<key>:`, so one deployment's keys are found (and
//! removed) together.
//!
//! ## Shutdown
//!
//! [`RedisBackplane::close`] ends the tail task and, with it, the hub's dispatcher. Call it
//! after [`Hub::shutdown`](sse_hub::Hub::shutdown).
//!
//! ## Requirements
//!
//! Redis 7.0 or newer (exclusive `XRANGE` ranges came in 6.2; with 6.2, resuming from an
//! epoch's start `<epoch>-0-0` is always a gap, since only 7.0 counts the entries ever added),
//! without Redis Cluster: the stream and its epoch key are used together in Lua scripts. This
//! crate needs Rust 1.88 (the `redis` crate's minimum), unlike the rest of the workspace
//! (1.85), and a tokio runtime.
//!
//! # Examples
//!
//! Two instances in one process, as two servers would run them:
//!
//! ```no_run
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use serde_json::json;
//! use sse_hub::{Channel, ConnectOptions, EventType, Hub, Identity, Message, UserId};
//! use sse_redis::{RedisBackplane, RedisConfig};
//!
//! let config = RedisConfig::default().key("myapp:sse").max_len(50_000);
//! let backplane_a = RedisBackplane::connect("redis://127.0.0.1/", config.clone()).await?;
//! let backplane_b = RedisBackplane::connect("redis://127.0.0.1/", config).await?;
//! let a = sse_redis::hub(backplane_a.clone(), Hub::builder()).await;
//! let b = sse_redis::hub(backplane_b.clone(), Hub::builder()).await;
//!
//! // A browser of user 7 is connected to instance B...
//! let options =
//!     || ConnectOptions::new(Identity::user(UserId::from(7))).channels([Channel::NOTIFICATIONS]);
//! let mut on_b = b.connect(options()).await?;
//!
//! // ...and application code on instance A notifies user 7.
//! let report = a
//!     .send(Message::new(Channel::NOTIFICATIONS, EventType::Notification, json!("hi")).to_users([7]))
//!     .await?;
//! assert_eq!(report.sent, 0); // nobody on A
//! let frame = on_b.recv().await.unwrap();
//! assert!(std::str::from_utf8(&frame)?.starts_with(&format!("id: {}\n", report.cursor)));
//!
//! // The browser drops, misses a message, and reconnects to A with its Last-Event-ID.
//! drop(on_b);
//! a.send(Message::new(Channel::NOTIFICATIONS, EventType::Notification, json!("missed")).to_users([7]))
//!     .await?;
//! let mut on_a = a.connect(options().last_event_id(report.cursor)).await?;
//! let frame = on_a.recv().await.unwrap();
//! assert!(std::str::from_utf8(&frame)?.contains("\"data\":\"missed\""));
//!
//! a.shutdown();
//! b.shutdown();
//! backplane_a.close();
//! backplane_b.close();
//! # Ok(()) }
//! ```

mod backplane;
mod config;
mod control;
mod hub;
mod idempotency;
mod presence;
mod reply;
mod tail;

pub use backplane::RedisBackplane;
pub use config::RedisConfig;
pub use hub::hub;
/// The `redis` crate this backplane is built on, for [`RedisBackplane::with_client`].
pub use redis;
/// The core crate: hubs, messages and the [`Backplane`](sse_hub::Backplane) trait.
pub use sse_hub;

#[cfg(test)]
mod tests {
    use super::*;
    use sse_hub::testing::{assert_send, assert_send_sync};

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<RedisBackplane>();
        assert_send_sync::<RedisConfig>();
    }

    #[allow(dead_code, reason = "compile-time check only")]
    fn futures_are_send(backplane: std::sync::Arc<RedisBackplane>) {
        assert_send(&RedisBackplane::connect(
            "redis://127.0.0.1/",
            RedisConfig::default(),
        ));
        assert_send(&hub(backplane, sse_hub::Hub::builder()));
    }
}
