//! The page and the browser client, compiled into the binary: no npm step at run time.

use axum::{
    extract::Path,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

const INDEX: &str = include_str!("page/index.html");
const APP_JS: &str = include_str!("page/app.js");
const STYLE: &str = include_str!("page/style.css");

/// The committed build of `sse-js` (see `sse-js/dist`).
const SSE_JS: &[(&str, &str)] = &[
    ("index.js", include_str!("../../../sse-js/dist/index.js")),
    ("client.js", include_str!("../../../sse-js/dist/client.js")),
    (
        "backoff.js",
        include_str!("../../../sse-js/dist/backoff.js"),
    ),
    ("types.js", include_str!("../../../sse-js/dist/types.js")),
    ("parser.js", include_str!("../../../sse-js/dist/parser.js")),
    ("share.js", include_str!("../../../sse-js/dist/share.js")),
    (
        "transport.js",
        include_str!("../../../sse-js/dist/transport.js"),
    ),
];

/// The React example app (`sse-js/examples/react`), built by `npm run build:react` into
/// `page/react`.
const REACT_INDEX: &str = include_str!("page/react/index.html");
const REACT_FILES: &[(&str, &str, &str)] = &[(
    "app.js",
    "text/javascript; charset=utf-8",
    include_str!("page/react/app.js"),
)];

/// `GET /react`: to `/react/`, where the app's relative URLs resolve.
pub async fn react_redirect() -> Response {
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, "/react/")],
    )
        .into_response()
}

/// `GET /react/`.
pub async fn react_index() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        REACT_INDEX,
    )
        .into_response()
}

/// `GET /react/{file}`.
pub async fn react_file(Path(file): Path<String>) -> Response {
    match REACT_FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, source)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *source,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

/// `GET /`.
pub async fn index() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX).into_response()
}

/// `GET /app.js`.
pub async fn app_js() -> Response {
    javascript(APP_JS)
}

/// `GET /style.css`.
pub async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

/// `GET /sse-js/{file}`.
pub async fn sse_js(Path(file): Path<String>) -> Response {
    match SSE_JS.iter().find(|(name, _)| *name == file) {
        Some((_, source)) => javascript(source),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

fn javascript(source: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        source,
    )
        .into_response()
}
