//! A model-based test of the hub: proptest generates sequences of connects (fresh or resuming),
//! sends of every target kind with priorities, TTLs, coalescing and persistence, reads by slow
//! and fast readers, the passing of time, disconnects, kicks and a shutdown, and checks what
//! every connection received against a reference model written apart from the hub:
//!
//! - nothing delivered that the connection may not see, and nothing past its TTL;
//! - nothing twice and nothing out of order, across a client's reconnects too;
//! - every send accounted: each open connection the reference says it targets is counted in
//!   the send report as sent, shed or closed, and a connection counts every frame it drops;
//! - nothing lost silently: a connection that dropped nothing received every message sent to
//!   it while it was open.
//!
//! 10,000 cases by default (`PROPTEST_CASES` overrides).

use std::{collections::BTreeMap, time::Duration};

use futures_util::FutureExt;
use proptest::prelude::*;
use serde_json::json;
use sse_hub::{
    Channel, ConnectOptions, ConnectionId, Cursor, EventType, HistoryConfig, Hub, Identity,
    Message, Permission, Role, Subscription,
    testing::{TestClock, decode},
};

use crate::support::START;

const CHANNELS: [Channel; 2] = [Channel::ALERTS, Channel::CHAT];
const ADMIN: Role = Role::from_static("admin");
const EDIT: Permission = Permission::from_static("content.edit");

/// The clients: who they are. A client has at most one connection at a time.
fn identity(client: usize) -> Identity {
    match client {
        0 => Identity::anonymous(),
        1 => Identity::user(1_u64).with_role(ADMIN),
        2 => Identity::user(2_u64).with_permissions([EDIT]),
        _ => Identity::user(3_u64),
    }
}

const CLIENTS: usize = 4;

#[derive(Debug, Clone)]
enum Target {
    All,
    Authenticated,
    Users(Vec<u64>),
    Admins,
    Editors,
}

#[derive(Debug, Clone)]
struct Send {
    channel: usize,
    target: Target,
    exclude: Option<u64>,
    require_auth: bool,
    priority: u8,
    ttl: Option<u64>,
    coalesce: Option<u8>,
    persistent: bool,
    retryable: bool,
}

#[derive(Debug, Clone)]
enum Op {
    Connect {
        client: usize,
        channels: u8,
        resume: bool,
    },
    Send(Send),
    Read {
        client: usize,
        chunks: usize,
    },
    Advance(u64),
    Disconnect(usize),
    Leave(usize),
    Kick(u64),
}

fn send() -> impl Strategy<Value = Send> {
    let target = prop_oneof![
        Just(Target::All),
        Just(Target::Authenticated),
        proptest::collection::vec(1_u64..=4, 1..3).prop_map(Target::Users),
        Just(Target::Admins),
        Just(Target::Editors),
    ];
    (
        0..CHANNELS.len(),
        target,
        proptest::option::of(1_u64..=3),
        any::<bool>(),
        0_u8..=10,
        proptest::option::of(1_u64..=3),
        proptest::option::of(0_u8..2),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(
                channel,
                target,
                exclude,
                require_auth,
                priority,
                ttl,
                coalesce,
                persistent,
                retryable,
            )| {
                Send {
                    channel,
                    target,
                    exclude,
                    require_auth,
                    priority,
                    ttl,
                    coalesce,
                    persistent,
                    retryable,
                }
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..CLIENTS, 1_u8..4, any::<bool>())
            .prop_map(|(client, channels, resume)| Op::Connect { client, channels, resume }),
        6 => send().prop_map(Op::Send),
        4 => (0..CLIENTS, 0_usize..4).prop_map(|(client, chunks)| Op::Read { client, chunks }),
        1 => (0_u64..3).prop_map(Op::Advance),
        1 => (0..CLIENTS).prop_map(Op::Disconnect),
        1 => (0..CLIENTS).prop_map(Op::Leave),
        1 => (1_u64..=4).prop_map(Op::Kick),
    ]
}

/// A message as the reference model knows it.
#[derive(Debug, Clone)]
struct Sent {
    send: Send,
    cursor: Cursor,
    expires_at: Option<u64>,
}

