//! Every answer the service gives before a stream starts: the exact status, JSON body and headers
//! of each refusal, and the exact headers and preamble of a stream that opens.

use std::{
    convert::Infallible,
    fmt,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use http::{
    HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, header,
    request::Parts,
};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use sse_core::{
    Channel, Clock, Hub, Identity, ManualClock, Permission, Role, RolePermissions, UserId,
    error::AuthError,
};
use sse_tower::{ChannelRule, ClientAddr, RateLimit, SseBody, SseLayer, SseService, StreamConfig};
use tower::{Service, ServiceBuilder, ServiceExt, service_fn};

/// The hub clock of every test: timestamps in bodies are exact.
const NOW_MS: u64 = 1_764_350_000_000;

fn hub() -> Hub {
    Hub::builder()
        .clock(Clock::from(ManualClock::new(NOW_MS)))
        .build()
}

fn get(uri: &str) -> http::request::Builder {
    Request::get(uri)
}

fn user(id: u64) -> Identity {
    Identity::user(UserId::from(id))
}

fn from_ip(ip: &str) -> ClientAddr {
    ClientAddr(SocketAddr::new(ip.parse().unwrap(), 50_000))
}

async fn call<S, B>(service: &S, request: http::request::Builder) -> Response<B>
where
    S: Service<Request<()>, Response = Response<B>, Error = Infallible> + Clone,
{
    service
        .clone()
        .oneshot(request.body(()).unwrap())
        .await
        .unwrap_or_else(|never| match never {})
}

/// Asserts a refusal: status, exactly these headers besides `content-type: application/json`
/// and `cache-control: no-store`, and exactly this JSON body.
async fn assert_refused<B>(
    response: Response<B>,
    status: StatusCode,
    error: &str,
    message: &str,
    extra_headers: &[(HeaderName, &str)],
) where
    B: Body<Data = Bytes, Error = Infallible>,
{
    assert_eq!(response.status(), status, "{message}");
    let mut expected = HeaderMap::new();
    expected.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    expected.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for (name, value) in extra_headers {
        expected.insert(name.clone(), HeaderValue::from_str(value).unwrap());
    }
    assert_eq!(response.headers(), &expected, "{message}");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body, json!({ "error": error, "message": message }));
}

/// Asserts a stream opened, and returns its body.
#[track_caller]
fn assert_opened<B>(response: Response<B>) -> B {
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    response.into_body()
}

/// The first chunk of a stream: the `retry:` value and the `connected` event's JSON.
async fn preamble<B>(body: &mut B) -> (u64, Value)
where
    B: Body<Data = Bytes, Error = Infallible> + Unpin,
{
    let chunk = body.frame().await.unwrap().unwrap().into_data().unwrap();
    let text = std::str::from_utf8(&chunk).unwrap();
    let (retry, event) = text.split_once("\n\n").unwrap();
    let retry = retry.strip_prefix("retry: ").unwrap().parse().unwrap();
    let json = event
        .strip_prefix("event: connected\ndata: ")
        .and_then(|rest| rest.strip_suffix("\n\n"))
        .unwrap_or_else(|| panic!("not a lone connected event: {event:?}"));
    assert!(!json.contains('\n'), "one data line: {json:?}");
    (retry, serde_json::from_str(json).unwrap())
}

fn connected(id: u64, channels: &[&str], user: Option<&str>, heartbeat_ms: u64) -> Value {
    json!({
        "id": format!("conn-{id}"),
        "channel": "system",
        "event": "connected",
        "data": {
            "connectionId": format!("conn-{id}"),
            "channels": channels,
            "userId": user,
            "resumed": false,
            "replayed": 0,
            "historyGap": false,
            "heartbeatInterval": heartbeat_ms,
        },
        "timestamp": NOW_MS,
    })
}

