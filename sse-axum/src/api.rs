//! The publish and administration HTTP API as a router to mount (feature `api`): publish,
//! statistics, connections, kicks, bans, revocation, "why didn't user X get message M?",
//! presence, and its own OpenAPI 3.1 document.
//!
//! Every operation but presence and the document is guarded by the app's own admin check:
//! an extractor of the app's ([`extractor`]), or a closure on the caller's
//! [`Identity`] ([`require`], [`require_role`]). Presence is judged as the stream of the
//! [`StreamConfig`] given to [`Api::presence`] would judge the caller. Refusals are JSON
//! `{"error","message"}` ([`Rejection`]), with `"field"` for an invalid message.
//!
//! | Method and path | Answer |
//! |---|---|
//! | `POST /publish` | the [`SendReport`]; 400 `invalid_message` with `field`, 409 `idempotency_conflict`, 415 for a body that is not JSON, 503 when the hub cannot take messages |
//! | `GET /stats` | the instance's [`HubStats`], with `cluster` ([`ClusterStats`]) on a shared backplane |
//! | `GET /connections` | every instance's open connections ([`ConnectionInfo`]) |
//! | `GET /connections/{id}` | one connection, on any instance; 404 if it is not open |
//! | `DELETE /connections/{id}` | `{"disconnected":1}`; 404 if it is not open |
//! | `DELETE /users/{user}/connections[?ban=SECONDS]` | `{"disconnected","instances"}`; with `ban`, the user is refused (403 `banned`) for that long |
//! | `DELETE /users/{user}/ban` | 204: the ban is lifted |
//! | `POST /users/{user}/revoke` | `{"revoked","instances"}`: the streams end with the `auth-expired` refresh |
//! | `GET /explain?message=&userId=` | what happened to the message at each of the user's connections |
//! | `GET /presence/{channel}` | who is connected to the channel (with [`Api::presence`]) |
//! | `GET /openapi.json` | this API's OpenAPI 3.1 document, its server URL the mount point |
//!
//! # Examples
//!
//! ```
//! use axum::{Router, extract::Request, middleware::{self, Next}, response::Response};
//! use sse_axum::{SseRouterExt, api};
//! use sse_hub::{Channel, Hub, Identity, Role, UserId};
//! use sse_tower::StreamConfig;
//!
//! async fn auth(mut request: Request, next: Next) -> Response {
//!     // The app's own auth puts the caller's identity into the request.
//!     # let identity = Identity::user(UserId::from(1)).with_role(Role::from_static("admin"));
//!     request.extensions_mut().insert(identity);
//!     next.run(request).await
//! }
//!
//! let hub = Hub::new();
//! let stream = StreamConfig::new([Channel::NOTIFICATIONS, Channel::CHAT]);
//! let app: Router = Router::new()
//!     .sse_stream("/api/sse/stream", hub.clone(), stream.clone())
//!     .nest(
//!         "/api/sse",
//!         api::Api::new(hub, api::require_role(Role::from_static("admin")))
//!             .presence(stream)
//!             .into_router(),
//!     )
//!     .layer(middleware::from_fn(auth));
//! ```

use std::{future::Future, marker::PhantomData, sync::Arc, time::Duration};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{
        FromRequestParts, NestedPath, Path, Query,
        rejection::{BytesRejection, PathRejection, QueryRejection},
    },
    http::{HeaderMap, StatusCode, request::Parts},
    response::{IntoResponse, Response},
    routing::{delete, get, post},
};
use serde::{Deserialize, Serialize};
use sse_hub::{
    Channel, ConnectionId, ConnectionInfo, Hub, HubStats, Identity, Role, SendReport, UserId,
    cluster::{ClusterStats, ConnectionOutcome, PresentUser},
    wire::{
        AuthExpiredData, CacheInvalidationData, ConnectedData, EventEnvelope, HeartbeatData,
        HistoryGapData, PresenceData, ResourceRefreshData, ToastData,
    },
};
use sse_tower::{StreamConfig, error::Rejection, publish};
use utoipa::{
    Modify, OpenApi, PartialSchema, ToSchema,
    openapi::schema::{ObjectBuilder, Type},
};

