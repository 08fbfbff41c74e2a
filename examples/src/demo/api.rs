//! The demo's HTTP API: publish, statistics, connections, chat, login.

use std::{net::SocketAddr, time::Duration};

use axum::{
    Json,
    body::Bytes,
    extract::{ConnectInfo, Path, Query, State, rejection::QueryRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};
use sse_hub::{Channel, CoalesceKey, ConnectionId, EventName, Message, UserId};
use sse_tower::error::Rejection;

use super::{
    AppState,
    auth::{Admin, ApiError, Caller},
};

/// `POST /api/sse/publish` (admin): one message in the wire-format JSON.
pub async fn publish(
    _admin: Admin,
    state: State<AppState>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    crate::publish::publish(State(state.hub.clone()), headers, body).await
}

/// `GET /api/sse/stats` (admin): this instance's statistics, and with a shared backplane
/// `"cluster"`: every live instance's and their totals.
pub async fn stats(_admin: Admin, State(state): State<AppState>) -> Json<Value> {
    let mut stats = json!(state.hub.stats());
    if state.hub.is_shared() {
        stats["cluster"] = json!(state.hub.cluster_stats().await);
    }
    Json(stats)
}

/// `GET /api/sse/connections` (admin): the open connections of every instance.
pub async fn connections(_admin: Admin, State(state): State<AppState>) -> Json<Value> {
    Json(json!(state.hub.cluster_connections(None).await.connections))
}

/// 404 for a connection that is not open.
fn not_open(id: &str) -> ApiError {
    ApiError(Rejection::not_found(format!("connection {id} is not open")))
}

/// `GET /api/sse/connections/{id}` (admin), on any instance; 404 if it is not open (any id
/// that is not an open connection's, malformed ones included).
pub async fn connection(
    _admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let Ok(connection) = id.parse::<ConnectionId>() else {
        return Err(not_open(&id));
    };
    state
        .hub
        .cluster_connection_info(connection)
        .await
        .map(|info| Json(json!(info)))
        .ok_or_else(|| not_open(&id))
}

/// `DELETE /api/sse/connections/{id}` (admin), on any instance; 404 if it is not open.
pub async fn disconnect(
    _admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let Ok(connection) = id.parse::<ConnectionId>() else {
        return Err(not_open(&id));
    };
    match state.hub.kick(connection).await.affected {
        0 => Err(not_open(&id)),
        n => Ok(Json(json!({ "disconnected": n }))),
    }
}

/// The user of a path, or 400.
fn user_id(user: &str) -> Result<UserId, ApiError> {
    UserId::new(user).map_err(|e| ApiError(Rejection::bad_request(e.to_string())))
}

/// The query of `DELETE /api/sse/users/{userId}/connections`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KickQuery {
    /// Also ban the user for this many seconds.
    ban: Option<String>,
}

/// The longest ban the demo accepts: a year.
const MAX_BAN_SECS: u64 = 365 * 24 * 3600;

/// `DELETE /api/sse/users/{userId}/connections[?ban=SECONDS]` (admin): ends the user's streams
/// on every instance, and with `ban` refuses their connections (403) for that long.
pub async fn disconnect_user(
    _admin: Admin,
    State(state): State<AppState>,
    Path(user): Path<String>,
    query: Result<Query<KickQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let user = user_id(&user)?;
    let Query(query) = query.map_err(|e| ApiError(Rejection::bad_request(e.body_text())))?;
    let report = match query.ban {
        None => state.hub.kick_user(&user).await,
        Some(secs) => {
            let secs = secs
                .parse::<u64>()
                .ok()
                .filter(|secs| (1..=MAX_BAN_SECS).contains(secs))
                .ok_or_else(|| {
                    ApiError(Rejection::bad_request(format!(
                        "ban must be a number of seconds from 1 to {MAX_BAN_SECS}, not {secs:?}"
                    )))
                })?;
            state.hub.ban_user(&user, Duration::from_secs(secs)).await
        }
    };
    Ok(Json(json!({
        "disconnected": report.affected,
        "instances": report.instances.len(),
    })))
}