#[tokio::test]
async fn an_opened_stream_has_exact_headers_and_preamble() {
    let hub = hub();
    let service = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT, Channel::SYSTEM]),
    );

    let response = call(&service, get("/?channels=chat")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut expected = HeaderMap::new();
    expected.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    expected.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-transform"),
    );
    expected.insert("x-accel-buffering", HeaderValue::from_static("no"));
    assert_eq!(response.headers(), &expected);
    let mut anonymous = response.into_body();
    let chunk = anonymous
        .frame()
        .await
        .unwrap()
        .unwrap()
        .into_data()
        .unwrap();
    let text = std::str::from_utf8(&chunk).unwrap();
    let json = text
        .strip_prefix("retry: 3000\n\nevent: connected\ndata: ")
        .and_then(|rest| rest.strip_suffix("\n\n"))
        .unwrap_or_else(|| panic!("unexpected first chunk: {text:?}"));
    let data: Value = serde_json::from_str(json).unwrap();
    assert_eq!(data, connected(1, &["chat"], None, 15_000));

    // An authenticated client naming no channel gets every served one, in configured order.
    let mut known = assert_opened(call(&service, get("/").extension(user(7))).await);
    assert_eq!(
        preamble(&mut known).await,
        (3000, connected(2, &["chat", "system"], Some("7"), 15_000))
    );
    assert_eq!(hub.connection_count(), 2);

    // The configured hint and interval are what the client is told.
    let tuned = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT])
            .retry(Duration::from_millis(1500))
            .heartbeat_interval(Duration::from_secs(10)),
    );
    let mut body = assert_opened(call(&tuned, get("/?channel=chat&channel=chat")).await);
    assert_eq!(
        preamble(&mut body).await,
        (1500, connected(3, &["chat"], None, 10_000))
    );
}

#[tokio::test]
async fn accept_must_allow_event_streams() {
    let service = SseService::new(hub(), StreamConfig::new([Channel::CHAT]));
    assert_refused(
        call(
            &service,
            get("/").header(header::ACCEPT, "application/json"),
        )
        .await,
        StatusCode::NOT_ACCEPTABLE,
        "not_acceptable",
        "the Accept header excludes text/event-stream",
        &[],
    )
    .await;
    for accept in ["text/event-stream", "*/*"] {
        let response = call(&service, get("/").header(header::ACCEPT, accept)).await;
        assert_opened(response);
    }
    assert_opened(call(&service, get("/")).await);
}

#[tokio::test]
async fn other_methods_get_405_with_allow_get() {
    let service = SseService::new(hub(), StreamConfig::new([Channel::CHAT]));
    for method in [Method::POST, Method::DELETE] {
        assert_refused(
            call(&service, get("/").method(method.clone())).await,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            &format!("{method} is not allowed; use GET"),
            &[(header::ALLOW, "GET")],
        )
        .await;
    }
}

#[tokio::test]
async fn malformed_channels_and_cursors_get_400() {
    let hub = hub();
    let service = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT]).max_query_len(16),
    );
    assert_refused(
        call(&service, get("/?channels=Bad")).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
        "channel contains 'B' at character 0; allowed: a-z 0-9 - _ . :",
        &[],
    )
    .await;
    assert_refused(
        call(&service, get("/").header("last-event-id", "nope")).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
        "invalid cursor \"nope\": expected <epoch>-<major>-<minor> in decimal",
        &[],
    )
    .await;
    assert_refused(
        call(&service, get("/?lastEventId=1-2")).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
        "invalid cursor \"1-2\": expected <epoch>-<major>-<minor> in decimal",
        &[],
    )
    .await;
    let opaque = HeaderValue::from_bytes(b"1-2-\xff").unwrap();
    assert_refused(
        call(&service, get("/").header("last-event-id", opaque)).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
        "Last-Event-ID is not visible ASCII",
        &[],
    )
    .await;
    // The query is measured in bytes: 17 is refused, 16 accepted.
    assert_refused(
        call(&service, get("/?channels=chat&ab1")).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
        "the query string is 17 bytes; the maximum is 16",
        &[],
    )
    .await;
    assert_eq!(hub.connection_count(), 0);
    let _open = assert_opened(call(&service, get("/?channels=chat&ab")).await);
    assert_eq!(hub.connection_count(), 1);
}

