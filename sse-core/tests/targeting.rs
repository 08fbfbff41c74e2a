//! Which connections receive a message: every target kind crossed with exclusions and
//! `requireAuth`, channel isolation, overlapping grants, user ids given as integers or strings,
//! and the product brief's helpers.
//!
//! One hub holds identities side by side; after each send every connection is drained without
//! waiting, its frames are decoded by an independent SSE parser (`eventsource-stream`), and the
//! exact set of connections that received the message, the event name and the JSON payload are
//! compared with a table.

use std::{convert::Infallible, fmt, time::Duration};

use eventsource_stream::EventStream;
use futures_util::{FutureExt, StreamExt, stream};
use serde_json::{Value, json};
use sse_core::{
    Channel, ConnectOptions, EventType, Hub, Identity, ManualClock, Message, Permission,
    RefreshOptions, Role, RolePermissions, SendReport, Subscription, ToastKind, ToastOptions,
    UserId,
    error::{MessageError, NameError, SendError},
};

const NOW: u64 = 1_764_350_000_000;

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

/// One decoded event: its SSE id and event name, and its data parsed as JSON.
#[derive(Debug, Clone, PartialEq)]
struct Received {
    id: String,
    event: String,
    payload: Value,
}

impl Received {
    /// What every recipient of the message `report` describes must receive.
    fn of(report: &SendReport, channel: &Channel, event: &str, data: Value) -> Self {
        Self {
            id: report.cursor.to_string(),
            event: event.to_owned(),
            payload: json!({
                "id": report.id.as_str(),
                "channel": channel.as_str(),
                "event": event,
                "data": data,
                "timestamp": NOW,
            }),
        }
    }
}

struct Fixture {
    hub: Hub,
    connections: Vec<(&'static str, Subscription)>,
}

impl Fixture {
    /// The identities of the matrix, side by side on one hub.
    async fn new() -> Self {
        let hub = Hub::builder()
            .clock(ManualClock::new(NOW).into())
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
        let subscription = self
            .hub
            .connect(ConnectOptions::new(identity).channels(channels))
            .await
            .unwrap();
        self.connections.push((name, subscription));
    }

    /// The events each connection received since the last call, for the connections that
    /// received any, in fixture order. Never waits.
    fn drain(&mut self) -> Vec<(&'static str, Vec<Received>)> {
        let mut out = Vec::new();
        for (name, subscription) in &mut self.connections {
            let mut bytes = Vec::new();
            loop {
                match subscription.recv().now_or_never() {
                    Some(Some(chunk)) => bytes.extend_from_slice(&chunk),
                    Some(None) => panic!("the stream of {name} ended"),
                    None => break,
                }
            }
            assert_eq!(subscription.queue_len(), 0, "{name}");
            if !bytes.is_empty() {
                out.push((*name, decode(&bytes)));
            }
        }
        out
    }

    /// Asserts that exactly the connections `names` received exactly `events` since the last
    /// drain, and nobody else anything.
    #[track_caller]
    fn assert_received(&mut self, case: &str, names: &[&'static str], events: &[Received]) {
        let expected: Vec<(&str, Vec<Received>)> =
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
        event: Received,
    ) {
        self.assert_received(case, names, &[event]);
        assert_eq!(
            (report.sent, report.shed, report.closed),
            (names.len(), 0, 0),
            "case: {case}: sent, shed, closed"
        );
    }
}

fn decode(bytes: &[u8]) -> Vec<Received> {
    EventStream::new(stream::iter([Ok::<_, Infallible>(bytes)]))
        .map(|event| {
            let event = event.expect("frames are valid SSE");
            assert_eq!(event.retry, None);
            Received {
                id: event.id,
                event: event.event,
                payload: serde_json::from_str(&event.data).expect("the data line is JSON"),
            }
        })
        .collect::<Vec<_>>()
        .now_or_never()
        .expect("an in-memory stream is always ready")
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    All,
    Authenticated,
    Users,
    Roles,
    Permissions,
}

impl Kind {
    fn apply(self, message: Message) -> Message {
        match self {
            Self::All => message.to_all(),
            Self::Authenticated => message.to_authenticated(),
            Self::Users => message.to_users([1u64, 2, 4]),
            Self::Roles => message.to_roles([ADMIN, EDITOR]),
            Self::Permissions => {
                message.to_permissions([CONTENT_REVIEW, DASHBOARD_VIEW, USERS_MANAGE])
            }
        }
    }
}

struct Case {
    target: Kind,
    exclude_user2: bool,
    require_auth: bool,
    expected: &'static [&'static str],
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?}, exclude {}, requireAuth {}",
            self.target,
            if self.exclude_user2 { "user 2" } else { "none" },
            self.require_auth
        )
    }
}

