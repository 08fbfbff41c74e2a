//! Recipient lists: each needs its target, each is capped and counted toward the size limit,
//! and long lists reach exactly their recipients.

use serde_json::{Value, json};
use sse_hub::{
    Channel, ConnectOptions, EventType, Hub, Identity, Message, Permission, Role, UserId,
    error::{MessageError, SendError},
    testing::drain,
};

use crate::{ADMIN, EVERYONE_ON_MAIN, Fixture, event_of};

fn from_json(message: Value) -> Message {
    serde_json::from_value(message).expect("a message in the wire format")
}

#[track_caller]
fn assert_mismatch(result: Result<sse_hub::SendReport, SendError>, target: &str, field: &str) {
    match result {
        Err(SendError::Invalid(err @ MessageError::TargetMismatch { .. })) => {
            assert_eq!(err.field(), field, "{err}");
            assert_eq!(
                err.to_string(),
                format!(
                    "{field} is only read with target {}; target is {target}",
                    match field {
                        "targetUsers" => "user-specific",
                        "targetRoles" => "role-based",
                        _ => "permission-based",
                    }
                )
            );
        }
        other => panic!("expected a mismatch of {field} and target {target}, got {other:?}"),
    }
}

#[tokio::test]
async fn recipients_named_without_their_target_are_refused() {
    let mut fixture = Fixture::new().await;
    let base = || json!({"channel": "notifications", "event": "notification", "data": {"n": 1}});
    let with = |extra: Value| {
        let mut message = base();
        for (key, value) in extra.as_object().unwrap() {
            message[key] = value.clone();
        }
        from_json(message)
    };
    // No target: it would default to everyone on the channel.
    let cases = [
        (json!({"targetUsers": [2]}), "all", "targetUsers"),
        (json!({"targetRoles": ["admin"]}), "all", "targetRoles"),
        (
            json!({"targetPermissions": ["users.manage"]}),
            "all",
            "targetPermissions",
        ),
        (
            json!({"target": "authenticated", "targetUsers": [2]}),
            "authenticated",
            "targetUsers",
        ),
        (
            json!({"target": "role-based", "targetRoles": ["admin"], "targetUsers": [2]}),
            "role-based",
            "targetUsers",
        ),
        (
            json!({"target": "user-specific", "targetUsers": [2], "targetPermissions": ["x"]}),
            "user-specific",
            "targetPermissions",
        ),
    ];
    for (extra, target, field) in cases {
        assert_mismatch(fixture.hub.send(with(extra)).await, target, field);
    }
    fixture.assert_received("refused messages reach nobody", &[], &[]);
    assert_eq!(fixture.hub.stats().messages_sent, 0);

    // Exclusions go with every target, and a message with no list at all goes to everyone.
    let report = fixture
        .hub
        .send(with(json!({"excludeUsers": [1, 3]})))
        .await
        .unwrap();
    let names: Vec<&str> = EVERYONE_ON_MAIN
        .iter()
        .copied()
        .filter(|n| !["user1", "user3"].contains(n))
        .collect();
    fixture.assert_delivered(
        "no list: everyone but the excluded",
        &names,
        &report,
        event_of(
            &report,
            &Channel::NOTIFICATIONS,
            "notification",
            json!({"n": 1}),
        ),
    );

    // The builder never mixes them up: the last target chosen wins, with its own list.
    let built = Message::new(Channel::NOTIFICATIONS, EventType::Notification, json!(2))
        .to_users([1u64])
        .to_roles([ADMIN]);
    assert_eq!(built.target_users(), &[] as &[UserId]);
    let report = fixture.hub.send(built).await.unwrap();
    fixture.assert_delivered(
        "the last target chosen",
        &["user2-a", "user2-b", "user5"],
        &report,
        event_of(&report, &Channel::NOTIFICATIONS, "notification", json!(2)),
    );
}