impl Sent {
    /// Whether `client`, subscribed to `channels`, may receive this message: the reference
    /// for targeting, written apart from the hub's.
    fn admits(&self, client: usize, channels: u8) -> bool {
        let s = &self.send;
        let user = (client > 0).then_some(client as u64);
        if channels & (1 << s.channel) == 0 {
            return false;
        }
        if user.is_none() && s.require_auth {
            return false;
        }
        if user.is_some() && user == s.exclude {
            return false;
        }
        match &s.target {
            Target::All => true,
            Target::Authenticated => user.is_some(),
            Target::Users(users) => user.is_some_and(|u| users.contains(&u)),
            Target::Admins => client == 1,
            Target::Editors => client == 2,
        }
    }
}

/// One client's connection, as the model sees it.
struct Conn {
    id: ConnectionId,
    channels: u8,
    subscription: Subscription,
    /// Cursors of the live messages sent while this connection was open that it may receive.
    entitled: Vec<Cursor>,
    /// Whether the connection opened from a cursor or got a history gap (its backlog is not
    /// modelled).
    resumed: bool,
    /// Frames the client decoded from this connection.
    frames: u64,
}

struct Model {
    hub: Hub,
    clock: TestClock,
    sent: BTreeMap<String, Sent>,
    conns: Vec<Option<Conn>>,
    /// Per client: the cursors received, over all its connections.
    received: Vec<Vec<Cursor>>,
}

impl Model {
    fn new() -> Self {
        let clock = TestClock::new(START);
        let hub = clock
            .hub()
            .queue_capacity(4)
            .max_replay(8)
            .history(HistoryConfig::default().capacity(16))
            .build();
        Self {
            hub,
            clock,
            sent: BTreeMap::new(),
            conns: (0..CLIENTS).map(|_| None).collect(),
            received: vec![Vec::new(); CLIENTS],
        }
    }

    fn is_open(&self, conn: &Conn) -> bool {
        self.hub.connection_info(conn.id).is_some()
    }