#[tokio::test]
async fn unknown_channels_get_404() {
    let service = SseService::new(hub(), StreamConfig::new([Channel::CHAT]));
    assert_refused(
        call(&service, get("/?channels=chat,billing")).await,
        StatusCode::NOT_FOUND,
        "not_found",
        "unknown channel \"billing\"",
        &[],
    )
    .await;
}

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
    let info = hub.connections_of(&UserId::from(3));
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

#[tokio::test]
async fn the_rate_limit_refuses_the_fourth_connection_from_one_ip() {
    let service = SseService::new(
        hub(),
        StreamConfig::new([Channel::CHAT]).rate_limit(RateLimit::new(3, Duration::from_secs(60))),
    );
    // Closed streams still count: the limit is on new connections.
    for _ in 0..3 {
        drop(assert_opened(
            call(&service, get("/").extension(from_ip("10.0.0.1"))).await,
        ));
    }
    // 3 per 60 s refills one every 20 s.
    for _ in 0..2 {
        assert_refused(
            call(&service, get("/").extension(from_ip("10.0.0.1"))).await,
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "too many new connections from 10.0.0.1; retry later",
            &[(header::RETRY_AFTER, "20")],
        )
        .await;
    }
    assert_opened(call(&service, get("/").extension(from_ip("10.0.0.2"))).await);
    // Without a client address the limit cannot apply.
    assert_opened(call(&service, get("/")).await);
}

#[tokio::test]
async fn the_per_ip_cap_is_429_until_a_stream_is_dropped() {
    let hub = hub();
    let service = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT]).max_streams_per_ip(2),
    );
    let first = assert_opened(call(&service, get("/").extension(from_ip("10.0.0.1"))).await);
    let _second = assert_opened(call(&service, get("/").extension(from_ip("10.0.0.1"))).await);
    assert_refused(
        call(&service, get("/").extension(from_ip("10.0.0.1"))).await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        "too many open streams from 10.0.0.1",
        &[(header::RETRY_AFTER, "3")],
    )
    .await;
    let _other = assert_opened(call(&service, get("/").extension(from_ip("10.0.0.2"))).await);
    assert_eq!(hub.connection_count(), 3);
    drop(first);
    assert_eq!(hub.connection_count(), 2);
    assert_opened(call(&service, get("/").extension(from_ip("10.0.0.1"))).await);
}

#[tokio::test]
async fn the_per_user_cap_is_429_until_a_stream_is_dropped() {
    let hub = hub();
    let service = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT])
            .max_streams_per_user(1)
            .max_streams(2),
    );
    let first = assert_opened(call(&service, get("/").extension(user(7))).await);
    for _ in 0..3 {
        assert_refused(
            call(&service, get("/").extension(user(7))).await,
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "too many open streams for this user",
            &[(header::RETRY_AFTER, "3")],
        )
        .await;
    }
    // The refusals gave back the endpoint-wide places they took: one is still free.
    let _other = assert_opened(call(&service, get("/").extension(user(8))).await);
    drop(first);
    assert_opened(call(&service, get("/").extension(user(7))).await);
}

#[tokio::test]
async fn the_endpoint_cap_is_429_until_a_stream_is_dropped() {
    let hub = hub();
    let service = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT])
            .allowed_roles([Role::from_static("member")])
            .retry(Duration::from_millis(2500))
            .max_streams(2),
    );
    let member = || user(1).with_role(Role::from_static("member"));
    let first = assert_opened(call(&service, get("/").extension(member())).await);
    // A refused request holds no place.
    for _ in 0..3 {
        let response = call(&service, get("/").extension(user(2))).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    let mut second = assert_opened(call(&service, get("/").extension(member())).await);
    assert_refused(
        call(&service, get("/").extension(member())).await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        "this endpoint has too many open streams",
        // 2.5 s, rounded up to whole seconds.
        &[(header::RETRY_AFTER, "3")],
    )
    .await;
    // Dropping the body is the client going away: the place is free at once, even for a body
    // that was never read.
    drop(first);
    assert_eq!(hub.connection_count(), 1);
    let _third = assert_opened(call(&service, get("/").extension(member())).await);
    assert_eq!(preamble(&mut second).await.0, 2500);
    drop(second);
    assert_eq!(hub.connection_count(), 1);
    assert_opened(call(&service, get("/").extension(member())).await);
}