#[tokio::test]
async fn routing_lists_are_capped_and_count_toward_the_size_limit() {
    let message = || Message::new(Channel::ALERTS, EventType::Alert, json!("x"));
    let hub = Hub::builder().max_target_list(3).build();
    let cases = [
        (
            "targetUsers",
            hub.send(message().to_users([1u64, 2, 3, 4])).await,
        ),
        (
            "targetRoles",
            hub.send(message().to_roles(["a", "b", "c", "d"].map(Role::from_static)))
                .await,
        ),
        (
            "targetPermissions",
            hub.send(message().to_permissions(["a", "b", "c", "d"].map(Permission::from_static)))
                .await,
        ),
        (
            "excludeUsers",
            hub.send(message().exclude_users([1u64, 2, 3, 4])).await,
        ),
    ];
    for (field, result) in cases {
        match result {
            Err(SendError::Invalid(err @ MessageError::TooManyTargets { len: 4, max: 3, .. })) => {
                assert_eq!(err.field(), field);
                assert_eq!(
                    err.to_string(),
                    format!("{field} has 4 entries; the maximum is 3")
                );
            }
            other => panic!("{field}: expected too many targets, got {other:?}"),
        }
    }
    // Duplicates do not count twice, and exactly the maximum is fine.
    hub.send(message().to_users([1u64, 2, 3, 3, 1]))
        .await
        .unwrap();

    // The default cap is 10,000 entries.
    let hub = Hub::new();
    let result = hub.send(message().to_users(0..10_001_u64)).await;
    assert!(
        matches!(
            result,
            Err(SendError::Invalid(MessageError::TooManyTargets {
                len: 10_001,
                max: 10_000,
                ..
            }))
        ),
        "{result:?}"
    );
    hub.send(message().to_users(0..10_000_u64)).await.unwrap();

    // The lists count toward the size limit: 200 ids of 10 characters are over 1 KiB.
    let hub = Hub::builder().max_payload_bytes(1024).build();
    let users: Vec<UserId> = (0..200)
        .map(|n| UserId::new(format!("user-{n:05}")).unwrap())
        .collect();
    match hub.send(message().to_users(users)).await {
        Err(SendError::Invalid(err @ MessageError::TooLarge { .. })) => {
            assert_eq!(err.field(), "data");
            let MessageError::TooLarge { size, max } = err else {
                unreachable!()
            };
            assert_eq!(max, 1024);
            // The event's JSON plus each id and a separator.
            assert!(size > 200 * 11, "{size}");
        }
        other => panic!("expected too large, got {other:?}"),
    }
}

#[tokio::test]
async fn long_lists_reach_exactly_their_recipients() {
    // Lists of thousands of ids are over the default 64 KiB.
    let hub = Hub::builder().max_payload_bytes(1 << 20).build();
    let user = |id: u64, roles: &[&'static str], permissions: &[&'static str]| {
        ConnectOptions::new(
            Identity::user(id)
                .with_roles(roles.iter().copied().map(Role::from_static))
                .with_permissions(permissions.iter().copied().map(Permission::from_static)),
        )
        .channels([Channel::ALERTS])
    };
    let mut a = hub.connect(user(4_321, &["r-777"], &[])).await.unwrap();
    let mut b = hub
        .connect(user(9_999, &["other"], &["p-123"]))
        .await
        .unwrap();
    let mut c = hub.connect(user(5, &[], &[])).await.unwrap();
    let message = || Message::new(Channel::ALERTS, EventType::Alert, json!("x"));

    let report = hub
        .send(
            message()
                .to_users(1_000..10_000_u64)
                .exclude_users(5_000..10_000_u64),
        )
        .await
        .unwrap();
    assert_eq!(report.sent, 1);
    let roles = (0..9_000).map(|n| Role::new(format!("r-{n}")).unwrap());
    let report2 = hub.send(message().to_roles(roles)).await.unwrap();
    assert_eq!(report2.sent, 1);
    let permissions = (0..9_000).map(|n| Permission::new(format!("p-{n}")).unwrap());
    let report3 = hub
        .send(message().to_permissions(permissions))
        .await
        .unwrap();
    assert_eq!(report3.sent, 1);

    let ids = |events: Vec<sse_hub::testing::Event>| -> Vec<String> {
        events.into_iter().map(|e| e.id).collect()
    };
    assert_eq!(
        ids(drain(&mut a)),
        [report.cursor.to_string(), report2.cursor.to_string()]
    );
    assert_eq!(ids(drain(&mut b)), [report3.cursor.to_string()]);
    assert!(drain(&mut c).is_empty());
}
