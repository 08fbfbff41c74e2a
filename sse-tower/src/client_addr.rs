//! The client's address: the peer the server saw, or, behind trusted proxies, the address
//! they forwarded.

use std::net::{IpAddr, SocketAddr};

use http::{HeaderMap, header, request::Parts};

use crate::{StreamConfig, TrustedProxies};

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

/// The peer address and the client IP (through trusted proxies), read before anything else so
/// that every attempt counts against the connection rate.
pub(crate) fn client(parts: &Parts, config: &StreamConfig) -> (Option<SocketAddr>, Option<IpAddr>) {
    let peer = parts.extensions.get::<ClientAddr>().map(|a| a.0);
    let ip = peer.map(|peer| client_ip(peer.ip(), &parts.headers, &config.trusted_proxies));
    (peer, ip)
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
    use crate::request::tests::headers;

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
