//! The delivery ledger: for each recent message, what happened at each connection it was
//! offered to, so that "why didn't user X get message M?" has an answer
//! ([`Hub::explain`](crate::Hub::explain)).
//!
//! What is recorded costs little on the way of a message: one packed word per recipient at
//! dispatch, and, only when something is dropped later (shed, expired, coalesced, cleared by a
//! closing stream), one entry per dropped frame. Whether a queued frame was written is read at
//! explain time: it was, unless it is still queued or a drop was recorded for it. Who was not
//! a recipient, and why, is worked out at explain time from the message's routing.
//!
//! The ledger is bounded by a number of messages and by bytes, oldest first.

use std::collections::{HashMap, VecDeque};

use parking_lot::Mutex;

use crate::{Cursor, Entry, MessageId, UserId};

/// What dispatch did with a message for one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dispatch {
    Queued = 0,
    /// Given by replay or persistent delivery already.
    AlreadyGiven = 1,
    /// Shed at once: the queue was full of more important frames.
    Shed = 2,
    /// The connection could not keep up and was closed.
    ClosedSlow = 3,
}

impl Dispatch {
    fn pack(self, seq: u64) -> u64 {
        (seq << 2) | self as u64
    }

    fn unpack(word: u64) -> (u64, Self) {
        let outcome = match word & 3 {
            0 => Self::Queued,
            1 => Self::AlreadyGiven,
            2 => Self::Shed,
            _ => Self::ClosedSlow,
        };
        (word >> 2, outcome)
    }
}

/// Why a queued frame was dropped before it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lost {
    /// Shed for a more important frame.
    Shed,
    /// Its TTL passed.
    Expired,
    /// Replaced by a newer frame with the same coalescing key.
    Coalesced,
    /// The connection was closed as too slow.
    SlowClosed,
    /// The stream ended (disconnected, kicked, shut down, credentials ended, client gone).
    Closed,
}

/// A connection that ended, for explaining messages it was offered.
#[derive(Debug, Clone)]
pub(crate) struct Ended {
    pub(crate) user: Option<UserId>,
}

/// What the ledger holds about one message.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) entry: Entry,
    /// The number of the newest connection when the message was dispatched: connections
    /// numbered above opened after it.
    pub(crate) newest_connection: u64,
    /// The message's TTL had passed when it was dispatched: nobody was offered it.
    pub(crate) expired: bool,
    /// Packed `(connection number, Dispatch)`, in dispatch order.
    outcomes: Vec<u64>,
    pub(crate) lost: Vec<(u64, Lost)>,
    pub(crate) replayed: Vec<u64>,
}

impl Record {
    /// What dispatch did for connection `seq`, if it was offered the message.
    pub(crate) fn dispatch(&self, seq: u64) -> Option<Dispatch> {
        self.outcomes
            .iter()
            .find(|word| *word >> 2 == seq)
            .map(|word| Dispatch::unpack(*word).1)
    }

    /// Why the frame queued for connection `seq` was dropped, if it was.
    pub(crate) fn lost(&self, seq: u64) -> Option<Lost> {
        self.lost
            .iter()
            .find_map(|(s, lost)| (*s == seq).then_some(*lost))
    }

    /// Whether connection `seq` opened after the message was dispatched.
    pub(crate) fn opened_after(&self, seq: u64) -> bool {
        seq > self.newest_connection
    }

    /// Connections that got the message from history or the persistent cache.
    pub(crate) fn was_replayed(&self, seq: u64) -> bool {
        self.replayed.contains(&seq)
    }

    /// The connection numbers the message was offered to, by dispatch or replay.
    pub(crate) fn offered(&self) -> impl Iterator<Item = u64> + '_ {
        self.outcomes
            .iter()
            .map(|word| word >> 2)
            .chain(self.replayed.iter().copied())
    }

    fn bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.outcomes.capacity() * 8
            + self.lost.capacity() * 16
            + self.replayed.capacity() * 8
    }
}

/// Collects what dispatch did for one message, recipient by recipient.
#[derive(Debug, Default)]
pub(crate) struct Outcomes(Vec<u64>);

impl Outcomes {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }

    pub(crate) fn push(&mut self, seq: u64, outcome: Dispatch) {
        self.0.push(outcome.pack(seq));
    }
}

/// The bounded ledger of one instance.
#[derive(Debug)]
pub(crate) struct Ledger {
    max_messages: usize,
    max_bytes: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    records: HashMap<Cursor, Record>,
    ids: HashMap<MessageId, Cursor>,
    order: VecDeque<Cursor>,
    bytes: usize,
    ended: HashMap<u64, Ended>,
    ended_order: VecDeque<u64>,
}

