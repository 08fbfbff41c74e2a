//! The demo's HTTP API: publish, statistics, connections, chat, login.

use std::net::SocketAddr;

use axum::{
    Json,
    body::Bytes,
    extract::{ConnectInfo, Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};
use sse_core::{Channel, CoalesceKey, ConnectionId, EventName, Message, UserId};
use sse_tower::error::Rejection;

use super::{
    AppState,
    auth::{Admin, ApiError, Caller},
};

/// `POST /api/sse/publish` (admin): one message in the wire-format JSON.
pub async fn publish(_admin: Admin, state: State<AppState>, body: Bytes) -> Response {
    crate::publish::publish(State(state.hub.clone()), body).await
}

/// `GET /api/sse/stats` (admin).
pub async fn stats(_admin: Admin, State(state): State<AppState>) -> Json<Value> {
    Json(json!(state.hub.stats()))
}

/// `GET /api/sse/connections` (admin).
pub async fn connections(_admin: Admin, State(state): State<AppState>) -> Json<Value> {
    Json(json!(state.hub.connections()))
}

/// The open connection `id` names; any other id, malformed ones included, is not open (404).
fn open_connection(hub: &sse_core::Hub, id: &str) -> Result<ConnectionId, ApiError> {
    id.parse::<ConnectionId>()
        .ok()
        .filter(|id| hub.connection_info(*id).is_some())
        .ok_or_else(|| ApiError(Rejection::not_found(format!("connection {id} is not open"))))
}

/// `GET /api/sse/connections/{id}` (admin); 404 if it is not open.
pub async fn connection(
    _admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = open_connection(&state.hub, &id)?;
    state
        .hub
        .connection_info(id)
        .map(|info| Json(json!(info)))
        .ok_or_else(|| ApiError(Rejection::not_found(format!("connection {id} is not open"))))
}

/// `DELETE /api/sse/connections/{id}` (admin); 404 if it is not open.
pub async fn disconnect(
    _admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = open_connection(&state.hub, &id)?;
    if state.hub.disconnect(id) {
        Ok(Json(json!({ "disconnected": 1 })))
    } else {
        Err(ApiError(Rejection::not_found(format!(
            "connection {id} is not open"
        ))))
    }
}

/// `DELETE /api/sse/users/{userId}/connections` (admin).
pub async fn disconnect_user(
    _admin: Admin,
    State(state): State<AppState>,
    Path(user): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = UserId::new(&user).map_err(|e| ApiError(Rejection::bad_request(e.to_string())))?;
    Ok(Json(
        json!({ "disconnected": state.hub.disconnect_user(&user) }),
    ))
}

/// `GET /metrics`: the Prometheus text exposition.
pub async fn metrics(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(handle) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
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

fn send_error(err: sse_core::error::SendError) -> ApiError {
    ApiError(Rejection::service_unavailable(
        err.to_string(),
        std::time::Duration::from_secs(3),
    ))
}