/// `DELETE /api/sse/users/{userId}/ban` (admin): lifts the user's ban on every instance; 204.
pub async fn unban_user(
    _admin: Admin,
    State(state): State<AppState>,
    Path(user): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = user_id(&user)?;
    state.hub.unban_user(&user).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/sse/users/{userId}/revoke` (admin): ends the user's streams on every instance
/// with the `auth-expired` refresh.
pub async fn revoke_user(
    _admin: Admin,
    State(state): State<AppState>,
    Path(user): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = user_id(&user)?;
    let report = state.hub.revoke_user(&user).await;
    Ok(Json(json!({
        "revoked": report.affected,
        "instances": report.instances.len(),
    })))
}

/// `GET /api/sse/presence/{channel}`: who is connected to the channel, on every instance, for
/// callers who may read it (as its stream would be judged: 401, 403 or 404 otherwise).
pub async fn presence(
    State(state): State<AppState>,
    Path(channel): Path<String>,
    parts: axum::http::request::Parts,
) -> Result<Json<Value>, ApiError> {
    let channel =
        Channel::new(&channel).map_err(|e| ApiError(Rejection::bad_request(e.to_string())))?;
    let caller = state
        .auth
        .user(&parts)
        .map_err(|err| ApiError(err.into()))?;
    super::stream_config(&state.auth)
        .check_read(&state.hub, caller.map(|user| user.identity()), &channel)
        .await
        .map_err(ApiError)?;
    let here = state.hub.presence(&channel).await;
    Ok(Json(json!({
        "channel": here.channel,
        "users": here.users,
        "anonymous": here.anonymous,
        "total": here.total,
    })))
}

/// The query of `GET /api/sse/explain`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExplainQuery {
    /// The message's id or cursor.
    message: String,
    /// The user.
    user_id: String,
}

/// `GET /api/sse/explain?message=<id or cursor>&userId=<id>` (admin): what happened to the
/// message at each of the user's connections, on every instance.
pub async fn explain(
    _admin: Admin,
    State(state): State<AppState>,
    query: Result<Query<ExplainQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError(Rejection::bad_request(e.body_text())))?;
    let user = user_id(&query.user_id)?;
    if query.message.is_empty() {
        return Err(ApiError(Rejection::bad_request(
            "message must be a message id or cursor",
        )));
    }
    let why = state.hub.explain(&query.message, &user).await;
    Ok(Json(json!({
        "message": why.message,
        "userId": why.user_id,
        "connections": why.connections,
    })))
}

/// `GET /metrics`: the Prometheus text exposition.
pub async fn metrics(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(handle) => {
            // The hub's counts are copied into the metrics when they are read.
            sse_tower::metrics::record(&state.hub);
            (
                [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                handle.render(),
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "metrics are not enabled").into_response(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
/// The body of `POST /api/login`.
pub struct Login {
    token: String,
}

/// `POST /api/login` `{ "token" }`: sets the `sse_token` cookie the stream and API read.
/// Ten failed attempts a minute from one address; then 429 until the minute is over.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(login): Json<Login>,
) -> Response {
    if let Err(retry_after) = state.login_limit.check(peer.ip()) {
        return ApiError(Rejection::too_many_requests(
            "too many failed sign-ins; try again later",
            retry_after,
        ))
        .into_response();
    }
    let Some(user) = state.users.by_token(&login.token) else {
        state.login_limit.failed(peer.ip());
        return ApiError(Rejection::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "unknown token",
        ))
        .into_response();
    };
    let cookie = format!(
        "sse_token={}; Path=/; HttpOnly; SameSite=Strict",
        login.token
    );
    let mut response = Json(me_json(user)).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `POST /api/logout`: clears the cookie.
pub async fn logout() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("sse_token=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"),
    );
    response
}

/// `GET /api/me`: the caller.
pub async fn me(Caller(user): Caller) -> Json<Value> {
    Json(me_json(&user))
}

fn me_json(user: &super::users::DemoUser) -> Value {
    json!({
        "userId": user.user_id,
        "name": user.display_name(),
        "roles": user.roles,
        "permissions": user.permissions,
    })
}

/// `GET /api/demo-users`: the built-in users the sign-in menu offers, tokens included (they
/// are public); none when the users come from a file, whose tokens are secrets.
pub async fn demo_users(State(state): State<AppState>) -> Json<Value> {
    if !state.users.is_builtin() {
        return Json(json!([]));
    }
    Json(json!(
        state
            .users
            .all()
            .iter()
            .map(|u| json!({
                "token": u.token,
                "userId": u.user_id,
                "name": u.display_name(),
                "roles": u.roles,
            }))
            .collect::<Vec<_>>()
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
/// The body of `POST /api/chat/messages`.
pub struct ChatMessage {
    text: String,
}

const CHAT_MESSAGE: EventName = EventName::from_static("chat-message");
const TYPING: EventName = EventName::from_static("typing");

/// `POST /api/chat/messages` `{ "text" }`: a chat message from the caller to everyone in
/// `chat`.
pub async fn chat_message(
    Caller(user): Caller,
    State(state): State<AppState>,
    Json(message): Json<ChatMessage>,
) -> Result<Json<Value>, ApiError> {
    let text = message.text.trim();
    if text.is_empty() || text.chars().count() > 500 {
        return Err(ApiError(Rejection::bad_request(
            "text must be 1 to 500 characters",
        )));
    }
    let data = json!({ "userId": user.user_id, "name": user.display_name(), "text": text });
    let report = state
        .hub
        .send(Message::new(Channel::CHAT, CHAT_MESSAGE.into(), data).to_authenticated())
        .await
        .map_err(send_error)?;
    Ok(Json(json!(report)))
}

/// `POST /api/chat/typing`: tells the others in `chat` that the caller is typing.
pub async fn chat_typing(
    Caller(user): Caller,
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    let data = json!({ "userId": user.user_id, "name": user.display_name() });
    let key = CoalesceKey::new(format!("typing:{}", user.user_id))
        .map_err(|e| ApiError(Rejection::bad_request(e.to_string())))?;
    let report = state
        .hub
        .send(
            Message::new(Channel::CHAT, TYPING.into(), data)
                .to_authenticated()
                .exclude_users([user.user_id.clone()])
                .retryable(false)
                .ttl(std::time::Duration::from_secs(5))
                .priority(2)
                .coalesce_key(key),
        )
        .await
        .map_err(send_error)?;
    Ok(Json(json!(report)))
}

fn send_error(err: sse_hub::error::SendError) -> ApiError {
    ApiError(Rejection::service_unavailable(
        err.to_string(),
        std::time::Duration::from_secs(3),
    ))
}
