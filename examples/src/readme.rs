//! The README's "Add it to your app" snippets, compiled: each lies between `README:` markers,
//! and `tests/readme.rs` checks that the README shows them as they are here.

/// axum: an app whose own middleware authenticates and puts its `User` in the extensions.
pub mod axum_app {
    use axum::{Extension, Router, extract::State, http::StatusCode, routing::post};
    use sse_axum::SseRouterExt;
    use sse_hub::{Channel, EventType, Hub, Identity, Message, UserId};
    use sse_tower::{StreamConfig, auth::identity_from_extension};

    /// The app's own user, as its auth middleware inserts it.
    #[derive(Debug, Clone)]
    pub struct User {
        /// The user id.
        pub id: u64,
    }

    /// Streams at `/events` for the signed-in user; `POST /ship` notifies them.
    // README:axum
    pub fn app(hub: Hub) -> Router {
        let identity = identity_from_extension(|u: &User| Identity::user(UserId::from(u.id)));
        let sse = StreamConfig::new([Channel::NOTIFICATIONS]).authenticator(identity);
        Router::new()
            .sse_stream("/events", hub.clone(), sse)
            .route("/ship", post(ship))
            .with_state(hub) // .layer(your_auth_middleware) inserts `User`, as before
    }

    async fn ship(State(hub): State<Hub>, Extension(user): Extension<User>) -> StatusCode {
        let note = Message::new(Channel::NOTIFICATIONS, EventType::Notification, "Ok".into());
        match hub.send(note.to_users([user.id])).await {
            Ok(_) => StatusCode::NO_CONTENT,
            Err(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
    // README:end
}

/// axum: the publish and administration API behind the app's own admin check.
pub mod axum_api {
    use axum::Router;
    use sse_axum::api::{self, Api};
    use sse_hub::{Hub, Identity};

    // README:api
    /// Publish, statistics, connections, kicks, bans, explain and `/admin/sse/openapi.json`,
    /// for callers whose `Identity` (put in the request by the app's middleware) is an admin.
    pub fn admin(hub: Hub) -> Router {
        let admins = api::require(|caller: &Identity| caller.has_role("admin"));
        Router::new().nest("/admin/sse", Api::new(hub, admins).into_router())
    }
    // README:end
}

/// warp: the identity comes from the app's own filter.
pub mod warp_app {
    use sse_hub::{Channel, Hub, Identity, UserId};
    use sse_tower::StreamConfig;
    use warp::Filter;

    // README:warp
    /// Streams at `/events` for the user the app's `x-user-id` filter names.
    pub fn events(
        hub: Hub,
    ) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
        let user =
            warp::header::optional::<u64>("x-user-id") // your own auth filter
                .map(|id: Option<u64>| id.map(|id| Identity::user(UserId::from(id))));
        let config = StreamConfig::new([Channel::NOTIFICATIONS]).require_auth(true);
        warp::path!("events").and(sse_warp::stream_with_identity(hub, config, user))
    }
    // README:end
}

/// poem: the identity comes from the app's own middleware, through the request extensions.
pub mod poem_app {
    use poem::{EndpointExt, Route};
    use sse_hub::{Channel, Hub};
    use sse_poem::SseEndpoint;
    use sse_tower::StreamConfig;

    // README:poem
    /// Streams at `/events`; the app's middleware puts an `sse_hub::Identity` in the request.
    pub fn app(hub: Hub) -> impl poem::Endpoint {
        let config = StreamConfig::new([Channel::NOTIFICATIONS]).require_auth(true);
        Route::new()
            .at("/events", SseEndpoint::new(hub, config))
            .map_to_response()
        // .with(your_auth_middleware)
    }
    // README:end
}
