//! Reading an SSE request: method, `Accept`, channels, cursor and client address.

use std::net::{IpAddr, SocketAddr};

use http::{HeaderMap, Method, header, request::Parts};
use sse_core::{Channel, Cursor};

use crate::{StreamConfig, TrustedProxies, error::Rejection};

/// The client's socket address, which servers and adapters put into the request extensions
/// (hyper-util's accept loop, axum's `ConnectInfo`, warp's `remote()`, poem's `remote_addr()`).
///
/// Rate limits and per-IP caps key on it; without it they apply only per user and globally.
///
/// # Examples
///
/// ```
/// use sse_tower::ClientAddr;
///
/// let mut request = http::Request::new(());
/// request
///     .extensions_mut()
///     .insert(ClientAddr("127.0.0.1:50123".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub SocketAddr);

/// What a stream request asks for, owned, so that nothing keeps the request alive.
#[derive(Debug)]
pub(crate) struct StreamRequest {
    pub(crate) channels: Vec<Channel>,
    /// Whether the client named its channels (otherwise they are the endpoint's defaults).
    pub(crate) explicit: bool,
    pub(crate) last_event_id: Option<Cursor>,
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) client_ip: Option<IpAddr>,
}

/// The peer address and the client IP (through trusted proxies), read before anything else so
/// that every attempt counts against the connection rate.
pub(crate) fn client(parts: &Parts, config: &StreamConfig) -> (Option<SocketAddr>, Option<IpAddr>) {
    let peer = parts.extensions.get::<ClientAddr>().map(|a| a.0);
    let ip = peer.map(|peer| client_ip(peer.ip(), &parts.headers, &config.trusted_proxies));
    (peer, ip)
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
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match &*key {
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
    let (peer, client_ip) = client(parts, config);
    Ok(StreamRequest {
        channels,
        explicit,
        last_event_id: last_event_id(parts)?,
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
        .map_err(|e: sse_core::error::CursorError| Rejection::bad_request(e.to_string()))
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

/// The client address: the peer, or, when the peer is a trusted proxy, the right-most address
/// in `Forwarded` (or else `X-Forwarded-For`) that is not a trusted proxy.
fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    if !trusted.trusts(peer) {
        return peer;
    }
    let chain = forwarded_chain(headers);
    let Some(chain) = chain else {
        return peer;
    };
    if chain.is_empty() {
        return peer;
    }
    chain
        .iter()
        .rev()
        .find(|ip| !trusted.trusts(**ip))
        .or_else(|| chain.first())
        .copied()
        .unwrap_or(peer)
}

/// The addresses a request passed through, oldest first; `None` when there is no usable header.
fn forwarded_chain(headers: &HeaderMap) -> Option<Vec<IpAddr>> {
    let forwarded: Vec<&str> = headers
        .get_all(header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        let mut chain = Vec::new();
        for element in forwarded.iter().flat_map(|v| v.split(',')) {
            for pair in element.split(';') {
                let Some((key, value)) = pair.trim().split_once('=') else {
                    continue;
                };
                if key.trim().eq_ignore_ascii_case("for") {
                    chain.push(parse_node(value.trim().trim_matches('"'))?);
                }
            }
        }
        return Some(chain);
    }
    let xff: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if xff.is_empty() {
        return None;
    }
    xff.iter()
        .flat_map(|v| v.split(','))
        .map(|node| parse_node(node.trim()))
        .collect()
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:80`, `[2001:db8::1]:4711`,
/// `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = node.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    node.strip_prefix('[')
        .and_then(|rest| rest.split(']').next())
        .and_then(|ip| ip.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
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

    #[test]
    fn client_ip_from_trusted_proxies_only() {
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let h = headers(&[("x-forwarded-for", "203.0.113.7, 10.0.0.2")]);
        assert_eq!(client_ip(peer, &h, &TrustedProxies::None), peer);
        let proxies = TrustedProxies::Addrs(vec![peer, "10.0.0.2".parse().unwrap()]);
        assert_eq!(
            client_ip(peer, &h, &proxies),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        // A spoofed left-most entry is not taken when the right-most untrusted one exists.
        let spoofed = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.7")]);
        assert_eq!(
            client_ip(peer, &spoofed, &TrustedProxies::Addrs(vec![peer])),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        let fwd = headers(&[(
            "forwarded",
            "for=192.0.2.60;proto=http, for=\"[2001:db8::1]:4711\"",
        )]);
        assert_eq!(
            client_ip(peer, &fwd, &TrustedProxies::Addrs(vec![peer])),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(peer, &fwd, &TrustedProxies::All),
            "192.0.2.60".parse::<IpAddr>().unwrap()
        );
        let garbage = headers(&[("x-forwarded-for", "not-an-ip")]);
        assert_eq!(client_ip(peer, &garbage, &TrustedProxies::All), peer);
    }
}
