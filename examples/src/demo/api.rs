//! The demo's own HTTP API: chat, sign-in, metrics. Publishing and administration are
//! `sse_axum::api`, mounted by [`app`](super::app).

use std::net::SocketAddr;

use axum::{
    Json,
    extract::{ConnectInfo, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};
use sse_hub::{Channel, CoalesceKey, EventName, Message};
use sse_tower::error::Rejection;

use super::{
    AppState,
    auth::{ApiError, Caller},
};

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
    ApiError(err.into())
}