use crate::SseRejection;

/// The longest ban [`Api`] accepts by default: a year.
pub const MAX_BAN: Duration = Duration::from_secs(365 * 24 * 3600);

/// An admin check: passes a request through, or answers it.
///
/// Implemented by [`extractor`] (any extractor of the app's), [`require`] and
/// [`require_role`] (a closure on the caller's [`Identity`]); implement it for a check of
/// your own.
pub trait Guard<S>: Clone + Send + Sync + 'static {
    /// `Ok` lets the request through; `Err` is the answer.
    fn check(
        &self,
        parts: &mut Parts,
        state: &S,
    ) -> impl Future<Output = Result<(), Response>> + Send;
}

/// A guard that passes when the extractor `E` does: the app's own `Admin` extractor, whose
/// rejection is the answer.
///
/// # Examples
///
/// ```
/// use axum::{Router, extract::FromRequestParts, http::{StatusCode, request::Parts}};
/// use sse_axum::api;
///
/// struct Admin;
///
/// impl<S: Send + Sync> FromRequestParts<S> for Admin {
///     type Rejection = StatusCode;
///     async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, StatusCode> {
///         match parts.headers.get("x-admin-key") {
///             Some(key) if key == "let-me-in" => Ok(Admin),
///             _ => Err(StatusCode::FORBIDDEN),
///         }
///     }
/// }
///
/// let app: Router = Router::new()
///     .nest("/admin/sse", api::Api::new(sse_hub::Hub::new(), api::extractor::<Admin>()).into_router());
/// ```
pub fn extractor<E>() -> Extractor<E> {
    Extractor(PhantomData)
}

/// See [`extractor`].
pub struct Extractor<E>(PhantomData<fn() -> E>);

impl<E> Clone for Extractor<E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for Extractor<E> {}

impl<E> std::fmt::Debug for Extractor<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(std::any::type_name::<Self>())
    }
}

impl<S, E> Guard<S> for Extractor<E>
where
    S: Send + Sync,
    E: FromRequestParts<S> + 'static,
{
    async fn check(&self, parts: &mut Parts, state: &S) -> Result<(), Response> {
        E::from_request_parts(parts, state)
            .await
            .map(drop)
            .map_err(IntoResponse::into_response)
    }
}

/// A guard on the caller's [`Identity`], which the app's middleware put into the request
/// extensions: 401 `unauthorized` without an authenticated one, 403 `forbidden` when
/// `allowed` says no.
///
/// # Examples
///
/// ```
/// use sse_axum::api;
///
/// let guard = api::require(|identity| identity.has_role("admin") || identity.has_role("ops"));
/// # let _ = guard;
/// ```
pub fn require<F>(allowed: F) -> RequireIdentity<F>
where
    F: Fn(&Identity) -> bool + Clone + Send + Sync + 'static,
{
    RequireIdentity(allowed)
}

/// A guard that lets through callers holding `role` (see [`require`]).
pub fn require_role(
    role: Role,
) -> RequireIdentity<impl Fn(&Identity) -> bool + Clone + Send + Sync + 'static> {
    require(move |identity: &Identity| identity.has_role(role.as_str()))
}

/// See [`require`].
#[derive(Clone, Copy)]
pub struct RequireIdentity<F>(F);

impl<F> std::fmt::Debug for RequireIdentity<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequireIdentity")
    }
}

impl<S, F> Guard<S> for RequireIdentity<F>
where
    S: Sync,
    F: Fn(&Identity) -> bool + Clone + Send + Sync + 'static,
{
    async fn check(&self, parts: &mut Parts, _state: &S) -> Result<(), Response> {
        let refusal = match parts.extensions.get::<Identity>() {
            Some(identity) if identity.is_authenticated() => {
                if (self.0)(identity) {
                    return Ok(());
                }
                Rejection::forbidden("not allowed")
            }
            _ => Rejection::unauthorized("authentication required"),
        };
        Err(SseRejection(refusal).into_response())
    }
}