impl State {
    fn note_lost(&mut self, seq: u64, cursor: &Cursor, why: Lost) {
        if let Some(record) = self.records.get_mut(cursor) {
            record.lost.push((seq, why));
            self.bytes += 16;
        }
    }
}

/// How many ended connections the ledger remembers, per message it may hold.
const ENDED_PER_MESSAGE: usize = 16;

impl Ledger {
    pub(crate) fn new(max_messages: usize, max_bytes: usize) -> Self {
        Self {
            max_messages: max_messages.max(1),
            max_bytes,
            state: Mutex::new(State::default()),
        }
    }

    /// Records what dispatching `entry` did.
    pub(crate) fn dispatched(
        &self,
        entry: &Entry,
        newest_connection: u64,
        expired: bool,
        outcomes: Outcomes,
    ) {
        // In the order dispatch walked the indices: sorting a broadcast's outcomes would cost
        // more than the rare explanation that reads them saves.
        let outcomes = outcomes.0;
        let record = Record {
            entry: entry.clone(),
            newest_connection,
            expired,
            outcomes,
            lost: Vec::new(),
            replayed: Vec::new(),
        };
        let bytes = record.bytes();
        let mut state = self.state.lock();
        let cursor = entry.cursor();
        if let Some(old) = state.records.insert(cursor, record) {
            state.bytes -= old.bytes();
        } else {
            state.order.push_back(cursor);
        }
        state.ids.insert(entry.envelope().id().clone(), cursor);
        state.bytes += bytes;
        while state.order.len() > self.max_messages || state.bytes > self.max_bytes {
            let Some(oldest) = state.order.pop_front() else {
                break;
            };
            if let Some(old) = state.records.remove(&oldest) {
                state.bytes -= old.bytes();
                let id = old.entry.envelope().id();
                if state.ids.get(id) == Some(&oldest) {
                    state.ids.remove(id);
                }
            }
        }
    }

    /// Records frames of connection `seq` that were dropped before they were written.
    pub(crate) fn lost(&self, seq: u64, lost: &[(Cursor, Lost)]) {
        let mut state = self.state.lock();
        for (cursor, why) in lost {
            state.note_lost(seq, cursor, *why);
        }
    }

    /// Records frames of several connections (`(connection number, cursor, why)`) that were
    /// dropped before they were written, under one lock.
    pub(crate) fn lost_by(&self, lost: &[(u64, Cursor, Lost)]) {
        let mut state = self.state.lock();
        for (seq, cursor, why) in lost {
            state.note_lost(*seq, cursor, *why);
        }
    }

    /// Records that connection `seq` got these messages from history or the persistent cache.
    pub(crate) fn replayed(&self, seq: u64, cursors: impl Iterator<Item = Cursor>) {
        let mut state = self.state.lock();
        for cursor in cursors {
            if let Some(record) = state.records.get_mut(&cursor) {
                record.replayed.push(seq);
                state.bytes += 8;
            }
        }
    }

    /// Remembers a connection that ended, so that the messages it was offered can still be
    /// explained for its user.
    pub(crate) fn ended(&self, seq: u64, ended: Ended) {
        let mut state = self.state.lock();
        if state.ended.insert(seq, ended).is_none() {
            state.ended_order.push_back(seq);
        }
        let max = self.max_messages.saturating_mul(ENDED_PER_MESSAGE);
        while state.ended_order.len() > max {
            if let Some(oldest) = state.ended_order.pop_front() {
                state.ended.remove(&oldest);
            }
        }
    }

    /// The record of a message, by cursor or id, and the ended connections it was offered to.
    pub(crate) fn find(
        &self,
        cursor: Option<&Cursor>,
        id: Option<&MessageId>,
    ) -> Option<(Record, Vec<(u64, Ended)>)> {
        let state = self.state.lock();
        let cursor = cursor
            .filter(|c| state.records.contains_key(c))
            .or_else(|| id.and_then(|id| state.ids.get(id)))?;
        let record = state.records.get(cursor)?.clone();
        let ended = record
            .offered()
            .filter_map(|seq| Some((seq, state.ended.get(&seq)?.clone())))
            .collect();
        Some((record, ended))
    }

    /// Messages and bytes held.
    pub(crate) fn size(&self) -> (usize, usize) {
        let state = self.state.lock();
        (state.records.len(), state.bytes)
    }
}
