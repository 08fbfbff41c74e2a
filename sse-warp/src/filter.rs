//! The filters: a warp request in, sse-tower's answer out.

use std::{convert::Infallible, net::SocketAddr};

use http::{HeaderMap, Method, Request, Uri, request::Parts};
use sse_hub::{Hub, Identity};
use sse_tower::{ClientAddr, SseService, StreamConfig, error::Rejection as Refusal};
use warp::{Filter, Rejection, filters::path::FullPath, reply::Response};

use crate::reply;

/// A filter that answers every request it sees with an SSE stream from `hub`, or with
/// sse-tower's JSON refusal; it never rejects.
///
/// Mount it behind the path (and any other filters) of your choice. The request's method,
/// path, query and headers go to [`SseService::respond`] unchanged, with the client address
/// from [`warp::addr::remote`] as a [`ClientAddr`] (a `ClientAddr` that a tower layer around
/// [`warp::service`] put into the request extensions takes precedence). The identity is the
/// [`Identity`] in the request extensions, if a tower layer around [`warp::service`] put one
/// there; with `warp::serve` nothing does, so every client is anonymous unless the
/// [`StreamConfig`] has an authenticator of its own. Use [`stream_with_identity`] to take the
/// identity from a warp filter instead.
///
/// Every status comes from sse-tower: `405` for a method other than GET, `404` for an unknown
/// channel, `401` and `403` from the endpoint's rules, `429` and `503` with `Retry-After`,
/// each with a `{"error","message"}` body.
///
/// Build the filter once and clone it: clones share one endpoint, with its connection limits
/// and heartbeat timer.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use sse_warp::{Channel, Hub, StreamConfig};
/// use warp::Filter;
///
/// let hub = Hub::new();
/// let sse = warp::path!("events")
///     .and(sse_warp::stream(hub, StreamConfig::new([Channel::SYSTEM])));
///
/// let response = warp::test::request()
///     .method("POST")
///     .path("/events")
///     .filter(&sse)
///     .await
///     .unwrap();
/// assert_eq!(response.status(), 405);
/// assert_eq!(response.headers()["allow"], "GET");
/// # }
/// ```
pub fn stream(
    hub: Hub,
    config: StreamConfig,
) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone {
    let service = SseService::new(hub, config);
    request().then(move |request| respond(service.clone(), request))
}

/// Like [`stream`], with the identity from the application's own auth filter.
///
/// `identity` runs first and yields the caller's [`Identity`], or `None` for an anonymous
/// caller; its answer replaces any `Identity` in the request extensions. sse-tower's default
/// authenticator then reads it, so an anonymous caller on an endpoint that requires auth gets
/// sse-tower's `401` with its JSON body. A rejection from `identity` is the application's own
/// and goes through warp's rejection handling unchanged; to let sse-tower answer instead, yield
/// `None` for callers without credentials. Filters that never reject (`Error = Infallible`)
/// and filters that may (`Error = Rejection`) are both accepted.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use sse_warp::{Channel, Hub, Identity, StreamConfig, UserId};
/// use warp::Filter;
///
/// // The application's auth: a user id in `x-user`, anonymous without one.
/// let auth = warp::header::optional::<String>("x-user")
///     .map(|user: Option<String>| user.and_then(|id| UserId::new(id).ok()).map(Identity::user));
/// let config = StreamConfig::new([Channel::NOTIFICATIONS]).require_auth(true);
/// let sse = warp::path!("api" / "sse" / "stream")
///     .and(sse_warp::stream_with_identity(Hub::new(), config, auth));
///
/// let response = warp::test::request()
///     .path("/api/sse/stream")
///     .filter(&sse)
///     .await
///     .unwrap();
/// assert_eq!(response.status(), 401);
/// # }
/// ```
pub fn stream_with_identity<I>(
    hub: Hub,
    config: StreamConfig,
    identity: I,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone
where
    I: Filter<Extract = (Option<Identity>,)> + Clone + Send + Sync + 'static,
    I::Error: Into<Rejection>,
{
    let service = SseService::new(hub, config);
    // Boxing is the one way to accept both error types: warp's trait that combines them
    // cannot be named outside warp.
    identity.boxed().and(request()).then(
        move |identity: Option<Identity>, request: Result<Parts, Refusal>| {
            respond(
                service.clone(),
                request.map(|parts| with_identity(parts, identity)),
            )
        },
    )
}

/// The identity filter's answer replaces whatever the extensions held.
fn with_identity(mut parts: Parts, identity: Option<Identity>) -> Parts {
    match identity {
        Some(identity) => parts.extensions.insert(identity),
        None => parts.extensions.remove::<Identity>(),
    };
    parts
}

/// The request as sse-tower reads it: method, path and query, headers, client address and
/// any identity; a refusal if the path and query do not form a URI again.
fn request() -> impl Filter<Extract = (Result<Parts, Refusal>,), Error = Infallible> + Clone {
    // `query::raw` rejects a request without a query string; that is no query here.
    let query = warp::query::raw()
        .map(Some)
        .or(warp::any().map(|| None))
        .unify();
    warp::method()
        .and(warp::path::full())
        .and(query)
        .and(warp::header::headers_cloned())
        .and(warp::addr::remote())
        .and(warp::ext::optional::<ClientAddr>())
        .and(warp::ext::optional::<Identity>())
        .map(
            |method: Method,
             path: FullPath,
             query: Option<String>,
             headers: HeaderMap,
             remote: Option<SocketAddr>,
             client_addr: Option<ClientAddr>,
             identity: Option<Identity>| {
                let uri = uri(path.as_str(), query.as_deref())?;
                let (mut parts, ()) = Request::new(()).into_parts();
                parts.method = method;
                parts.uri = uri;
                parts.headers = headers;
                if let Some(addr) = client_addr.or(remote.map(ClientAddr)) {
                    parts.extensions.insert(addr);
                }
                if let Some(identity) = identity {
                    parts.extensions.insert(identity);
                }
                Ok(parts)
            },
        )
}

fn uri(path: &str, query: Option<&str>) -> Result<Uri, Refusal> {
    let target = match query {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    // Both halves come from a URI hyper parsed, so this only fails for a request target that
    // `http` would not have accepted in the first place.
    Uri::try_from(target).map_err(|_| Refusal::bad_request("the request target is not a valid URI"))
}

async fn respond(service: SseService, request: Result<Parts, Refusal>) -> Response {
    let response = match request {
        Ok(parts) => service.respond(parts).await,
        Err(refusal) => refusal.into_response(),
    };
    reply::into_warp(response).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_keeps_path_and_raw_query() {
        let uri = uri(
            "/api/sse/stream",
            Some("channels=chat,alerts&lastEventId=a%2Fb"),
        )
        .unwrap();
        assert_eq!(uri.path(), "/api/sse/stream");
        assert_eq!(uri.query(), Some("channels=chat,alerts&lastEventId=a%2Fb"));
        let uri = super::uri("/", None).unwrap();
        assert_eq!((uri.path(), uri.query()), ("/", None));
        assert_eq!(super::uri("/", Some("")).unwrap().query(), Some(""));
    }
}
