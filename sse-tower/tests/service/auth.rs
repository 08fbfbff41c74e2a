//! Who may read: authentication, endpoint roles and permissions, channel rules, and the
//! application's own authenticator (401, 403).

use http::{Request, StatusCode, header, request::Parts};
use serde_json::Value;
use sse_hub::{
    Channel, Hub, Identity, Permission, Role, RolePermissions, UserId, error::AuthError,
};
use sse_tower::{ChannelRule, SseService, StreamConfig};
use tower::ServiceBuilder;

use crate::assert_refused;
use crate::support::{assert_opened, call, connected, get, hub, preamble, user};

#[tokio::test]
async fn anonymous_clients_get_401_where_authentication_is_required() {
    let service = SseService::new(hub(), StreamConfig::new([Channel::CHAT]).require_auth(true));
    for request in [get("/"), get("/").extension(Identity::anonymous())] {
        assert_refused(
            call(&service, request).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "authentication required",
            &[],
        )
        .await;
    }
    assert_opened(call(&service, get("/").extension(user(1))).await);

    // A channel rule requiring authentication applies to that channel only.
    let service = SseService::new(
        hub(),
        StreamConfig::new([Channel::CHAT])
            .channel_rule(Channel::ADMIN_ACTIONS, ChannelRule::new().require_auth()),
    );
    assert_refused(
        call(&service, get("/?channels=chat,admin-actions")).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "authentication required",
        &[],
    )
    .await;
    assert_opened(call(&service, get("/?channels=chat")).await);
    assert_opened(call(&service, get("/?channels=admin-actions").extension(user(1))).await);
}

#[tokio::test]
async fn endpoint_roles_are_checked_on_the_identity_from_host_middleware() {
    let hub = hub();
    // The host application's middleware puts the identity into the extensions; here every
    // request belongs to user 5, an editor.
    let app = ServiceBuilder::new()
        .map_request(|mut request: Request<()>| {
            request
                .extensions_mut()
                .insert(user(5).with_role(Role::from_static("editor")));
            request
        })
        .service(SseService::new(
            hub.clone(),
            StreamConfig::new([Channel::CHAT])
                .allowed_roles([Role::from_static("admin"), Role::from_static("owner")]),
        ));
    assert_refused(
        call(&app, get("/")).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        "one of the roles \"admin\", \"owner\" is required",
        &[],
    )
    .await;

    let service = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT]).allowed_roles([Role::from_static("admin")]),
    );
    // Roles imply authentication.
    assert_refused(
        call(&service, get("/")).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "authentication required",
        &[],
    )
    .await;
    assert_eq!(hub.connection_count(), 0);
    let admin = user(1).with_role(Role::from_static("admin"));
    let _open = assert_opened(call(&service, get("/").extension(admin)).await);
    assert_eq!(hub.connection_count(), 1);
}

#[tokio::test]
async fn endpoint_permissions_count_those_granted_by_resolvers() {
    let view = Permission::from_static("analytics.view");
    let analyst = || user(3).with_role(Role::from_static("analyst"));
    let grants = || RolePermissions::new().grant(Role::from_static("analyst"), [view.clone()]);

    // Without a resolver, the role grants nothing.
    let hub = hub();
    let plain = SseService::new(hub.clone(), StreamConfig::analytics());
    for identity in [analyst(), user(4)] {
        assert_refused(
            call(&plain, get("/").extension(identity)).await,
            StatusCode::FORBIDDEN,
            "forbidden",
            "one of the permissions \"analytics.view\" is required",
            &[],
        )
        .await;
    }
    assert_opened(
        call(
            &plain,
            get("/").extension(user(4).with_permission(view.clone())),
        )
        .await,
    );

    // The endpoint's resolver grants it, and the connection holds it for targeting.
    let resolved = SseService::new(
        hub.clone(),
        StreamConfig::analytics().permission_resolver(grants()),
    );
    let _stream = assert_opened(call(&resolved, get("/").extension(analyst())).await);
    let info = hub.connections_of(UserId::from(3));
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].permissions, std::slice::from_ref(&view));

    // So does the hub's resolver, when the endpoint has none.
    let hub = Hub::builder().permission_resolver(grants()).build();
    let by_hub = SseService::new(hub.clone(), StreamConfig::analytics());
    let _open = assert_opened(call(&by_hub, get("/").extension(analyst())).await);
    assert_eq!(hub.connections()[0].permissions, [view]);
}

