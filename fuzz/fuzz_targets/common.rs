//! What the request targets share: a runtime, and answering one request.

use std::sync::OnceLock;

use http::{Request, Response};
use sse_tower::{SseBody, SseService};

/// One current-thread runtime for every run.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    })
}

/// The service's answer to `request`: a status the contract allows, a JSON body when refused.
pub fn answer(service: &SseService, request: Request<()>) -> Response<SseBody> {
    let (parts, ()) = request.into_parts();
    let response = runtime().block_on(service.respond(parts));
    let status = response.status().as_u16();
    assert!(
        matches!(status, 200 | 400 | 401 | 403 | 404 | 405 | 406 | 429 | 503),
        "unexpected status {status}"
    );
    if status != 200 {
        assert_eq!(response.headers()["content-type"], "application/json");
    }
    response
}
