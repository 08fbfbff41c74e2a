//! The tail: a task that reads the stream with blocking `XREAD` and hands every entry to the
//! hub's dispatcher.

use std::{
    convert::Infallible,
    pin::Pin,
    sync::{Arc, atomic::Ordering::Relaxed},
    task::{Context, Poll},
    time::Duration,
};

use futures_core::Stream;
use redis::{
    AsyncConnectionConfig, Script, Value,
    aio::{ConnectionLike, MultiplexedConnection},
};
use sse_hub::{Entry, EntryStream, error::BackplaneError};
use tokio::sync::{mpsc, oneshot, watch};

use crate::{
    backplane::{Shared, redis_error},
    reply::{self, EntryId},
};

/// The first delay before reaching Redis again after a failure; it doubles up to
/// [`RedisConfig::reconnect_max_delay`](crate::RedisConfig::reconnect_max_delay).
pub(crate) const FIRST_RETRY: Duration = Duration::from_millis(25);

/// Makes sure the stream has an epoch and returns it with the id of the stream's last entry
/// (`0-0` when it has none) and its length, in one step, so that the tail starts exactly at
/// the end.
///
/// KEYS: stream, epoch. ARGV: a fresh epoch, used only if none exists.
pub(crate) const START: &str = r"
redis.call('SET', KEYS[2], ARGV[1], 'NX')
local epoch = redis.call('GET', KEYS[2])
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local id = '0-0'
if #last > 0 then id = last[1][1] end
return {epoch, id, redis.call('XLEN', KEYS[1])}
";

/// How far a tail has read: every entry up to `last` in `epoch` is on its way to the
/// dispatcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Progress {
    pub(crate) epoch: u64,
    pub(crate) last: EntryId,
}

type Item = Result<Entry, BackplaneError>;

/// The stream the hub's dispatcher reads, and the sending half for the tail task.
pub(crate) fn channel(
    shared: &Arc<Shared>,
    first_poll: oneshot::Sender<()>,
) -> (EntryStream, mpsc::Sender<Item>) {
    let (tx, rx) = mpsc::channel(shared.config.read_count);
    let stream = TailStream {
        rx,
        first_poll: Some(first_poll),
        shared: Arc::clone(shared),
    };
    (Box::pin(stream), tx)
}

/// The epoch of the stream (created if missing) and the id of its last entry, `0-0` when it
/// has none: where a new reader starts. Records the stream's length for statistics.
pub(crate) async fn locate(
    start: &Script,
    conn: &mut impl ConnectionLike,
    shared: &Shared,
) -> Result<Progress, BackplaneError> {
    let limit = shared.config.publish_timeout;
    let mut invocation = start.prepare_invoke();
    invocation
        .key(shared.config.key.as_str())
        .key(&shared.epoch_key)
        .arg(u64::from(fastrand::u32(1..)));
    let (epoch, last, len): (Value, Value, usize) = invocation
        .invoke_async(conn)
        .await
        .map_err(|err| redis_error(&err, limit))?;
    let epoch = reply::epoch(&epoch)?
        .ok_or_else(|| BackplaneError::Unavailable("the start script returned no epoch".into()))?;
    shared.entries.store(len, Relaxed);
    Ok(Progress {
        epoch,
        last: reply::entry_id(&last)?,
    })
}

/// Tails the stream from `from` (or from its end when the tail first reaches Redis) until the
/// backplane closes or the stream's reader goes away.
pub(crate) async fn run(
    shared: Arc<Shared>,
    from: Option<Progress>,
    tx: mpsc::Sender<Item>,
    progress: watch::Sender<Option<Progress>>,
) {
    let mut closed = shared.closed.subscribe();
    let mut tail = Tail {
        backoff: Backoff::new(shared.config.reconnect_max_delay),
        shared,
        tx: &tx,
        progress,
        position: from,
        healthy: true,
        told_lost: None,
    };
    tokio::select! {
        _ = closed.wait_for(|closed| *closed) => {}
        () = tx.closed() => {}
        () = tail.run() => {}
    }
}

struct Tail<'a> {
    shared: Arc<Shared>,
    tx: &'a mpsc::Sender<Item>,
    progress: watch::Sender<Option<Progress>>,
    /// Where to read on; `None` until the tail first reaches Redis.
    position: Option<Progress>,
    backoff: Backoff,
    /// False from a failure until Redis answers again, so that one outage is reported once.
    healthy: bool,
    /// The position a loss was last reported for, so that it is reported once.
    told_lost: Option<EntryId>,
}