/// The API: a hub, the admin guard and options; [`into_router`](Api::into_router) makes the
/// router to nest under a prefix of the app's.
#[derive(Debug, Clone)]
pub struct Api<G> {
    hub: Hub,
    guard: G,
    presence: Option<StreamConfig>,
    max_ban: Duration,
}

impl<G> Api<G> {
    /// The API of `hub`, its administration guarded by `guard`.
    pub fn new(hub: Hub, guard: G) -> Self {
        Self {
            hub,
            guard,
            presence: None,
            max_ban: MAX_BAN,
        }
    }

    /// Serves `GET /presence/{channel}` to callers who may read the channel on the stream
    /// endpoint of `config` (authenticated by its authenticator; 401, 403 or 404 as the
    /// stream would answer).
    #[must_use]
    pub fn presence(mut self, config: StreamConfig) -> Self {
        self.presence = Some(config);
        self
    }

    /// The longest ban `DELETE /users/{user}/connections?ban=SECONDS` accepts (default
    /// [`MAX_BAN`], a year; at least a second).
    #[must_use]
    pub fn max_ban(mut self, max: Duration) -> Self {
        self.max_ban = max.max(Duration::from_secs(1));
        self
    }

    /// This API's OpenAPI 3.1 document, its paths relative to the mount point (the served
    /// `/openapi.json` names the mount point as its server).
    pub fn openapi(&self) -> utoipa::openapi::OpenApi {
        let mut doc = ApiDoc::openapi();
        if self.presence.is_none() {
            doc.paths.paths.remove("/presence/{channel}");
        }
        if let Some(op) = doc
            .paths
            .paths
            .get_mut("/users/{user}/connections")
            .and_then(|item| item.delete.as_mut())
        {
            for param in op.parameters.iter_mut().flatten() {
                if param.name == "ban" {
                    let max = self.max_ban.as_secs();
                    param.description = Some(format!(
                        "Also ban the user for this many seconds (1 to {max})"
                    ));
                    param.schema = Some(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(1))
                            .maximum(Some(max))
                            .into(),
                    );
                }
            }
        }
        doc
    }

    /// The router, to nest under a prefix: `Router::nest("/api/sse", api.into_router())`.
    pub fn into_router<S>(self) -> Router<S>
    where
        G: Guard<S>,
        S: Clone + Send + Sync + 'static,
    {
        let document = serde_json::to_value(self.openapi()).unwrap_or_default();
        let shared = Arc::new(Shared {
            hub: self.hub,
            guard: self.guard,
            presence: self.presence,
            max_ban: self.max_ban,
            document,
        });
        let mut router = Router::new()
            .route("/publish", post(publish_handler::<G>))
            .route("/stats", get(stats::<G>))
            .route("/connections", get(connections::<G>))
            .route(
                "/connections/{id}",
                get(connection::<G>).delete(disconnect::<G>),
            )
            .route("/users/{user}/connections", delete(disconnect_user::<G>))
            .route("/users/{user}/ban", delete(unban_user::<G>))
            .route("/users/{user}/revoke", post(revoke_user::<G>))
            .route("/explain", get(explain::<G>))
            .route("/openapi.json", get(openapi_json::<G>));
        if shared.presence.is_some() {
            router = router.route("/presence/{channel}", get(presence::<G>));
        }
        router.layer(axum::Extension(shared))
    }
}

/// What the handlers share: the hub, the guard and the options.
struct Shared<G> {
    hub: Hub,
    guard: G,
    presence: Option<StreamConfig>,
    max_ban: Duration,
    document: serde_json::Value,
}

/// A request the guard let through, with the API's shared state.
struct Admitted<G>(Arc<Shared<G>>);

/// Any caller, with the API's shared state.
struct Open<G>(Arc<Shared<G>>);

impl<S, G> FromRequestParts<S> for Open<G>
where
    S: Send + Sync,
    G: Send + Sync + 'static,
{
    type Rejection = SseRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, SseRejection> {
        // Always there: the router's layer puts it in.
        parts
            .extensions
            .get::<Arc<Shared<G>>>()
            .cloned()
            .map(Self)
            .ok_or_else(|| {
                SseRejection(Rejection::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the API's state is missing",
                ))
            })
    }
}