const fn case(
    target: Kind,
    exclude_user2: bool,
    require_auth: bool,
    expected: &'static [&'static str],
) -> Case {
    Case {
        target,
        exclude_user2,
        require_auth,
        expected,
    }
}

/// The matrix. `Users` targets users 1, 2 and 4; `Roles` targets admin and editor;
/// `Permissions` targets content.review (user 3's own), dashboard.view (user 4's, from the
/// analyst role) and users.manage (from the admin role). `user1-chat` is on another channel and
/// never receives anything.
const MATRIX: &[Case] = &[
    case(Kind::All, false, false, EVERYONE_ON_MAIN),
    case(
        Kind::All,
        false,
        true,
        &["user1", "user2-a", "user2-b", "user3", "user4", "user5"],
    ),
    case(
        Kind::All,
        true,
        false,
        &["anonymous", "user1", "user3", "user4", "user5"],
    ),
    case(Kind::All, true, true, &["user1", "user3", "user4", "user5"]),
    case(
        Kind::Authenticated,
        false,
        false,
        &["user1", "user2-a", "user2-b", "user3", "user4", "user5"],
    ),
    case(
        Kind::Authenticated,
        false,
        true,
        &["user1", "user2-a", "user2-b", "user3", "user4", "user5"],
    ),
    case(
        Kind::Authenticated,
        true,
        false,
        &["user1", "user3", "user4", "user5"],
    ),
    case(
        Kind::Authenticated,
        true,
        true,
        &["user1", "user3", "user4", "user5"],
    ),
    case(
        Kind::Users,
        false,
        false,
        &["user1", "user2-a", "user2-b", "user4"],
    ),
    case(
        Kind::Users,
        false,
        true,
        &["user1", "user2-a", "user2-b", "user4"],
    ),
    case(Kind::Users, true, false, &["user1", "user4"]),
    case(Kind::Users, true, true, &["user1", "user4"]),
    case(
        Kind::Roles,
        false,
        false,
        &["user2-a", "user2-b", "user3", "user5"],
    ),
    case(
        Kind::Roles,
        false,
        true,
        &["user2-a", "user2-b", "user3", "user5"],
    ),
    case(Kind::Roles, true, false, &["user3", "user5"]),
    case(Kind::Roles, true, true, &["user3", "user5"]),
    case(
        Kind::Permissions,
        false,
        false,
        &["user2-a", "user2-b", "user3", "user4", "user5"],
    ),
    case(
        Kind::Permissions,
        false,
        true,
        &["user2-a", "user2-b", "user3", "user4", "user5"],
    ),
    case(Kind::Permissions, true, false, &["user3", "user4", "user5"]),
    case(Kind::Permissions, true, true, &["user3", "user4", "user5"]),
];

