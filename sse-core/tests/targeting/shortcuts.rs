//! The product brief's helpers (`send_toast`, `notify_admins`, `broadcast_to_channel`,
//! `send_to_users`, `invalidate_client_caches`, `trigger_refresh`) reach exactly their
//! recipients.

use std::time::Duration;

use serde_json::json;
use sse_hub::{
    Channel, EventType, Hub, RefreshOptions, ToastKind, ToastOptions, UserId,
    error::{MessageError, NameError, SendError},
};

use crate::{EVERYONE_ON_MAIN, Fixture, event_of};

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
    let event = event_of(&report, &Channel::TOASTS, "toast", toast);
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
    let event = event_of(&report, &Channel::TOASTS, "toast", toast);
    fixture.assert_delivered("send_toast defaults", &["user5"], &report, event);

    // notify_admins: the admin role on `admin-actions`.
    let data = json!({"type": "quota-updated", "userId": 42});
    let report = fixture
        .hub
        .notify_admins(EventType::Update, data.clone())
        .await
        .unwrap();
    let event = event_of(&report, &Channel::ADMIN_ACTIONS, "update", data);
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
    let event = event_of(&report, &Channel::ALERTS, "broadcast", data);
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
    let event = event_of(&report, &Channel::CHAT, "broadcast", json!("hello chat"));
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
    let event = event_of(&report, &Channel::NOTIFICATIONS, "notification", data);
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
        event_of(
            &reports[0],
            &Channel::ALERTS,
            "refresh",
            json!({"type": "cache-invalidation", "channel": "alerts"}),
        ),
        event_of(
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
    let notifications = event_of(
        &reports[0],
        &Channel::NOTIFICATIONS,
        "refresh",
        json!({"type": "cache-invalidation", "channel": "notifications"}),
    );
    let chat = event_of(
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
    let event = event_of(&report, &Channel::LIVE_UPDATES, "refresh", data);
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
    let event = event_of(&report, &Channel::CHAT, "refresh", data);
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