impl<S, G> FromRequestParts<S> for Admitted<G>
where
    S: Send + Sync,
    G: Guard<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let Open(shared) = Open::<G>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        shared.guard.check(parts, state).await?;
        Ok(Self(shared))
    }
}

/// The JSON body of every refusal.
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)] // The document's schema: refusals are written by `Rejection`.
struct Error {
    /// A machine-readable code: `invalid_message`, `unauthorized`, `forbidden`, `not_found`,
    /// `bad_request`, `idempotency_conflict`, `unsupported_media_type`,
    /// `service_unavailable`...
    error: String,
    /// What went wrong, in words.
    message: String,
    /// The field at fault, for `invalid_message`.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    /// When the ban ends, for `banned` (the stream endpoint's refusal of a banned user):
    /// milliseconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    until: Option<u64>,
}

/// `GET /stats`: the instance's statistics, and on a shared backplane the cluster's.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// This instance's statistics.
    #[serde(flatten)]
    pub stats: HubStats,
    /// Every live instance's statistics and their totals (on a shared backplane).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterStats>,
}

/// `DELETE /connections/{id}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Disconnected {
    /// Streams ended: 1.
    pub disconnected: usize,
}

/// `DELETE /users/{user}/connections`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserDisconnected {
    /// The user's streams ended, on every instance.
    pub disconnected: usize,
    /// Instances that answered, this one included.
    pub instances: usize,
}

/// `POST /users/{user}/revoke`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Revoked {
    /// The user's streams ended with the `auth-expired` refresh, on every instance.
    pub revoked: usize,
    /// Instances that answered, this one included.
    pub instances: usize,
}

/// `GET /explain`: what happened to a message at each of a user's connections.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Explain {
    /// The message, as asked for (an id or a cursor).
    pub message: String,
    /// The user.
    pub user_id: UserId,
    /// One line per connection of the user, on every instance, ordered by instance and id.
    pub connections: Vec<ConnectionOutcome>,
}

/// `GET /presence/{channel}`: who is connected to the channel, on every instance.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PresenceOf {
    /// The channel.
    pub channel: Channel,
    /// The users, ordered by user id.
    pub users: Vec<PresentUser>,
    /// Anonymous connections (counted, never named).
    pub anonymous: usize,
    /// Every connection to the channel.
    pub total: usize,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Universal SSE API",
        description = "Publish messages to Server-Sent Events streams and administer them: \
                       statistics, connections, kicks, bans, revocation, delivery explain and \
                       presence. Refusals are JSON {\"error\",\"message\"}. Administration is \
                       guarded by the application's own check (401 or 403). The schemas \
                       EventEnvelope and *Data describe the events of the stream endpoint: \
                       the JSON of every event's data line, and the data of the events the \
                       server sends by itself."
    ),
    paths(
        publish_handler,
        stats,
        connections,
        connection,
        disconnect,
        disconnect_user,
        unban_user,
        revoke_user,
        explain,
        presence,
    ),
    modifiers(&Envelope),
    components(schemas(
        Error,
        ConnectedData<'_>,
        HeartbeatData,
        HistoryGapData<'_>,
        AuthExpiredData,
        PresenceData<'_>,
        ToastData,
        CacheInvalidationData<'_>,
        ResourceRefreshData<'_>,
    ))
)]
struct ApiDoc;

/// Adds the stream's `EventEnvelope` under its own name (a generic type's schema would be
/// named after its parameter).
struct Envelope;

impl Modify for Envelope {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.schemas.insert(
            EventEnvelope::<serde_json::Value>::name().into_owned(),
            EventEnvelope::<serde_json::Value>::schema(),
        );
    }
}