#[tokio::test]
async fn resolver_gives_each_connection_its_effective_permissions() {
    let fixture = Fixture::new().await;
    let permissions: Vec<(&str, Vec<Permission>)> = fixture
        .connections
        .iter()
        .map(|(name, subscription)| {
            let info = fixture.hub.connection_info(subscription.id()).unwrap();
            (*name, info.permissions)
        })
        .collect();
    assert_eq!(
        permissions,
        [
            ("anonymous", vec![]),
            ("user1", vec![]),
            ("user1-chat", vec![]),
            ("user2-a", vec![USERS_MANAGE]),
            ("user2-b", vec![USERS_MANAGE]),
            ("user3", vec![CONTENT_REVIEW, CONTENT_EDIT]),
            ("user4", vec![DASHBOARD_VIEW]),
            ("user5", vec![USERS_MANAGE, CONTENT_EDIT]),
        ]
    );
}

#[tokio::test]
async fn targeting_matrix() {
    let mut fixture = Fixture::new().await;
    assert_eq!(MATRIX.len(), 5 * 2 * 2);
    for case in MATRIX {
        let data = json!({"case": case.to_string()});
        let mut message = case.target.apply(Message::new(
            Channel::LIVE_UPDATES,
            EventType::Update,
            data.clone(),
        ));
        if case.exclude_user2 {
            message = message.exclude_users([2u64]);
        }
        if case.require_auth {
            message = message.require_auth();
        }
        let report = fixture.hub.send(message).await.unwrap();
        let event = Received::of(&report, &Channel::LIVE_UPDATES, "update", data);
        fixture.assert_delivered(&case.to_string(), case.expected, &report, event);
    }
}

#[tokio::test]
async fn channels_the_connection_did_not_subscribe_to_never_arrive() {
    let mut fixture = Fixture::new().await;
    let kinds = [
        Kind::All,
        Kind::Authenticated,
        Kind::Users,
        Kind::Roles,
        Kind::Permissions,
    ];

    // Nobody subscribes to `system`.
    for kind in kinds {
        let report = fixture
            .hub
            .send(kind.apply(Message::new(Channel::SYSTEM, EventType::Data, json!(1))))
            .await
            .unwrap();
        fixture.assert_received(&format!("{kind:?} on system"), &[], &[]);
        assert_eq!(report.sent, 0, "{kind:?} on system");
    }

    // Only `user1-chat` subscribes to `chat`, and it holds no role or permission.
    let on_chat: [(Kind, &[&str]); 5] = [
        (Kind::All, &["user1-chat"]),
        (Kind::Authenticated, &["user1-chat"]),
        (Kind::Users, &["user1-chat"]),
        (Kind::Roles, &[]),
        (Kind::Permissions, &[]),
    ];
    for (kind, expected) in on_chat {
        let case = format!("{kind:?} on chat");
        let report = fixture
            .hub
            .send(kind.apply(Message::new(Channel::CHAT, EventType::Data, json!(2))))
            .await
            .unwrap();
        let event = Received::of(&report, &Channel::CHAT, "data", json!(2));
        fixture.assert_delivered(&case, expected, &report, event);
    }

    // A user's message on one channel does not reach that user's connection on another.
    let report = fixture
        .hub
        .send_to_users([1u64], Channel::NOTIFICATIONS, EventType::Data, json!(3))
        .await
        .unwrap();
    let event = Received::of(&report, &Channel::NOTIFICATIONS, "data", json!(3));
    fixture.assert_delivered("user 1 on notifications", &["user1"], &report, event);

    // With more role and permission holders than `chat` has subscribers, the hub walks the
    // channel instead of the grant indices: the result must be the same.
    fixture
        .connect(
            "user5-chat",
            Identity::user(5u64).with_roles([ADMIN, EDITOR]),
            [Channel::CHAT],
        )
        .await;
    for (case, message) in [
        (
            "admin on chat",
            Message::new(Channel::CHAT, EventType::Data, json!(4)).to_roles([ADMIN]),
        ),
        (
            "users.manage or content.edit on chat",
            Message::new(Channel::CHAT, EventType::Data, json!(4))
                .to_permissions([USERS_MANAGE, CONTENT_EDIT]),
        ),
    ] {
        let report = fixture.hub.send(message).await.unwrap();
        let event = Received::of(&report, &Channel::CHAT, "data", json!(4));
        fixture.assert_delivered(case, &["user5-chat"], &report, event);
    }
}

