//! Idempotent publish: a message with an idempotency key is sent at most once within the
//! window; a repeat gets the first send's report.

use std::{
    collections::{HashMap, VecDeque},
    time::Duration,
};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::{Hub, SendReport};
use crate::{
    IdempotencyKey, Message,
    error::{BackplaneError, SendError},
};

/// What a shared store holds for a key: the message's fingerprint, and the report once the
/// first send is done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct IdempotencyRecord {
    /// The fingerprint of what the message says, as 16 hexadecimal digits.
    pub fingerprint: String,
    /// The first send's report; `None` while it is in flight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<SendReport>,
}

impl IdempotencyRecord {
    /// A record for a send in flight.
    pub fn pending(fingerprint: u64) -> Self {
        Self {
            fingerprint: format!("{fingerprint:016x}"),
            report: None,
        }
    }

    /// A record for a send that is done.
    pub fn done(fingerprint: u64, report: SendReport) -> Self {
        Self {
            fingerprint: format!("{fingerprint:016x}"),
            report: Some(report),
        }
    }
}

/// What [`Backplane::claim_idempotency`](crate::Backplane::claim_idempotency) found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Claim {
    /// The key was free: this send owns it and must
    /// [`settle`](crate::Backplane::settle_idempotency) it.
    Claimed,
    /// Another send owns the key: its record, with its report once it is done (a backplane
    /// waits a bounded time for that).
    Taken(IdempotencyRecord),
    /// The backplane keeps no keys: the hub keeps them itself, for this instance.
    Unsupported,
}

/// The keys of a hub that keeps them itself.
pub(crate) struct LocalKeys {
    window: Duration,
    max: usize,
    state: Mutex<KeyState>,
}

#[derive(Default)]
struct KeyState {
    keys: HashMap<IdempotencyKey, Held>,
    /// Keys in the order they end, for purging.
    order: VecDeque<(u64, IdempotencyKey)>,
}

struct Held {
    fingerprint: u64,
    until: u64,
    /// The report once the first send is done; dropped unsent if it failed.
    report: watch::Receiver<Option<SendReport>>,
}

/// What the hub found for a key.
enum Found {
    /// This send owns the key; settle it with the sender.
    Claimed(Option<watch::Sender<Option<SendReport>>>),
    Duplicate(SendReport),
    Conflict,
}

impl LocalKeys {
    pub(crate) fn new(window: Duration, max: usize) -> Self {
        Self {
            window,
            max: max.max(1),
            state: Mutex::new(KeyState::default()),
        }
    }

    pub(crate) fn window(&self) -> Duration {
        self.window
    }

    /// Claims `key` for a message with `fingerprint`, or waits for the send that holds it.
    async fn claim(&self, key: &IdempotencyKey, fingerprint: u64, now: u64) -> Found {
        loop {
            let mut waiting = {
                let mut state = self.state.lock();
                state.purge(now);
                // A send that was dropped before it finished left its key unsettled.
                if state.keys.get(key).is_some_and(|held| {
                    held.report.borrow().is_none() && held.report.has_changed().is_err()
                }) {
                    state.keys.remove(key);
                }
                match state.keys.get(key) {
                    Some(held) if held.fingerprint != fingerprint => return Found::Conflict,
                    Some(held) => held.report.clone(),
                    None => {
                        while state.keys.len() >= self.max {
                            // Full: the key closest to its end goes first.
                            let Some((_, oldest)) = state.order.pop_front() else {
                                break;
                            };
                            state.keys.remove(&oldest);
                        }
                        let until = now.saturating_add(
                            u64::try_from(self.window.as_millis()).unwrap_or(u64::MAX),
                        );
                        let (tx, rx) = watch::channel(None);
                        state.keys.insert(
                            key.clone(),
                            Held {
                                fingerprint,
                                until,
                                report: rx,
                            },
                        );
                        state.order.push_back((until, key.clone()));
                        return Found::Claimed(Some(tx));
                    }
                }
            };
            match waiting.wait_for(Option::is_some).await {
                Ok(report) => {
                    let report = report.clone().expect("waited for it");
                    return Found::Duplicate(report);
                }
                // The first send failed and gave the key back: claim it again.
                Err(_) => continue,
            }
        }
    }

    /// Gives a key back after its send failed.
    fn release(&self, key: &IdempotencyKey) {
        let mut state = self.state.lock();
        state.keys.remove(key);
        state.order.retain(|(_, k)| k != key);
    }
}

impl KeyState {
    fn purge(&mut self, now: u64) {
        while let Some((until, _)) = self.order.front() {
            if *until > now {
                break;
            }
            let (_, key) = self.order.pop_front().expect("checked above");
            if self.keys.get(&key).is_some_and(|held| held.until <= now) {
                self.keys.remove(&key);
            }
        }
    }
}

impl Hub {
    /// Sends a message that carries an idempotency key: at most once within the window.
    pub(super) async fn send_once(
        &self,
        key: IdempotencyKey,
        message: Message,
    ) -> Result<SendReport, SendError> {
        let inner = &self.inner;
        let fingerprint = message.fingerprint();
        let conflict = || SendError::IdempotencyConflict {
            key: key.as_str().to_owned(),
        };
        let window = inner.idempotency.window();
        match inner
            .backplane
            .claim_idempotency(&key, &IdempotencyRecord::pending(fingerprint), window)
            .await
            .inspect_err(|_| inner.count_backplane_error())?
        {
            Claim::Claimed => {
                let sent = self.send_now(message).await;
                let record = sent
                    .as_ref()
                    .ok()
                    .map(|report| IdempotencyRecord::done(fingerprint, report.clone()));
                // A send that failed gives the key back, so that the caller's retry goes out.
                if inner
                    .backplane
                    .settle_idempotency(&key, record.as_ref(), window)
                    .await
                    .is_err()
                {
                    inner.count_backplane_error();
                }
                sent
            }
            Claim::Taken(record) => {
                if record.fingerprint != format!("{fingerprint:016x}") {
                    return Err(conflict());
                }
                match record.report {
                    Some(report) => Ok(SendReport {
                        duplicate: true,
                        ..report
                    }),
                    None => Err(SendError::Backplane(BackplaneError::Timeout(
                        window.min(Duration::from_secs(2)),
                    ))),
                }
            }
            Claim::Unsupported => {
                let now = inner.roster.clock.now_ms();
                match inner.idempotency.claim(&key, fingerprint, now).await {
                    Found::Conflict => Err(conflict()),
                    Found::Duplicate(report) => Ok(SendReport {
                        duplicate: true,
                        ..report
                    }),
                    Found::Claimed(tx) => {
                        let sent = self.send_now(message).await;
                        match &sent {
                            Ok(report) => {
                                if let Some(tx) = tx {
                                    tx.send_replace(Some(report.clone()));
                                }
                            }
                            Err(_) => inner.idempotency.release(&key),
                        }
                        sent
                    }
                }
            }
        }
    }
}
