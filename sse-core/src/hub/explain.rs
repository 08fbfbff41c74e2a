//! "Why didn't user X get message M?": the delivery ledger, read for one user's connections.

use std::sync::Arc;

use super::Hub;
use crate::{
    Cursor, MessageId, UserId,
    cluster::{Answer, Command, ConnectionOutcome, Explanation, Outcome},
    connection::Connection,
    ledger::{Dispatch, Lost, Record},
};

impl Hub {
    /// What happened to a message (its cursor or its id) at every connection of `user`, on
    /// every instance: delivered, queued, shed, expired, coalesced, closed as too slow, or
    /// why it was not a recipient; connections opened after the message say whether replay
    /// delivered it.
    ///
    /// Each instance answers from its delivery ledger
    /// ([`HubBuilder::delivery_ledger`](crate::HubBuilder::delivery_ledger)): the last 1,000
    /// messages by default. A message it no longer holds is [`Outcome::Unknown`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use sse_hub::{Channel, ConnectOptions, EventType, Hub, Identity, Message, UserId};
    /// use sse_hub::cluster::Outcome;
    ///
    /// let hub = Hub::new();
    /// let mut chat = hub
    ///     .connect(ConnectOptions::new(Identity::user(UserId::from(3))).channels([Channel::CHAT]))
    ///     .await?;
    /// let _alerts = hub
    ///     .connect(ConnectOptions::new(Identity::user(UserId::from(3))).channels([Channel::ALERTS]))
    ///     .await?;
    /// let report = hub.send(Message::new(Channel::CHAT, EventType::Data, "hi".into())).await?;
    /// chat.recv().await;
    ///
    /// let why = hub.explain(&report.cursor.to_string(), UserId::from(3)).await;
    /// assert_eq!(why.connections[0].outcome, Outcome::Delivered);
    /// assert_eq!(why.connections[1].outcome, Outcome::NotRecipient);
    /// assert_eq!(why.connections[1].detail, "not subscribed to the channel chat");
    /// # Ok(()) }
    /// ```
    pub async fn explain(&self, message: &str, user: impl Into<UserId>) -> Explanation {
        let user = &user.into();
        let mut gathered = self
            .everywhere(Command::Explain {
                message: message.to_owned(),
                user: user.clone(),
            })
            .await;
        let (mut connections, instances): (Vec<ConnectionOutcome>, _) =
            gathered.collect(|answer| match answer {
                Answer::Explained { connections } => Some(connections),
                _ => None,
            });
        connections.sort_by_key(|c| (c.instance, c.connection_id));
        Explanation {
            message: message.to_owned(),
            user_id: user.clone(),
            connections,
            instances,
            missing: gathered.missing,
            error: gathered.error,
        }
    }

    /// This instance's lines of an explanation.
    pub(super) fn explain_here(&self, message: &str, user: &UserId) -> Vec<ConnectionOutcome> {
        let roster = &self.inner.roster;
        let instance = self.instance();
        let open: Vec<Arc<Connection>> = roster.registry.read().of_user(user).cloned().collect();
        let line = |seq: u64, (outcome, detail): (Outcome, String)| ConnectionOutcome {
            connection_id: roster.origin.connection_id(seq),
            instance,
            outcome,
            detail,
        };
        let cursor = message.parse::<Cursor>().ok();
        let id = MessageId::new(message).ok();
        let found = roster
            .counters
            .ledger
            .as_ref()
            .map(|ledger| ledger.find(cursor.as_ref(), id.as_ref()));
        let Some(Some((record, ended))) = found else {
            let detail = match found {
                None => "the delivery ledger is switched off on this instance".to_owned(),
                Some(_) => "this instance has no record of the message: its delivery ledger \
                            no longer holds it, or it was never dispatched here"
                    .to_owned(),
            };
            let mut lines: Vec<_> = open
                .iter()
                .map(|conn| line(conn.seq, (Outcome::Unknown, detail.clone())))
                .collect();
            lines.sort_by_key(|l| l.connection_id);
            return lines;
        };
        let mut lines: Vec<ConnectionOutcome> = open
            .iter()
            .map(|conn| line(conn.seq, explain_one(&record, conn.seq, Some(conn))))
            .collect();
        for (seq, ended) in ended {
            let theirs = ended.user.as_ref() == Some(user);
            if theirs && !open.iter().any(|conn| conn.seq == seq) {
                lines.push(line(seq, explain_one(&record, seq, None)));
            }
        }
        lines.sort_by_key(|l| l.connection_id);
        lines.dedup_by_key(|l| l.connection_id);
        lines
    }