#[tokio::test]
async fn overlapping_targets_deliver_once() {
    let mut fixture = Fixture::new().await;
    let cases: [(&str, Message, &[&str]); 4] = [
        (
            "roles admin, editor, admin",
            Message::new(Channel::ALERTS, EventType::Alert, json!(1))
                .to_roles([ADMIN, EDITOR, ADMIN]),
            &["user2-a", "user2-b", "user3", "user5"],
        ),
        (
            "roles editor, admin",
            Message::new(Channel::ALERTS, EventType::Alert, json!(1)).to_roles([EDITOR, ADMIN]),
            &["user2-a", "user2-b", "user3", "user5"],
        ),
        (
            // user5 holds both (via admin and editor), user3 holds content.edit and its own
            // content.review.
            "permissions users.manage, content.edit, content.review",
            Message::new(Channel::ALERTS, EventType::Alert, json!(1)).to_permissions([
                USERS_MANAGE,
                CONTENT_EDIT,
                CONTENT_REVIEW,
            ]),
            &["user2-a", "user2-b", "user3", "user5"],
        ),
        (
            "users 2, 2, \"2\", 5, \"5\"",
            Message::new(Channel::ALERTS, EventType::Alert, json!(1)).to_users([
                UserId::from(2u64),
                UserId::from(2u64),
                UserId::new("2").unwrap(),
                UserId::from(5u64),
                UserId::new("5").unwrap(),
            ]),
            &["user2-a", "user2-b", "user5"],
        ),
    ];
    for (case, message, expected) in cases {
        let report = fixture.hub.send(message).await.unwrap();
        let event = Received::of(&report, &Channel::ALERTS, "alert", json!(1));
        fixture.assert_delivered(case, expected, &report, event);
    }
}

#[tokio::test]
async fn empty_target_lists_are_rejected() {
    let mut fixture = Fixture::new().await;
    let message = || Message::new(Channel::ALERTS, EventType::Alert, json!(1));
    let cases = [
        (
            "user-specific",
            "targetUsers",
            fixture
                .hub
                .send(message().to_users(Vec::<UserId>::new()))
                .await,
        ),
        (
            "user-specific",
            "targetUsers",
            fixture
                .hub
                .send_to_users(
                    Vec::<u64>::new(),
                    Channel::ALERTS,
                    EventType::Alert,
                    json!(1),
                )
                .await,
        ),
        (
            "role-based",
            "targetRoles",
            fixture.hub.send(message().to_roles([])).await,
        ),
        (
            "permission-based",
            "targetPermissions",
            fixture.hub.send(message().to_permissions([])).await,
        ),
        (
            "user-specific",
            "targetUsers",
            fixture
                .hub
                .send(
                    serde_json::from_value(json!({
                        "channel": "alerts",
                        "event": "alert",
                        "target": "user-specific",
                        "targetUsers": []
                    }))
                    .unwrap(),
                )
                .await,
        ),
    ];
    for (target, field, result) in cases {
        match result {
            Err(SendError::Invalid(MessageError::EmptyTarget {
                target: t,
                field: f,
            })) => assert_eq!((t, f), (target, field)),
            other => panic!("{target}: expected an empty {field} error, got {other:?}"),
        }
    }
    assert_eq!(fixture.hub.stats().messages_sent, 0);
    fixture.assert_received("rejected messages", &[], &[]);
}

