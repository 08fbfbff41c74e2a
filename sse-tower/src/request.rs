//! Reading an SSE request: method, `Accept`, channels, cursor and client address.

use std::net::{IpAddr, SocketAddr};

use http::{HeaderMap, Method, header, request::Parts};
use sse_hub::{Channel, Cursor};

use crate::{StreamConfig, client_addr, error::Rejection};

/// What a stream request asks for, owned, so that nothing keeps the request alive.
#[derive(Debug)]
pub(crate) struct StreamRequest {
    pub(crate) channels: Vec<Channel>,
    /// Whether the client named its channels (otherwise they are the endpoint's defaults).
    pub(crate) explicit: bool,
    pub(crate) last_event_id: Option<Cursor>,
    /// Whether the client asked for presence events (`?presence=true`).
    pub(crate) presence: bool,
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) client_ip: Option<IpAddr>,
}

pub(crate) fn parse(parts: &Parts, config: &StreamConfig) -> Result<StreamRequest, Rejection> {
    if parts.method != Method::GET {
        return Err(Rejection::method_not_allowed(format!(
            "{} is not allowed; use GET",
            parts.method
        )));
    }
    if !accepts_event_stream(&parts.headers) {
        return Err(Rejection::not_acceptable(
            "the Accept header excludes text/event-stream",
        ));
    }
    let query = parts.uri.query().unwrap_or("");
    if query.len() > config.max_query_len {
        return Err(Rejection::bad_request(format!(
            "the query string is {} bytes; the maximum is {}",
            query.len(),
            config.max_query_len
        )));
    }
    let mut channels: Vec<Channel> = Vec::new();
    let mut presence = false;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match &*key {
            "presence" => {
                presence = match &*value {
                    "true" | "1" => true,
                    "false" | "0" | "" => false,
                    other => {
                        return Err(Rejection::bad_request(format!(
                            "presence is true or false, not {other:?}"
                        )));
                    }
                };
                if presence && !config.presence {
                    return Err(Rejection::bad_request(
                        "this endpoint does not offer presence events",
                    ));
                }
            }
            "channels" | "channel" => {
                for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    let channel =
                        Channel::new(name).map_err(|e| Rejection::bad_request(e.to_string()))?;
                    if !config.channels.contains(&channel) {
                        return Err(Rejection::not_found(format!(
                            "unknown channel \"{channel}\""
                        )));
                    }
                    if !channels.contains(&channel) {
                        channels.push(channel);
                    }
                }
            }
            _ => {}
        }
    }
    let explicit = !channels.is_empty();
    if !explicit {
        channels = config.channels.clone();
    }
    let (peer, client_ip) = client_addr::client(parts, config);
    Ok(StreamRequest {
        channels,
        explicit,
        last_event_id: last_event_id(parts)?,
        presence,
        peer,
        client_ip,
    })
}

/// The cursor a reconnecting client sent, read as [`SseService`](crate::SseService) reads it:
/// the `Last-Event-ID` header (which `EventSource` sends on its own reconnects), else the
/// `lastEventId` query parameter (for clients that reconnect by hand); `None` when neither is
/// present or both are empty.
///
/// Adapters build their `LastEventId` extractors on it.
///
/// # Errors
///
/// A `400` [`Rejection`] for a malformed cursor or a header that is not visible ASCII.
///
/// # Examples
///
/// ```
/// let (parts, ()) = http::Request::get("/?lastEventId=1-2-3")
///     .header("last-event-id", "")
///     .body(())
///     .unwrap()
///     .into_parts();
/// let cursor = sse_tower::last_event_id(&parts).unwrap();
/// assert_eq!(cursor.unwrap().to_string(), "1-2-3");
/// ```
pub fn last_event_id(parts: &Parts) -> Result<Option<Cursor>, Rejection> {
    if let Some(value) = parts.headers.get("last-event-id") {
        let value = value
            .to_str()
            .map_err(|_| Rejection::bad_request("Last-Event-ID is not visible ASCII"))?
            .trim();
        if !value.is_empty() {
            return parse_cursor(value).map(Some);
        }
    }
    let query = parts.uri.query().unwrap_or("");
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if key == "lastEventId" && !value.is_empty() {
            return parse_cursor(&value).map(Some);
        }
    }
    Ok(None)
}

fn parse_cursor(value: &str) -> Result<Cursor, Rejection> {
    value
        .parse()
        .map_err(|e: sse_hub::error::CursorError| Rejection::bad_request(e.to_string()))
}

/// Whether `Accept` allows `text/event-stream` (a missing header allows everything). The most
/// specific matching range decides, so `text/event-stream;q=0, */*` refuses it (RFC 9110).
fn accepts_event_stream(headers: &HeaderMap) -> bool {
    // The quality of the most specific range seen: exact, `text/*`, `*/*`.
    let mut quality: [Option<f32>; 3] = [None; 3];
    let mut any = false;
    for value in headers.get_all(header::ACCEPT) {
        any = true;
        let Ok(value) = value.to_str() else {
            continue;
        };
        for range in value.split(',') {
            let mut params = range.split(';');
            let media = params.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = params
                .find_map(|p| p.trim().strip_prefix("q=").map(|q| q.trim().parse::<f32>()))
                .map_or(1.0, |q| q.unwrap_or(0.0));
            let slot = match media.as_str() {
                "text/event-stream" => 0,
                "text/*" => 1,
                "*/*" => 2,
                _ => continue,
            };
            quality[slot] = Some(quality[slot].map_or(q, |seen: f32| seen.max(q)));
        }
    }
    !any || quality.iter().flatten().next().is_some_and(|q| *q > 0.0)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A header map from name and value pairs, in order.
    pub(crate) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn accept_negotiation() {
        assert!(accepts_event_stream(&headers(&[])));
        assert!(accepts_event_stream(&headers(&[(
            "accept",
            "text/event-stream"
        )])));
        assert!(accepts_event_stream(&headers(&[(
            "accept",
            "application/json, */*;q=0.1"
        )])));
        assert!(accepts_event_stream(&headers(&[("accept", "Text/*")])));
        assert!(!accepts_event_stream(&headers(&[(
            "accept",
            "application/json"
        )])));
        assert!(!accepts_event_stream(&headers(&[(
            "accept",
            "text/event-stream;q=0"
        )])));
    }
}