/// Publish one message.
///
/// The body is one message in the wire format; the answer is the send report. A repeat under
/// the same idempotency key (`idempotencyKey`, or the `Idempotency-Key` header) within the
/// window delivers nothing and answers the first report with `"duplicate": true`.
#[utoipa::path(
    post,
    path = "/publish",
    operation_id = "publish",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "An idempotency key (1 to 256 characters); must agree with the body's idempotencyKey"),
    ),
    request_body(
        content = sse_hub::Message,
        content_type = "application/json",
        example = json!({
            "channel": "notifications",
            "event": "notification",
            "data": {"title": "Shipped"},
            "target": "user-specific",
            "targetUsers": [3]
        })
    ),
    responses(
        (status = 200, description = "Sent (or a repeat: duplicate is true)", body = SendReport),
        (status = 400, description = "Not a valid message; field names the field at fault", body = Error),
        (status = 401, description = "Not authenticated", body = Error),
        (status = 403, description = "Not an admin", body = Error),
        (status = 409, description = "The idempotency key was used for another message", body = Error),
        (status = 413, description = "The body is too large", body = Error),
        (status = 415, description = "The body is not JSON", body = Error),
        (status = 503, description = "The hub is shutting down or its backplane failed", body = Error),
    )
)]
async fn publish_handler<G>(
    Admitted(api): Admitted<G>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<SendReport>, SseRejection> {
    publish::require_json(&headers)?;
    let body = body.map_err(|err| match err.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            Rejection::new(err.status(), "payload_too_large", err.body_text())
        }
        status => Rejection::new(status, "bad_request", err.body_text()),
    })?;
    let message = publish::parse_message(&body)?;
    let message = publish::with_idempotency_header(message, &headers)?;
    Ok(Json(api.hub.send(message).await.map_err(Rejection::from)?))
}

/// Statistics.
///
/// This instance's statistics and, on a shared backplane, every live instance's with their
/// totals (`cluster`).
#[utoipa::path(
    get,
    path = "/stats",
    responses(
        (status = 200, description = "The statistics", body = Stats),
        (status = 401, description = "Not authenticated", body = Error),
        (status = 403, description = "Not an admin", body = Error),
    )
)]
async fn stats<G>(Admitted(api): Admitted<G>) -> Json<Stats> {
    let cluster = if api.hub.is_shared() {
        Some(api.hub.cluster_stats().await)
    } else {
        None
    };
    Json(Stats {
        stats: api.hub.stats(),
        cluster,
    })
}

/// Open connections.
///
/// The open connections of every instance.
#[utoipa::path(
    get,
    path = "/connections",
    responses(
        (status = 200, description = "The connections", body = Vec<ConnectionInfo>),
        (status = 401, description = "Not authenticated", body = Error),
        (status = 403, description = "Not an admin", body = Error),
    )
)]
async fn connections<G>(Admitted(api): Admitted<G>) -> Json<Vec<ConnectionInfo>> {
    Json(api.hub.cluster_connections(None).await.connections)
}

fn not_open(id: &str) -> SseRejection {
    SseRejection(Rejection::not_found(format!("connection {id} is not open")))
}

/// The id of a path; any id that is not an open connection's is 404.
fn connection_id(id: Result<Path<String>, PathRejection>) -> Result<ConnectionId, SseRejection> {
    // A path that does not decode names no open connection either.
    let Path(id) = id.map_err(|_| {
        SseRejection(Rejection::not_found(
            "the connection id is not a valid path segment",
        ))
    })?;
    id.parse::<ConnectionId>().map_err(|_| not_open(&id))
}

