//! Every answer the service gives before a stream starts: the exact status, JSON body and headers
//! of each refusal, and the exact headers and preamble of a stream that opens.
//!
//! One test binary, a module per topic: the request itself (`statuses`), who may read (`auth`),
//! how many may read (`limits`), and mounting with the layer (`layer`).

#[path = "../support/mod.rs"]
mod support;

mod auth;
mod layer;
mod limits;
mod statuses;

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, header};
use http_body::Body;
use http_body_util::BodyExt;
use serde_json::{Value, json};

/// Exactly these headers.
fn headers(pairs: &[(HeaderName, &str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(name, value)| (name.clone(), HeaderValue::from_str(value).unwrap()))
        .collect()
}

/// Asserts a refusal: status, exactly these headers besides `content-type: application/json`
/// and `cache-control: no-store`, and exactly this JSON body.
async fn assert_refused<B>(
    response: Response<B>,
    status: StatusCode,
    error: &str,
    message: &str,
    extra_headers: &[(HeaderName, &str)],
) where
    B: Body<Data = Bytes, Error = Infallible>,
{
    assert_eq!(response.status(), status, "{message}");
    let mut expected = headers(&[
        (header::CONTENT_TYPE, "application/json"),
        (header::CACHE_CONTROL, "no-store"),
    ]);
    expected.extend(headers(extra_headers));
    assert_eq!(response.headers(), &expected, "{message}");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body, json!({ "error": error, "message": message }));
}