    async fn apply(&mut self, op: &Op) {
        match op {
            Op::Connect {
                client,
                channels,
                resume,
            } => {
                self.conns[*client] = None;
                let chosen = CHANNELS
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| channels & (1 << i) != 0)
                    .map(|(_, c)| c.clone())
                    .collect::<Vec<_>>();
                let mut options = ConnectOptions::new(identity(*client)).channels(chosen);
                let last = self.received[*client].last().copied();
                if *resume {
                    if let Some(last) = last {
                        options = options.last_event_id(last);
                    }
                }
                let subscription = self
                    .hub
                    .connect(options)
                    .now_or_never()
                    .expect("connecting never waits")
                    .expect("the hub accepts");
                let resumed =
                    subscription.connected().resumed || subscription.connected().history_gap;
                if !(*resume && last.is_some()) {
                    // A fresh connection: what the client saw before is not its history.
                    self.received[*client].clear();
                }
                self.conns[*client] = Some(Conn {
                    id: subscription.id(),
                    channels: *channels,
                    subscription,
                    entitled: Vec::new(),
                    resumed,
                    frames: 0,
                });
            }
            Op::Send(send) => self.send(send),
            Op::Read { client, chunks } => self.read(*client, *chunks),
            Op::Advance(secs) => {
                self.clock.advance(Duration::from_secs(*secs)).await;
            }
            Op::Disconnect(client) => {
                if let Some(conn) = &self.conns[*client] {
                    self.hub.disconnect(conn.id);
                }
            }
            Op::Leave(client) => self.conns[*client] = None,
            Op::Kick(user) => {
                self.hub.disconnect_user(*user);
            }
        }
    }

    fn send(&mut self, send: &Send) {
        let channel = CHANNELS[send.channel].clone();
        let n = self.sent.len();
        let mut message = Message::new(channel, EventType::Data, json!(n)).priority(send.priority);
        message = match &send.target {
            Target::All => message,
            Target::Authenticated => message.to_authenticated(),
            Target::Users(users) => message.to_users(users.iter().copied()),
            Target::Admins => message.to_roles([ADMIN]),
            Target::Editors => message.to_permissions([EDIT]),
        };
        if let Some(user) = send.exclude {
            message = message.exclude_users([user]);
        }
        if send.require_auth {
            message = message.require_auth();
        }
        if let Some(ttl) = send.ttl {
            message = message.ttl(Duration::from_secs(ttl));
        }
        if let Some(key) = send.coalesce {
            message = message.coalesce_key(format!("key-{key}").parse().unwrap());
        }
        if send.persistent {
            message = message.persistent();
        }
        message = message.retryable(send.retryable);
        // Which open connections the reference says it targets.
        let now = self.clock.now_ms();
        let sent = Sent {
            send: send.clone(),
            cursor: Cursor::new(0, 0, 0),
            expires_at: send.ttl.map(|ttl| now + ttl * 1000),
        };
        let targeted: Vec<usize> = (0..CLIENTS)
            .filter(|&c| {
                self.conns[c]
                    .as_ref()
                    .is_some_and(|conn| self.is_open(conn) && sent.admits(c, conn.channels))
            })
            .collect();
        let report = self
            .hub
            .send(message)
            .now_or_never()
            .expect("a local send never waits")
            .expect("a valid message");
        assert_eq!(
            report.sent + report.shed + report.closed,
            targeted.len(),
            "every targeted open connection is accounted in the report of {send:?}: {report:?}"
        );
        for client in targeted {
            if let Some(conn) = &mut self.conns[client] {
                conn.entitled.push(report.cursor);
            }
        }
        self.sent.insert(
            json!(n).to_string(),
            Sent {
                cursor: report.cursor,
                ..sent
            },
        );
    }

    fn read(&mut self, client: usize, chunks: usize) {
        let now = self.clock.now_ms();
        let Some(conn) = &mut self.conns[client] else {
            return;
        };
        for _ in 0..chunks {
            let Some(Some(chunk)) = conn.subscription.recv().now_or_never() else {
                break;
            };
            for event in decode(&chunk) {
                if event.is_retry_only() {
                    continue;
                }
                conn.frames += 1;
                if event.is_history_gap() {
                    // The client resynchronises: it starts over.
                    self.received[client].clear();
                    continue;
                }
                let key = event.payload().to_string();
                let sent = self.sent.get(&key).expect("only sent messages arrive");
                assert!(
                    sent.admits(client, conn.channels),
                    "client {client} on channels {:b} received {sent:?}",
                    conn.channels
                );
                assert!(
                    sent.expires_at.is_none_or(|at| now < at),
                    "client {client} received {sent:?} at {now}, past its TTL"
                );
                let cursor: Cursor = event.id.parse().unwrap();
                assert_eq!(cursor, sent.cursor);
                if let Some(last) = self.received[client].last() {
                    assert!(
                        cursor > *last,
                        "client {client} received {cursor} after {last}: twice or out of order"
                    );
                }
                self.received[client].push(cursor);
            }
        }
    }

    /// Drains every open connection, then checks that nothing was lost silently.
    fn finish(&mut self) {
        for client in 0..CLIENTS {
            self.read(client, usize::MAX);
        }
        for client in 0..CLIENTS {
            let Some(conn) = &self.conns[client] else {
                continue;
            };
            let Some(info) = self.hub.connection_info(conn.id) else {
                continue;
            };
            assert_eq!(info.queue_len, 0);
            assert_eq!(
                info.delivered, conn.frames,
                "client {client}: what the hub wrote is what the client read"
            );
            if info.dropped == 0 && !conn.resumed {
                // Everything sent to it while it was open arrived (it may also have received
                // persistent messages from before).
                let received = &self.received[client];
                let missing: Vec<&Cursor> = conn
                    .entitled
                    .iter()
                    .filter(|c| !received.contains(c))
                    .collect();
                assert!(
                    missing.is_empty(),
                    "client {client} dropped nothing yet never received {missing:?}"
                );
            }
        }
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn every_connection_gets_what_it_may_see_once_in_order_or_a_counted_drop(
        ops in proptest::collection::vec(op(), 1..40),
        shutdown in any::<bool>(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut model = Model::new();
            for op in &ops {
                model.apply(op).await;
            }
            model.finish();
            if shutdown {
                let open = model.hub.connection_count();
                assert_eq!(model.hub.shutdown(), open);
                for conn in model.conns.iter_mut().flatten() {
                    let rest = decode(
                        &std::iter::from_fn(|| conn.subscription.recv().now_or_never().flatten())
                            .flat_map(|chunk| chunk.to_vec())
                            .collect::<Vec<u8>>(),
                    );
                    assert!(rest.iter().all(|e| e.is_retry_only()), "{rest:?}");
                }
            }
        });
    }
}