/// One connection.
///
/// An open connection, on any instance.
#[utoipa::path(
    get,
    path = "/connections/{id}",
    params(("id" = String, Path, description = "The connection id", example = "conn-1")),
    responses(
        (status = 200, description = "The connection", body = ConnectionInfo),
        (status = 401, description = "Not authenticated", body = Error),
        (status = 403, description = "Not an admin", body = Error),
        (status = 404, description = "No such connection is open", body = Error),
    )
)]
async fn connection<G>(
    Admitted(api): Admitted<G>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ConnectionInfo>, SseRejection> {
    let id = connection_id(id)?;
    api.hub
        .cluster_connection_info(id)
        .await
        .map(Json)
        .ok_or_else(|| not_open(&id.to_string()))
}

/// Kick a connection.
///
/// Ends one connection's stream, on whichever instance holds it.
#[utoipa::path(
    delete,
    path = "/connections/{id}",
    params(("id" = String, Path, description = "The connection id", example = "conn-1")),
    responses(
        (status = 200, description = "The stream ended", body = Disconnected),
        (status = 401, description = "Not authenticated", body = Error),
        (status = 403, description = "Not an admin", body = Error),
        (status = 404, description = "No such connection is open", body = Error),
    )
)]
async fn disconnect<G>(
    Admitted(api): Admitted<G>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Disconnected>, SseRejection> {
    let id = connection_id(id)?;
    match api.hub.kick(id).await.affected {
        0 => Err(not_open(&id.to_string())),
        disconnected => Ok(Json(Disconnected { disconnected })),
    }
}

/// The user of a path, or 400.
fn user_id(user: Result<Path<String>, PathRejection>) -> Result<UserId, SseRejection> {
    let Path(user) = user.map_err(|err| Rejection::bad_request(err.body_text()))?;
    UserId::new(user).map_err(|err| SseRejection(Rejection::bad_request(err.to_string())))
}

fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, SseRejection> {
    query
        .map(|Query(query)| query)
        .map_err(|err| SseRejection(Rejection::bad_request(err.body_text())))
}

/// The query of `DELETE /users/{user}/connections`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KickQuery {
    /// Also ban the user for this many seconds.
    ban: Option<String>,
}

/// Kick a user.
///
/// Ends the user's streams on every instance; with `ban`, the user's connections are refused
/// (403 `banned`, with `until`) on every instance for that long.
#[utoipa::path(
    delete,
    path = "/users/{user}/connections",
    params(
        ("user" = String, Path, description = "The user id", example = "3"),
        ("ban" = Option<u64>, Query, description = "Also ban the user for this many seconds"),
    ),
    responses(
        (status = 200, description = "The streams ended", body = UserDisconnected),
        (status = 400, description = "An invalid user id or ban", body = Error),
        (status = 401, description = "Not authenticated", body = Error),
        (status = 403, description = "Not an admin", body = Error),
    )
)]
async fn disconnect_user<G>(
    Admitted(api): Admitted<G>,
    user: Result<Path<String>, PathRejection>,
    kick: Result<Query<KickQuery>, QueryRejection>,
) -> Result<Json<UserDisconnected>, SseRejection> {
    let user = user_id(user)?;
    let kick = query(kick)?;
    let report = match kick.ban {
        None => api.hub.kick_user(&user).await,
        Some(secs) => {
            let max = api.max_ban.as_secs();
            let secs = secs
                .parse::<u64>()
                .ok()
                .filter(|secs| (1..=max).contains(secs))
                .ok_or_else(|| {
                    Rejection::bad_request(format!(
                        "ban must be a number of seconds from 1 to {max}, not {secs:?}"
                    ))
                })?;
            api.hub.ban_user(&user, Duration::from_secs(secs)).await
        }
    };
    Ok(Json(UserDisconnected {
        disconnected: report.affected,
        instances: report.instances.len(),
    }))
}

/// Lift a ban.
///
/// Lifts the user's ban on every instance.
#[utoipa::path(
    delete,
    path = "/users/{user}/ban",
    params(("user" = String, Path, description = "The user id", example = "3")),
    responses(
        (status = 204, description = "The ban is lifted (or there was none)"),
        (status = 400, description = "An invalid user id", body = Error),
        (status = 401, description = "Not authenticated", body = Error),
        (status = 403, description = "Not an admin", body = Error),
    )
)]
async fn unban_user<G>(
    Admitted(api): Admitted<G>,
    user: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, SseRejection> {
    let user = user_id(user)?;
    api.hub.unban_user(&user).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Revoke a user's credentials.
///
/// Ends the user's streams on every instance with the `auth-expired` refresh, so that their
/// clients reconnect with fresh credentials.
#[utoipa::path(
    post,
    path = "/users/{user}/revoke",
    params(("user" = String, Path, description = "The user id", example = "3")),
    responses(
        (status = 200, description = "The streams ended", body = Revoked),
        (status = 400, description = "An invalid user id", body = Error),
        (status = 401, description = "Not authenticated", body = Error),
        (status = 403, description = "Not an admin", body = Error),
    )
)]
async fn revoke_user<G>(
    Admitted(api): Admitted<G>,
    user: Result<Path<String>, PathRejection>,
) -> Result<Json<Revoked>, SseRejection> {
    let user = user_id(user)?;
    let report = api.hub.revoke_user(&user).await;
    Ok(Json(Revoked {
        revoked: report.affected,
        instances: report.instances.len(),
    }))
}

