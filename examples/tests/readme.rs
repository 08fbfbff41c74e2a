//! The README's "Add it to your app" snippets are the compiled ones in `src/readme.rs`, and
//! they work.

use axum::{body::Body, middleware, response::Response};
use http::{Request, StatusCode};
use sse_hub::Hub;
use tower::ServiceExt;

use examples::readme::{axum_api, axum_app, poem_app, warp_app};

/// The lines between `// README:<name>` and `// README:end` in `src/readme.rs`, de-indented.
fn snippet(name: &str) -> String {
    let source = include_str!("../src/readme.rs");
    let start = source
        .find(&format!("// README:{name}\n"))
        .expect("the marker")
        + format!("// README:{name}\n").len();
    let end = start
        + source[start..]
            .find("// README:end")
            .expect("the end marker");
    source[start..end]
        .lines()
        .map(|line| line.strip_prefix("    ").unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_owned()
}

#[test]
fn the_readme_shows_the_compiled_snippets() {
    let readme = include_str!("../../README.md");
    for name in ["axum", "api", "warp", "poem"] {
        let code = snippet(name);
        assert!(
            readme.contains(&code),
            "the README does not show the {name} snippet as src/readme.rs has it:\n{code}"
        );
    }
    let axum_lines = snippet("axum")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    assert!(axum_lines <= 15, "{axum_lines} lines");
}

#[tokio::test]
async fn the_axum_snippet_streams_to_the_user_its_middleware_names() {
    let hub = Hub::new();
    let app = axum_app::app(hub.clone()).layer(middleware::from_fn(
        |mut request: Request<Body>, next: middleware::Next| async move {
            request.extensions_mut().insert(axum_app::User { id: 3 });
            next.run(request).await
        },
    ));
    let stream: Response = app
        .clone()
        .oneshot(Request::get("/events").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let shipped = app
        .oneshot(Request::post("/ship").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(shipped.status(), StatusCode::NO_CONTENT);
    // Queued for the open stream of user 3.
    assert_eq!(hub.stats().queued, 1);
    assert_eq!(hub.connections_of(sse_hub::UserId::from(3)).len(), 1);
    drop(stream);
}

#[tokio::test]
async fn the_warp_snippet_takes_the_identity_from_the_apps_filter() {
    let hub = Hub::new();
    let events = warp_app::events(hub.clone());
    let refused = warp::test::request().path("/events").reply(&events).await;
    assert_eq!(refused.status(), 401);
    let response = warp::test::request()
        .path("/events")
        .header("x-user-id", "3")
        .filter(&events)
        .await
        .unwrap();
    assert_eq!(warp::Reply::into_response(response).status(), 200);
}

#[tokio::test]
async fn the_poem_snippet_needs_the_apps_identity() {
    use poem::Endpoint;
    let app = poem_app::app(Hub::new());
    let refused = app
        .get_response(poem::Request::builder().uri_str("/events").finish())
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_api_snippet_publishes_for_admins_only() {
    let hub = Hub::new();
    let as_role = |role: &'static str| {
        axum_api::admin(hub.clone()).layer(middleware::from_fn(
            move |mut request: Request<Body>, next: middleware::Next| async move {
                let identity = sse_hub::Identity::user(sse_hub::UserId::from(1))
                    .with_role(sse_hub::Role::from_static(role));
                request.extensions_mut().insert(identity);
                next.run(request).await
            },
        ))
    };
    let publish = || {
        Request::post("/admin/sse/publish")
            .header("content-type", "application/json")
            .body(Body::from(
                r#"{"channel":"alerts","event":"alert","data":"hi"}"#,
            ))
            .unwrap()
    };
    let refused = as_role("member").oneshot(publish()).await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let sent = as_role("admin").oneshot(publish()).await.unwrap();
    assert_eq!(sent.status(), StatusCode::OK);
    assert_eq!(hub.stats().messages_sent, 1);
    let document = as_role("member")
        .oneshot(
            Request::get("/admin/sse/openapi.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(document.status(), StatusCode::OK);
}
