//! Which connections receive a message: every target kind crossed with exclusions and
//! `requireAuth`, channel isolation, overlapping grants, user ids given as integers or strings,
//! and the product brief's helpers.
//!
//! One hub holds identities side by side; after each send every connection is drained without
//! waiting, its frames are decoded by the test kit (`sse_hub::testing`, an independent SSE
//! parser), and the exact set of connections that received the message, with each event's id,
//! name, JSON data and (absent) retry, is compared with a table.

use futures_util::FutureExt;
use serde_json::{Value, json};
use sse_hub::{
    Channel, ConnectOptions, Hub, Identity, Permission, Role, RolePermissions, SendReport,
    Subscription, UserId,
    testing::{Event, TestClock, drain},
};

use crate::support::{START, connect};

#[path = "../support/mod.rs"]
mod support;

mod lists;
mod matrix;
mod shortcuts;

/// The channels every connection but `user1-chat` subscribes to.
const MAIN: [Channel; 5] = [
    Channel::LIVE_UPDATES,
    Channel::TOASTS,
    Channel::ADMIN_ACTIONS,
    Channel::NOTIFICATIONS,
    Channel::ALERTS,
];

const ADMIN: Role = Role::from_static("admin");
const EDITOR: Role = Role::from_static("editor");
const ANALYST: Role = Role::from_static("analyst");
const USERS_MANAGE: Permission = Permission::from_static("users.manage");
const CONTENT_EDIT: Permission = Permission::from_static("content.edit");
const CONTENT_REVIEW: Permission = Permission::from_static("content.review");
const DASHBOARD_VIEW: Permission = Permission::from_static("dashboard.view");

/// Every connection of the fixture on the main channels, in fixture order.
const EVERYONE_ON_MAIN: &[&str] = &[
    "anonymous",
    "user1",
    "user2-a",
    "user2-b",
    "user3",
    "user4",
    "user5",
];

/// What every recipient of the message `report` describes must receive: the event `event`
/// whose SSE id is the message's cursor and whose data is the message as JSON.
fn event_of(report: &SendReport, channel: &Channel, event: &str, data: Value) -> Event {
    let json = json!({
        "id": report.id.as_str(),
        "channel": channel.as_str(),
        "event": event,
        "data": data,
        "timestamp": START,
    });
    Event {
        id: report.cursor.to_string(),
        event: event.to_owned(),
        data: json.to_string(),
        retry: None,
    }
}

/// `event` with its data written again from its JSON value, as [`event_of`] writes it, so
/// that data compares as JSON values, whatever the order of keys on the wire.
#[track_caller]
fn json_normalized(event: Event) -> Event {
    let data = event.json().to_string();
    Event { data, ..event }
}

struct Fixture {
    hub: Hub,
    connections: Vec<(&'static str, Subscription)>,
}

impl Fixture {
    /// The identities of the matrix, side by side on one hub.
    async fn new() -> Self {
        let hub = TestClock::new(START)
            .hub()
            .permission_resolver(
                RolePermissions::new()
                    .grant(ADMIN, [USERS_MANAGE])
                    .grant(EDITOR, [CONTENT_EDIT])
                    .grant(ANALYST, [DASHBOARD_VIEW]),
            )
            .build();
        let mut fixture = Self {
            hub,
            connections: Vec::new(),
        };
        fixture
            .connect("anonymous", Identity::anonymous(), MAIN)
            .await;
        fixture.connect("user1", Identity::user(1u64), MAIN).await;
        fixture
            .connect("user1-chat", Identity::user(1u64), [Channel::CHAT])
            .await;
        for name in ["user2-a", "user2-b"] {
            fixture
                .connect(name, Identity::user(2u64).with_role(ADMIN), MAIN)
                .await;
        }
        fixture
            .connect(
                "user3",
                Identity::user(3u64)
                    .with_role(EDITOR)
                    .with_permission(CONTENT_REVIEW),
                MAIN,
            )
            .await;
        fixture
            .connect("user4", Identity::user(4u64).with_role(ANALYST), MAIN)
            .await;
        // Built from a string: targets naming user 5 by integer must still match.
        fixture
            .connect(
                "user5",
                Identity::user(UserId::new("5").unwrap()).with_roles([ADMIN, EDITOR]),
                MAIN,
            )
            .await;
        fixture
    }

    async fn connect(
        &mut self,
        name: &'static str,
        identity: Identity,
        channels: impl IntoIterator<Item = Channel>,
    ) {
        let subscription =
            connect(&self.hub, ConnectOptions::new(identity).channels(channels)).await;
        self.connections.push((name, subscription));
    }

    /// The events each connection received since the last call, for the connections that
    /// received any, in fixture order. Never waits.
    fn drain(&mut self) -> Vec<(&'static str, Vec<Event>)> {
        let mut out = Vec::new();
        for (name, subscription) in &mut self.connections {
            let events = drain(subscription);
            // Nothing is left and the stream is still open.
            assert_eq!(
                subscription.recv().now_or_never(),
                None,
                "the stream of {name} ended"
            );
            assert_eq!(subscription.queue_len(), 0, "{name}");
            if !events.is_empty() {
                out.push((*name, events.into_iter().map(json_normalized).collect()));
            }
        }
        out
    }

    /// Asserts that exactly the connections `names` received exactly `events` since the last
    /// drain, and nobody else anything.
    #[track_caller]
    fn assert_received(&mut self, case: &str, names: &[&'static str], events: &[Event]) {
        let expected: Vec<(&str, Vec<Event>)> =
            names.iter().map(|name| (*name, events.to_vec())).collect();
        assert_eq!(self.drain(), expected, "case: {case}");
    }

    /// Asserts that exactly the connections `names` received the one message `report`
    /// describes, as `event`, and that the report counts them.
    #[track_caller]
    fn assert_delivered(
        &mut self,
        case: &str,
        names: &[&'static str],
        report: &SendReport,
        event: Event,
    ) {
        self.assert_received(case, names, &[event]);
        assert_eq!(
            (report.sent, report.shed, report.closed),
            (names.len(), 0, 0),
            "case: {case}: sent, shed, closed"
        );
    }
}
