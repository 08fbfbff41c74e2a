//! Extractors for handlers next to the endpoint.

use axum::extract::{FromRef, FromRequestParts};
use http::request::Parts;
use sse_hub::{Cursor, Hub};

use crate::SseRejection;

/// The [`Hub`] from the router's state, for handlers that publish.
///
/// The state must provide the hub through [`FromRef`] (a `Hub` state, or a field of the app's
/// state with a `FromRef` impl).
///
/// # Examples
///
/// ```
/// use axum::{Router, extract::FromRef, routing::post};
/// use serde_json::json;
/// use sse_axum::SseHub;
/// use sse_hub::{Channel, EventType, Hub};
///
/// #[derive(Clone)]
/// struct AppState {
///     hub: Hub,
/// }
///
/// impl FromRef<AppState> for Hub {
///     fn from_ref(state: &AppState) -> Hub {
///         state.hub.clone()
///     }
/// }
///
/// async fn announce(SseHub(hub): SseHub) -> String {
///     let report = hub
///         .broadcast_to_channel(Channel::SYSTEM, EventType::Broadcast, json!("maintenance"))
///         .await
///         .expect("a valid message");
///     format!("sent to {}", report.sent)
/// }
///
/// let app: Router = Router::new()
///     .route("/announce", post(announce))
///     .with_state(AppState { hub: Hub::new() });
/// ```
#[derive(Debug, Clone)]
pub struct SseHub(pub Hub);

impl<S> FromRequestParts<S> for SseHub
where
    Hub: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(_parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(Hub::from_ref(state)))
    }
}

/// The cursor a reconnecting client sent: the `Last-Event-ID` header, or else the
/// `lastEventId` query parameter; `None` for a first connection.
///
/// A malformed cursor is refused with `400` and the endpoint's JSON body.
///
/// # Examples
///
/// ```
/// use sse_axum::LastEventId;
///
/// async fn handler(LastEventId(cursor): LastEventId) -> String {
///     cursor.map_or("first connection".into(), |c| format!("resuming after {c}"))
/// }
/// # let _ = axum::routing::get::<_, _, ()>(handler);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastEventId(pub Option<Cursor>);

impl<S: Send + Sync> FromRequestParts<S> for LastEventId {
    type Rejection = SseRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        sse_tower::last_event_id(parts)
            .map(Self)
            .map_err(SseRejection)
    }
}