#[tokio::test]
async fn after_shutdown_open_streams_end_and_new_ones_get_503() {
    let hub = Hub::builder()
        .reconnect_retry(Duration::from_secs(5))
        .shutdown_jitter(Duration::ZERO)
        .build();
    let service = SseService::new(hub.clone(), StreamConfig::new([Channel::CHAT]));
    let mut open = assert_opened(call(&service, get("/")).await);
    preamble(&mut open).await;

    assert_eq!(hub.shutdown(), 1);
    assert_refused(
        call(&service, get("/")).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
        "the server is shutting down",
        &[(header::RETRY_AFTER, "3")],
    )
    .await;
    let last = open.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(last, "retry: 5000\n\n");
    assert!(open.frame().await.is_none());
    assert!(open.is_end_stream());
}

/// The inner service's own error type.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AppError(&'static str);

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for AppError {}

#[tokio::test]
async fn the_layer_serves_its_path_and_passes_everything_else_through() {
    let inner_calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&inner_calls);
    let app = ServiceBuilder::new()
        .layer(SseLayer::new(
            "/api/sse/stream",
            hub(),
            StreamConfig::new([Channel::CHAT]),
        ))
        .service(service_fn(move |request: Request<String>| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if request.uri().path() == "/fail" {
                    return Err(AppError("database is down"));
                }
                let echo = format!(
                    "{} {} {:?} {}",
                    request.method(),
                    request.uri(),
                    request.headers().get("x-app"),
                    request.body()
                );
                let mut response = Response::new(Full::new(Bytes::from(echo)));
                *response.status_mut() = StatusCode::IM_A_TEAPOT;
                response
                    .headers_mut()
                    .insert("x-inner", HeaderValue::from_static("yes"));
                Ok(response)
            }
        }));
    let send = |request: Request<String>| app.clone().oneshot(request);

    let response = send(
        Request::get("/api/sse/stream?channels=chat")
            .body(String::new())
            .unwrap(),
    )
    .await
    .unwrap();
    let mut body = assert_opened(response);
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert!(first.starts_with(b"retry: 3000\n\nevent: connected\n"));
    // Refusals at the path are the endpoint's, not the inner service's.
    let response = send(
        Request::post("/api/sse/stream")
            .body("x".to_owned())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_refused(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "POST is not allowed; use GET",
        &[(header::ALLOW, "GET")],
    )
    .await;
    assert_eq!(inner_calls.load(Ordering::SeqCst), 0);

    // Other paths (an exact match: not even a trailing slash) reach the inner service with
    // their method, query, headers and body, and its response comes back unchanged.
    for (method, uri) in [
        (Method::PUT, "/other?channels=Bad"),
        (Method::GET, "/api/sse/stream/"),
    ] {
        let response = send(
            Request::builder()
                .method(method.clone())
                .uri(uri)
                .header("x-app", "1")
                .body("payload".to_owned())
                .unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
        assert_eq!(response.headers().len(), 1);
        assert_eq!(response.headers()["x-inner"], "yes");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, format!("{method} {uri} Some(\"1\") payload"));
    }
    assert_eq!(inner_calls.load(Ordering::SeqCst), 2);

    let err = send(Request::get("/fail").body(String::new()).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err, AppError("database is down"));
    assert_eq!(inner_calls.load(Ordering::SeqCst), 3);
}

#[test]
fn bodies_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<SseBody>();
    assert_send_sync::<sse_tower::RouteBody<Full<Bytes>>>();
}