#[tokio::test]
async fn user_ids_as_integers_and_strings_match_the_same_user() {
    let mut fixture = Fixture::new().await;
    // From JSON, as the product brief writes messages.
    let message: Message = serde_json::from_value(json!({
        "channel": "notifications",
        "event": "notification",
        "data": {"title": "Hi"},
        "target": "user-specific",
        "targetUsers": [1, "2", "4", 5],
        "excludeUsers": ["1", 4]
    }))
    .unwrap();
    let report = fixture.hub.send(message).await.unwrap();
    let event = Received::of(
        &report,
        &Channel::NOTIFICATIONS,
        "notification",
        json!({"title": "Hi"}),
    );
    fixture.assert_delivered("json ids", &["user2-a", "user2-b", "user5"], &report, event);

    // From the builder, mixing `From<u64>` and parsed strings.
    let report = fixture
        .hub
        .send(
            Message::new(Channel::NOTIFICATIONS, EventType::Data, json!(2))
                .to_users([UserId::new("3").unwrap(), UserId::from(5u64)])
                .exclude_users([UserId::new("5").unwrap()]),
        )
        .await
        .unwrap();
    let event = Received::of(&report, &Channel::NOTIFICATIONS, "data", json!(2));
    fixture.assert_delivered("builder ids", &["user3"], &report, event);
}