impl Tail<'_> {
    async fn run(&mut self) {
        let start = Script::new(START);
        loop {
            let Err(err) = self.follow(&start).await;
            if matches!(err, BackplaneError::Closed) {
                return;
            }
            if std::mem::replace(&mut self.healthy, false) {
                tracing::warn!(
                    sse.backplane_op = "tail",
                    sse.stream_key = %self.shared.config.key,
                    error = %err,
                    "redis backplane unreachable: delivery from other instances waits"
                );
                if self.tx.send(Err(err)).await.is_err() {
                    return;
                }
            }
            tokio::time::sleep(self.backoff.next()).await;
        }
    }

    /// Connects and reads until something fails.
    async fn follow(&mut self, start: &Script) -> Result<Infallible, BackplaneError> {
        let config = &self.shared.config;
        let limit = config.publish_timeout;
        let block = config.block;
        // A connection of its own: a blocking XREAD would hold up every command queued behind
        // it on a shared one.
        let connection = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(limit))
            .set_response_timeout(Some(block + limit));
        let mut conn = self
            .shared
            .client
            .get_multiplexed_async_connection_with_config(&connection)
            .await
            .map_err(|err| redis_error(&err, limit))?;
        loop {
            let at = self.start(start, &mut conn).await?;
            self.read(at, &mut conn).await?;
        }
    }

    /// Finds where to read from: where the tail stopped if the stream is the one it was
    /// reading, the start of the stream if it was replaced (another epoch, and the entry read
    /// last is gone), or the end of the stream the first time.
    ///
    /// Whenever entries may have been lost on the way (the entry read last was trimmed while
    /// the tail was away, or the epoch changed), the hubs are told, so that their connections
    /// resynchronise.
    async fn start(
        &mut self,
        start: &Script,
        conn: &mut MultiplexedConnection,
    ) -> Result<Progress, BackplaneError> {
        let end = locate(start, conn, &self.shared).await?;
        let (at, lost) = match self.position {
            Some(at) if at.epoch == end.epoch => {
                let still_there = self.holds(conn, at.last).await?;
                (
                    at,
                    (!still_there).then_some("entries were trimmed while the tail was away"),
                )
            }
            Some(at) => {
                // Only the epoch key was lost if the stream still holds what was read last:
                // go on from there, under the new epoch.
                let same_stream = at.last != EntryId::ZERO && self.holds(conn, at.last).await?;
                let last = if same_stream { at.last } else { EntryId::ZERO };
                let why = if same_stream {
                    "the stream's epoch changed"
                } else {
                    "the stream was replaced"
                };
                (
                    Progress {
                        epoch: end.epoch,
                        last,
                    },
                    Some(why),
                )
            }
            None => (end, None),
        };
        self.advance(at);
        if !std::mem::replace(&mut self.healthy, true) {
            tracing::warn!(
                sse.backplane_op = "tail",
                sse.stream_key = %self.shared.config.key,
                "redis backplane reachable again"
            );
        }
        self.backoff.reset();
        if let Some(why) = lost {
            self.lost(why).await?;
        }
        Ok(at)
    }

    /// Whether the stream still holds the entry `id` (`0-0`, before any entry: yes).
    async fn holds(
        &self,
        conn: &mut MultiplexedConnection,
        id: EntryId,
    ) -> Result<bool, BackplaneError> {
        if id == EntryId::ZERO {
            return Ok(true);
        }
        let limit = self.shared.config.publish_timeout;
        let found: Value = redis::cmd("XRANGE")
            .arg(self.shared.config.key.as_str())
            .arg(id.to_string())
            .arg(id.to_string())
            .query_async(conn)
            .await
            .map_err(|err| redis_error(&err, limit))?;
        Ok(!reply::range(found)?.is_empty())
    }

    /// Tells the hubs that entries were lost on their way to this instance.
    async fn lost(&self, why: &'static str) -> Result<(), BackplaneError> {
        self.tx
            .send(Err(BackplaneError::Lost(why.into())))
            .await
            .map_err(|_| BackplaneError::Closed)
    }

    /// Reads and forwards entries until the epoch changes (`Ok`) or something fails.
    async fn read(
        &mut self,
        mut at: Progress,
        conn: &mut MultiplexedConnection,
    ) -> Result<(), BackplaneError> {
        let shared = Arc::clone(&self.shared);
        let config = &shared.config;
        let limit = config.publish_timeout;
        let block_ms = u64::try_from(config.block.as_millis()).unwrap_or(u64::MAX);
        loop {
            // The epoch and length are read right after XREAD returns, on the same connection,
            // so the entries are labelled with the epoch of the stream they came from. So is
            // the entry read last: trimming only ever removes, so if it is still there after
            // XREAD, nothing after it was trimmed before XREAD read.
            let (entries, epoch, len, last): (Value, Value, usize, Value) = redis::pipe()
                .cmd("XREAD")
                .arg("COUNT")
                .arg(config.read_count)
                .arg("BLOCK")
                .arg(block_ms)
                .arg("STREAMS")
                .arg(config.key.as_str())
                .arg(at.last.to_string())
                .cmd("GET")
                .arg(&shared.epoch_key)
                .cmd("XLEN")
                .arg(config.key.as_str())
                .cmd("XRANGE")
                .arg(config.key.as_str())
                .arg(at.last.to_string())
                .arg(at.last.to_string())
                .query_async(conn)
                .await
                .map_err(|err| redis_error(&err, limit))?;
            if reply::epoch(&epoch)? != Some(at.epoch) {
                // The stream was replaced, or its epoch key lost, while we read: `start`
                // decides where to go on.
                return Ok(());
            }
            shared.entries.store(len, Relaxed);
            let entries = reply::read(entries)?;
            if at.last != EntryId::ZERO && reply::range(last)?.is_empty() {
                // The tail fell behind and entries after the one read last may be gone
                // (trimming removed that one, and maybe more). Told once per position.
                if self.told_lost != Some(at.last) {
                    self.told_lost = Some(at.last);
                    self.lost("the tail fell behind and entries were trimmed before it read them")
                        .await?;
                }
            }
            if entries.is_empty() {
                continue;
            }
            for raw in entries {
                at.last = raw.id;
                // A corrupt entry is reported to the hub, which counts it; reading goes on.
                let item = raw.decode(at.epoch);
                self.tx
                    .send(item)
                    .await
                    .map_err(|_| BackplaneError::Closed)?;
            }
            self.advance(at);
        }
    }

    fn advance(&mut self, at: Progress) {
        self.position = Some(at);
        self.shared.epoch.store(at.epoch, Relaxed);
        self.progress.send_replace(Some(at));
    }
}

