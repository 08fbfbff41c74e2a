//! The targeting matrix (every target kind crossed with exclusions and `requireAuth`), channel
//! isolation, overlapping targets, empty target lists, and user ids as integers or strings.

use std::fmt;

use serde_json::json;
use sse_hub::{
    Channel, EventType, Identity, Message, Permission, UserId,
    error::{MessageError, SendError},
};

use crate::{
    ADMIN, CONTENT_EDIT, CONTENT_REVIEW, DASHBOARD_VIEW, EDITOR, EVERYONE_ON_MAIN, Fixture,
    USERS_MANAGE, event_of,
};

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
        let event = event_of(&report, &Channel::LIVE_UPDATES, "update", data);
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
        let event = event_of(&report, &Channel::CHAT, "data", json!(2));
        fixture.assert_delivered(&case, expected, &report, event);
    }

    // A user's message on one channel does not reach that user's connection on another.
    let report = fixture
        .hub
        .send_to_users([1u64], Channel::NOTIFICATIONS, EventType::Data, json!(3))
        .await
        .unwrap();
    let event = event_of(&report, &Channel::NOTIFICATIONS, "data", json!(3));
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
        let event = event_of(&report, &Channel::CHAT, "data", json!(4));
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
        let event = event_of(&report, &Channel::ALERTS, "alert", json!(1));
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
    let event = event_of(
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
    let event = event_of(&report, &Channel::NOTIFICATIONS, "data", json!(2));
    fixture.assert_delivered("builder ids", &["user3"], &report, event);
}
