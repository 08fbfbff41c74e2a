//! sse-tower's response as a warp reply.

use http::Response;
use http_body::Body as _;
use http_body_util::{BodyDataStream, BodyExt};
use sse_tower::SseBody;
use warp::Reply;

/// The warp response for sse-tower's: status, headers, version and extensions unchanged.
///
/// A complete body (a refusal's JSON) is sent whole, so it keeps its `content-length`; a
/// stream is sent frame by frame as sse-tower writes it.
pub(crate) async fn into_warp(response: Response<SseBody>) -> warp::reply::Response {
    let (parts, body) = response.into_parts();
    let body = if body.size_hint().exact().is_some() {
        // A body of known length is already complete: collecting it does not wait.
        let bytes = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(never) => match never {},
        };
        Response::new(bytes).into_response().into_body()
    } else {
        warp::reply::stream(BodyDataStream::new(body))
            .into_response()
            .into_body()
    };
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http::{HeaderValue, StatusCode};
    use sse_tower::error::Rejection;

    use super::*;

    #[tokio::test]
    async fn a_refusal_keeps_status_headers_and_length() {
        let refusal = Rejection::not_found("unknown channel \"billing\"");
        let body = refusal.json_body();
        let response = into_warp(refusal.into_response()).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.body().size_hint().exact(), Some(body.len() as u64));
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(bytes, Bytes::from(body));
    }

    #[tokio::test]
    async fn extensions_and_version_pass_through() {
        let mut response = Response::new(SseBody::from(Bytes::from_static(b"{}")));
        *response.version_mut() = http::Version::HTTP_2;
        response
            .extensions_mut()
            .insert(HeaderValue::from_static("marker"));
        let response = into_warp(response).await;
        assert_eq!(response.version(), http::Version::HTTP_2);
        assert_eq!(
            response.extensions().get::<HeaderValue>().unwrap(),
            "marker"
        );
    }
}