/// Delays between attempts to reach Redis: doubling from [`FIRST_RETRY`] up to a maximum,
/// each drawn between half and all of its nominal value so that instances spread out.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub(crate) fn new(max: Duration) -> Self {
        Self {
            next: FIRST_RETRY.min(max),
            max,
        }
    }

    pub(crate) fn reset(&mut self) {
        self.next = FIRST_RETRY.min(self.max);
    }

    pub(crate) fn next(&mut self) -> Duration {
        let nominal = self.next;
        self.next = (nominal * 2).min(self.max);
        nominal / 2 + nominal.mul_f64(fastrand::f64()) / 2
    }
}

/// The receiving half, as the hub's dispatcher sees it.
struct TailStream {
    rx: mpsc::Receiver<Item>,
    /// Tells [`crate::hub`] that the dispatcher runs.
    first_poll: Option<oneshot::Sender<()>>,
    /// Where the dispatcher's lag is kept for statistics.
    shared: Arc<Shared>,
}

impl Stream for TailStream {
    type Item = Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        if let Some(first_poll) = self.first_poll.take() {
            let _ = first_poll.send(());
        }
        let next = self.rx.poll_recv(cx);
        if let Poll::Ready(Some(Ok(entry))) = &next {
            // Redis entry ids start with the milliseconds they were added at.
            self.shared
                .dispatched_ms
                .store(entry.cursor().major(), Relaxed);
            self.shared.buffered.store(self.rx.len(), Relaxed);
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_maximum_and_resets() {
        let mut backoff = Backoff::new(Duration::from_millis(150));
        let nominal = [25, 50, 100, 150, 150];
        for ms in nominal {
            let d = backoff.next();
            let ms = Duration::from_millis(ms);
            assert!(
                d >= ms / 2 && d <= ms,
                "{d:?} outside {:?}..={ms:?}",
                ms / 2
            );
        }
        backoff.reset();
        assert!(backoff.next() <= Duration::from_millis(25));
    }
}