#[tokio::test]
async fn brief_helpers_reach_exactly_their_recipients() {
    let mut fixture = Fixture::new().await;

    // send_toast: one user's connections on `toasts`.
    let report = fixture
        .hub
        .send_toast(
            UserId::from(2u64),
            "Operation completed successfully!",
            ToastKind::Success,
            ToastOptions::default()
                .duration(Duration::from_millis(2_500))
                .dismissible(false),
        )
        .await
        .unwrap();
    let toast = json!({
        "message": "Operation completed successfully!",
        "type": "success",
        "duration": 2_500,
        "dismissible": false
    });
    let event = Received::of(&report, &Channel::TOASTS, "toast", toast);
    fixture.assert_delivered("send_toast", &["user2-a", "user2-b"], &report, event);

    let report = fixture
        .hub
        .send_toast(
            UserId::new("5").unwrap(),
            "FYI",
            ToastKind::default(),
            ToastOptions::default(),
        )
        .await
        .unwrap();
    let toast = json!({"message": "FYI", "type": "info", "duration": 5_000, "dismissible": true});
    let event = Received::of(&report, &Channel::TOASTS, "toast", toast);
    fixture.assert_delivered("send_toast defaults", &["user5"], &report, event);

    // notify_admins: the admin role on `admin-actions`.
    let data = json!({"type": "quota-updated", "userId": 42});
    let report = fixture
        .hub
        .notify_admins(EventType::Update, data.clone())
        .await
        .unwrap();
    let event = Received::of(&report, &Channel::ADMIN_ACTIONS, "update", data);
    fixture.assert_delivered(
        "notify_admins",
        &["user2-a", "user2-b", "user5"],
        &report,
        event,
    );

    // broadcast_to_channel: every subscriber of the channel, anonymous included.
    let data = json!({"message": "maintenance at 5"});
    let report = fixture
        .hub
        .broadcast_to_channel(Channel::ALERTS, EventType::Broadcast, data.clone())
        .await
        .unwrap();
    let event = Received::of(&report, &Channel::ALERTS, "broadcast", data);
    fixture.assert_delivered(
        "broadcast_to_channel alerts",
        EVERYONE_ON_MAIN,
        &report,
        event,
    );

    let report = fixture
        .hub
        .broadcast_to_channel(Channel::CHAT, EventType::Broadcast, json!("hello chat"))
        .await
        .unwrap();
    let event = Received::of(&report, &Channel::CHAT, "broadcast", json!("hello chat"));
    fixture.assert_delivered("broadcast_to_channel chat", &["user1-chat"], &report, event);

    // send_to_users: the users' connections on that channel only.
    let data = json!({"title": "New message"});
    let report = fixture
        .hub
        .send_to_users(
            [1u64, 3],
            Channel::NOTIFICATIONS,
            EventType::Notification,
            data.clone(),
        )
        .await
        .unwrap();
    let event = Received::of(&report, &Channel::NOTIFICATIONS, "notification", data);
    fixture.assert_delivered("send_to_users", &["user1", "user3"], &report, event);

    // invalidate_client_caches: one `refresh` per channel, in order, to everyone or the users.
    let reports = fixture
        .hub
        .invalidate_client_caches(
            [Channel::ALERTS, Channel::LIVE_UPDATES],
            None::<Vec<UserId>>,
        )
        .await
        .unwrap();
    let events = [
        Received::of(
            &reports[0],
            &Channel::ALERTS,
            "refresh",
            json!({"type": "cache-invalidation", "channel": "alerts"}),
        ),
        Received::of(
            &reports[1],
            &Channel::LIVE_UPDATES,
            "refresh",
            json!({"type": "cache-invalidation", "channel": "live-updates"}),
        ),
    ];
    fixture.assert_received(
        "invalidate_client_caches everyone",
        EVERYONE_ON_MAIN,
        &events,
    );
    assert_eq!(
        reports.iter().map(|r| r.sent).collect::<Vec<_>>(),
        [EVERYONE_ON_MAIN.len(); 2]
    );

    let reports = fixture
        .hub
        .invalidate_client_caches([Channel::NOTIFICATIONS, Channel::CHAT], Some([4u64, 1]))
        .await
        .unwrap();
    let notifications = Received::of(
        &reports[0],
        &Channel::NOTIFICATIONS,
        "refresh",
        json!({"type": "cache-invalidation", "channel": "notifications"}),
    );
    let chat = Received::of(
        &reports[1],
        &Channel::CHAT,
        "refresh",
        json!({"type": "cache-invalidation", "channel": "chat"}),
    );
    assert_eq!(
        fixture.drain(),
        [
            ("user1", vec![notifications.clone()]),
            ("user1-chat", vec![chat]),
            ("user4", vec![notifications]),
        ],
        "case: invalidate_client_caches users 4 and 1"
    );
    assert_eq!(reports.iter().map(|r| r.sent).collect::<Vec<_>>(), [2, 1]);

    // trigger_refresh: `live-updates` by default, reason null unless given.
    let report = fixture
        .hub
        .trigger_refresh("dashboard", RefreshOptions::default())
        .await
        .unwrap();
    let data = json!({"resource": "dashboard", "reason": null});
    let event = Received::of(&report, &Channel::LIVE_UPDATES, "refresh", data);
    fixture.assert_delivered("trigger_refresh defaults", EVERYONE_ON_MAIN, &report, event);

    let report = fixture
        .hub
        .trigger_refresh(
            "dashboard",
            RefreshOptions::default()
                .channel(Channel::CHAT)
                .reason("schema changed"),
        )
        .await
        .unwrap();
    let data = json!({"resource": "dashboard", "reason": "schema changed"});
    let event = Received::of(&report, &Channel::CHAT, "refresh", data);
    fixture.assert_delivered("trigger_refresh on chat", &["user1-chat"], &report, event);
}

#[tokio::test]
async fn trigger_refresh_rejects_an_empty_or_too_long_resource() {
    let hub = Hub::new();
    for (resource, expected) in [
        (String::new(), NameError::Empty { field: "resource" }),
        (
            "r".repeat(201),
            NameError::TooLong {
                field: "resource",
                len: 201,
                max: 200,
            },
        ),
    ] {
        match hub
            .trigger_refresh(&resource, RefreshOptions::default())
            .await
        {
            Err(SendError::Invalid(MessageError::Name(err))) => assert_eq!(err, expected),
            other => panic!("{} characters: {other:?}", resource.chars().count()),
        }
    }
    assert!(
        hub.trigger_refresh(&"r".repeat(200), RefreshOptions::default())
            .await
            .is_ok()
    );
}