    /// Answers [`Command::Explain`].
    pub(super) fn explain_answer(&self, message: &str, user: &UserId) -> Answer {
        Answer::Explained {
            connections: self.explain_here(message, user),
        }
    }
}

/// What happened to the message of `record` at connection `seq` (open now when `conn` is
/// given).
fn explain_one(record: &Record, seq: u64, conn: Option<&Arc<Connection>>) -> (Outcome, String) {
    let envelope = record.entry.envelope();
    if record.expired {
        return (
            Outcome::Expired,
            "its TTL had passed when it was dispatched".to_owned(),
        );
    }
    let dispatched = record.dispatch(seq);
    let replayed = record.was_replayed(seq);
    match dispatched {
        Some(Dispatch::Shed) => {
            return (
                Outcome::Shed,
                "the connection's queue was full of more important messages".to_owned(),
            );
        }
        Some(Dispatch::ClosedSlow) => {
            return (
                Outcome::SlowClosed,
                "the connection could not keep up and was closed; its client resumes from \
                 history"
                    .to_owned(),
            );
        }
        Some(Dispatch::Queued | Dispatch::AlreadyGiven) => {}
        None if replayed => {}
        None => {
            let recipient = conn.map(|conn| conn.recipient());
            let refusal = recipient.as_ref().and_then(|r| envelope.refusal(r));
            if record.opened_after(seq) {
                let why = if !envelope.is_retryable() && !envelope.is_persistent() {
                    "it is not retryable, so it is not replayed".to_owned()
                } else if let Some(refusal) = refusal {
                    format!("it is not for this connection: {refusal}")
                } else {
                    "the connection did not resume from before it (no Last-Event-ID, or a later \
                     one)"
                        .to_owned()
                };
                return (
                    Outcome::NotConnected,
                    format!("opened after the message; replay did not deliver it: {why}"),
                );
            }
            return (
                Outcome::NotRecipient,
                refusal.unwrap_or_else(|| "not a recipient".to_owned()),
            );
        }
    }
    let how = match (dispatched, record.opened_after(seq)) {
        (Some(Dispatch::AlreadyGiven), _) | (None, false) => " (it came by replay)",
        (None, true) => " (opened after the message; it came by replay)",
        _ => "",
    };
    let lost = match record.lost(seq) {
        Some(Lost::Shed) => Some((
            Outcome::Shed,
            "shed from the queue for a more important message",
        )),
        Some(Lost::Expired) => Some((Outcome::Expired, "its TTL passed while it was queued")),
        Some(Lost::Coalesced) => Some((
            Outcome::Coalesced,
            "replaced by a newer message with the same coalescing key",
        )),
        Some(Lost::SlowClosed) => Some((
            Outcome::SlowClosed,
            "the connection could not keep up and was closed; its client resumes from history",
        )),
        Some(Lost::Closed) => Some((Outcome::Closed, "the stream ended before it was written")),
        None => None,
    };
    if let Some((outcome, detail)) = lost {
        return (outcome, format!("{detail}{how}"));
    }
    let cursor = record.entry.cursor();
    if conn.is_some_and(|conn| conn.holds(&cursor)) {
        (Outcome::Queued, format!("waiting to be written{how}"))
    } else {
        (Outcome::Delivered, format!("written to the stream{how}"))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{Channel, ConnectOptions, EventType, Identity, Message, testing::TestClock};

    #[tokio::test(start_paused = true)]
    async fn a_message_whose_ttl_passed_before_its_dispatch_is_explained_as_expired() {
        let clock = TestClock::new(1_764_350_000_000);
        let hub = clock.hub().build();
        let _stream = hub
            .connect(ConnectOptions::new(Identity::user(UserId::from(3))).channels([Channel::CHAT]))
            .await
            .unwrap();
        let message =
            Message::new(Channel::CHAT, EventType::Data, 1.into()).ttl(Duration::from_secs(1));
        let envelope = Arc::new(hub.encode(message).unwrap());
        // Appended, then dispatched late, as a shared log's tail that fell behind does.
        let entry = hub.inner.append(envelope).await.unwrap();
        clock.advance(Duration::from_secs(2)).await;
        hub.inner.dispatch(&entry);
        let why = hub
            .explain(&entry.cursor().to_string(), UserId::from(3))
            .await;
        assert_eq!(
            why.connections
                .iter()
                .map(|c| (c.outcome, c.detail.as_str()))
                .collect::<Vec<_>>(),
            [(
                Outcome::Expired,
                "its TTL had passed when it was dispatched"
            )]
        );
    }
}