/// The query of `GET /explain`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ExplainQuery {
    message: String,
    user_id: String,
}

/// Why didn't a user get a message?
///
/// What happened to the message at each of the user's connections, on every instance: those
/// open now and those that ended after being offered the message.
#[utoipa::path(
    get,
    path = "/explain",
    params(
        ("message" = String, Query, description = "The message's id or cursor"),
        ("userId" = String, Query, description = "The user id", example = "3"),
    ),
    responses(
        (status = 200, description = "One line per connection", body = Explain),
        (status = 400, description = "A missing or invalid parameter", body = Error),
        (status = 401, description = "Not authenticated", body = Error),
        (status = 403, description = "Not an admin", body = Error),
    )
)]
async fn explain<G>(
    Admitted(api): Admitted<G>,
    asked: Result<Query<ExplainQuery>, QueryRejection>,
) -> Result<Json<Explain>, SseRejection> {
    let asked = query(asked)?;
    let user =
        UserId::new(&asked.user_id).map_err(|err| Rejection::bad_request(err.to_string()))?;
    if asked.message.is_empty() {
        return Err(SseRejection(Rejection::bad_request(
            "message must be a message id or cursor",
        )));
    }
    let why = api.hub.explain(&asked.message, &user).await;
    Ok(Json(Explain {
        message: why.message,
        user_id: why.user_id,
        connections: why.connections,
    }))
}

/// Who is in a channel?
///
/// The users connected to the channel on every instance, for callers who may read it (as its
/// stream would judge them).
#[utoipa::path(
    get,
    path = "/presence/{channel}",
    params(("channel" = String, Path, description = "The channel", example = "chat")),
    responses(
        (status = 200, description = "Who is connected", body = PresenceOf),
        (status = 400, description = "An invalid channel name", body = Error),
        (status = 401, description = "Not authenticated, and the channel needs it", body = Error),
        (status = 403, description = "Not allowed to read the channel", body = Error),
        (status = 404, description = "The stream endpoint does not serve the channel", body = Error),
    )
)]
async fn presence<G: Send + Sync + 'static>(
    Open(api): Open<G>,
    channel: Result<Path<String>, PathRejection>,
    parts: Parts,
) -> Result<Json<PresenceOf>, SseRejection> {
    let Path(channel) = channel.map_err(|err| Rejection::bad_request(err.body_text()))?;
    let channel = Channel::new(&channel).map_err(|err| Rejection::bad_request(err.to_string()))?;
    let Some(config) = &api.presence else {
        return Err(SseRejection(Rejection::not_found("presence is not served")));
    };
    let identity = config.authenticate(&parts).await?;
    config.check_read(&api.hub, identity, &channel).await?;
    let here = api.hub.presence(&channel).await;
    Ok(Json(PresenceOf {
        channel: here.channel,
        users: here.users,
        anonymous: here.anonymous,
        total: here.total,
    }))
}

/// `GET /openapi.json`: the document, its server URL the mount point.
async fn openapi_json<G: Send + Sync + 'static>(
    Open(api): Open<G>,
    parts: Parts,
) -> Json<serde_json::Value> {
    let mut document = api.document.clone();
    let nested = parts.extensions.get::<NestedPath>();
    if let Some(prefix) = nested.map(NestedPath::as_str).filter(|p| *p != "/") {
        document["servers"] = serde_json::json!([{ "url": prefix }]);
    }
    Json(document)
}
