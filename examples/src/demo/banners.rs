//! The demo's banner board: the source of truth behind the banners that `useSSEAlerts` shows.
//! Setting or removing a banner stores it and publishes it on `alerts` (the brief's `update`
//! event, and `alert` with `dismissed: true`); clients that missed events refetch the board
//! after a cache invalidation.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use axum::{
    Json,
    extract::{Path, State, rejection::JsonRejection},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sse_hub::{Channel, EventType, Message};
use sse_tower::error::Rejection;

use super::{
    AppState,
    auth::{Admin, ApiError},
};

/// At most this many banners are kept.
const MAX_BANNERS: usize = 50;

/// One banner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Banner {
    /// The banner's id (the path's).
    pub id: String,
    /// A short title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The text.
    pub message: String,
    /// `info`, `warning` or `critical`.
    pub level: String,
}

/// The body of `PUT /api/alerts/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BannerBody {
    title: Option<String>,
    message: String,
    level: Option<String>,
}

/// The banners, by id.
#[derive(Debug, Clone, Default)]
pub struct Banners(Arc<Mutex<BTreeMap<String, Banner>>>);

impl Banners {
    fn board(&self) -> MutexGuard<'_, BTreeMap<String, Banner>> {
        // Every change is one insert or remove: a panic elsewhere leaves the map whole.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every banner, by id.
    pub fn all(&self) -> Vec<Banner> {
        self.board().values().cloned().collect()
    }
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError(Rejection::bad_request(message.into()))
}

fn checked_id(id: &str) -> Result<(), ApiError> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(bad_request(
            "a banner id is 1 to 64 characters of A-Z a-z 0-9 - _ .",
        ));
    }
    Ok(())
}

/// `GET /api/alerts`: the banners, by id.
pub async fn list(State(state): State<AppState>) -> Json<Vec<Banner>> {
    Json(state.banners.all())
}

/// `PUT /api/alerts/{id}` (admin) `{"message", "title"?, "level"?}`: sets a banner and
/// publishes it as an `update` event on `alerts`.
pub async fn put(
    _admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<BannerBody>, JsonRejection>,
) -> Result<Json<Banner>, ApiError> {
    checked_id(&id)?;
    let Json(body) = body.map_err(|err| bad_request(err.body_text()))?;
    let message = body.message.trim().to_owned();
    if message.is_empty() || message.chars().count() > 500 {
        return Err(bad_request("message must be 1 to 500 characters"));
    }
    let level = body.level.unwrap_or_else(|| "info".to_owned());
    if !["info", "warning", "critical"].contains(&level.as_str()) {
        return Err(bad_request("level must be info, warning or critical"));
    }
    let banner = Banner {
        id: id.clone(),
        title: body
            .title
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty()),
        message,
        level,
    };
    {
        let mut board = state.banners.board();
        if !board.contains_key(&id) && board.len() >= MAX_BANNERS {
            return Err(bad_request(format!(
                "the board holds at most {MAX_BANNERS} banners"
            )));
        }
        board.insert(id, banner.clone());
    }
    let data = serde_json::to_value(&banner).unwrap_or_default();
    state
        .hub
        .send(Message::new(Channel::ALERTS, EventType::Update, data))
        .await
        .map_err(|err| ApiError(err.into()))?;
    Ok(Json(banner))
}

/// `DELETE /api/alerts/{id}` (admin): removes a banner and publishes its dismissal; 204, or
/// 404 for a banner that is not on the board.
pub async fn delete(
    _admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state.banners.board().remove(&id).is_none() {
        return Err(ApiError(Rejection::not_found(format!("no banner {id:?}"))));
    }
    let data = json!({ "id": id, "dismissed": true });
    state
        .hub
        .send(Message::new(Channel::ALERTS, EventType::Alert, data))
        .await
        .map_err(|err| ApiError(err.into()))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/alerts/invalidate` (admin): tells every client its banners are stale (a
/// `cache-invalidation` refresh on `alerts`), so that they refetch the board; 204.
pub async fn invalidate(
    _admin: Admin,
    State(state): State<AppState>,
) -> Result<StatusCode, ApiError> {
    state
        .hub
        .invalidate_client_caches([Channel::ALERTS], None::<[sse_hub::UserId; 0]>)
        .await
        .map_err(|err| ApiError(err.into()))?;
    Ok(StatusCode::NO_CONTENT)
}