#[tokio::test]
async fn channel_rules_get_403() {
    let reviews = Channel::new("reviews").unwrap();
    let service = SseService::new(
        hub(),
        StreamConfig::new([Channel::CHAT])
            .channel_rule(
                Channel::ADMIN_ACTIONS,
                ChannelRule::new().roles([Role::from_static("admin")]),
            )
            .channel_rule(
                reviews.clone(),
                ChannelRule::new().permissions([Permission::from_static("content.review")]),
            ),
    );
    assert_refused(
        call(
            &service,
            get("/?channels=chat,admin-actions").extension(user(1)),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
        "channel \"admin-actions\" requires one of the roles \"admin\"",
        &[],
    )
    .await;
    let admin = user(1).with_role(Role::from_static("admin"));
    assert_refused(
        call(
            &service,
            get("/?channels=admin-actions,reviews").extension(admin.clone()),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
        "channel \"reviews\" requires one of the permissions \"content.review\"",
        &[],
    )
    .await;
    assert_opened(call(&service, get("/?channels=admin-actions").extension(admin)).await);
    let reviewer = user(2).with_permission(Permission::from_static("content.review"));
    assert_opened(call(&service, get("/?channels=reviews").extension(reviewer)).await);
}

#[tokio::test]
async fn default_channels_leave_out_unreadable_ones_and_refuse_when_none_is_left() {
    // A client naming no channel is not refused for a gated one it did not ask for.
    let service = SseService::new(
        hub(),
        StreamConfig::new([Channel::CHAT])
            .channel_rule(Channel::ADMIN_ACTIONS, ChannelRule::new().require_auth()),
    );
    let mut body = assert_opened(call(&service, get("/")).await);
    assert_eq!(
        preamble(&mut body).await,
        (3000, connected(1, &["chat"], None, 15_000))
    );
    let mut body = assert_opened(call(&service, get("/").extension(user(1))).await);
    assert_eq!(
        preamble(&mut body).await,
        (
            3000,
            connected(2, &["chat", "admin-actions"], Some("1"), 15_000)
        )
    );

    // With every served channel gated, nothing is left to read.
    let service = SseService::new(
        hub(),
        StreamConfig::new(Vec::new()).channel_rule(
            Channel::ADMIN_ACTIONS,
            ChannelRule::new().roles([Role::from_static("admin")]),
        ),
    );
    assert_refused(
        call(&service, get("/").extension(user(2))).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        "none of this endpoint's channels may be read with these credentials",
        &[],
    )
    .await;
}

#[tokio::test]
async fn an_anonymous_client_left_with_no_readable_channel_gets_401() {
    // 403 means "authenticated, but not allowed"; an anonymous client must be told that
    // credentials are missing, as it is when it names the channel.
    let service = SseService::new(
        hub(),
        StreamConfig::new(Vec::new()).channel_rule(
            Channel::ADMIN_ACTIONS,
            ChannelRule::new().roles([Role::from_static("admin")]),
        ),
    );
    for uri in ["/?channels=admin-actions", "/"] {
        assert_refused(
            call(&service, get(uri)).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "authentication required",
            &[],
        )
        .await;
    }
}

#[tokio::test]
async fn authenticator_errors_keep_their_status_code_and_message() {
    let hub = hub();
    let service = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT]).authenticator(
            |parts: &Parts| -> Result<Option<Identity>, AuthError> {
                match parts.headers.get(header::AUTHORIZATION) {
                    Some(value) if value == "Bearer good" => Ok(Some(user(9))),
                    Some(_) => Err(AuthError::new(
                        StatusCode::UNAUTHORIZED,
                        "invalid_token",
                        "token expired",
                    )),
                    None => Ok(None),
                }
            },
        ),
    );
    assert_refused(
        call(
            &service,
            get("/").header(header::AUTHORIZATION, "Bearer stale"),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "token expired",
        &[],
    )
    .await;
    // The configured authenticator replaces the extensions: this identity is not read.
    let mut anonymous = assert_opened(call(&service, get("/").extension(user(1))).await);
    assert_eq!(
        preamble(&mut anonymous).await.1["data"]["userId"],
        Value::Null
    );
    let mut known = assert_opened(
        call(
            &service,
            get("/").header(header::AUTHORIZATION, "Bearer good"),
        )
        .await,
    );
    assert_eq!(preamble(&mut known).await.1["data"]["userId"], "9");
}
