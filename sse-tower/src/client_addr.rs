//! The client's address: the peer the server saw, or, behind trusted proxies, the address
//! they forwarded.

use std::net::{IpAddr, SocketAddr};

use http::{HeaderMap, header, request::Parts};

use crate::StreamConfig;

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

/// The header a trusted proxy writes the addresses it forwarded for in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForwardedHeader {
    /// `Forwarded: for=...` (RFC 7239).
    Forwarded,
    /// `X-Forwarded-For: client, proxy1, ...`.
    XForwardedFor,
}

/// Which peers are proxies, and which header they tell the client's address in.
///
/// Only the named header is read, and only on requests from a trusted peer: anyone can send
/// either header, and a proxy appends to the one it writes without cleaning the other. The
/// header's hops are walked from the right (the hop the peer itself saw) to the left; the
/// first hop that is not a trusted proxy is the client. A hop that is not an address
/// (`for=unknown`, an obfuscated identifier, garbage) gives the request no client address:
/// per-IP limits then do not apply to it, rather than putting every such client in the
/// proxy's bucket.
///
/// Do not trust every address (`0.0.0.0/0`): then every hop is trusted and the left-most,
/// which the client writes, would be taken. When the proxies' addresses are not known (a
/// cloud load balancer), trust a number of hops instead.
///
/// # Examples
///
/// ```
/// use sse_tower::{ForwardedHeader, TrustedProxies};
///
/// // nginx on the same host, or in a private network, appending X-Forwarded-For.
/// let proxies = TrustedProxies::ranges(
///     ForwardedHeader::XForwardedFor,
///     ["127.0.0.1".parse()?, "10.0.0.0/8".parse()?],
/// );
/// // Exactly one load balancer in front, whatever its address.
/// let cloud = TrustedProxies::hops(ForwardedHeader::Forwarded, 1);
/// # let _ = (proxies, cloud);
/// # Ok::<(), sse_tower::error::InvalidIpRange>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    trust: Trust,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Trust {
    /// No proxy: the peer is the client.
    #[default]
    Nobody,
    /// Peers and hops in these ranges are proxies.
    Ranges(ForwardedHeader, Vec<IpRange>),
    /// The peer and the `n - 1` hops it forwarded for are proxies.
    Hops(ForwardedHeader, usize),
}

impl TrustedProxies {
    /// No proxy: the peer address is the client address (the default).
    pub fn none() -> Self {
        Self::default()
    }

    /// Peers, and forwarded hops, within `ranges` are proxies that write `header`.
    pub fn ranges(header: ForwardedHeader, ranges: impl IntoIterator<Item = IpRange>) -> Self {
        Self {
            trust: Trust::Ranges(header, ranges.into_iter().collect()),
        }
    }

    /// Exactly `proxies` proxies stand in front of the server, the nearest being the peer,
    /// and they write `header`: the client is the `proxies`-th hop from the right. A request
    /// whose header has fewer hops gets no client address. Zero means no proxy.
    pub fn hops(header: ForwardedHeader, proxies: usize) -> Self {
        if proxies == 0 {
            return Self::none();
        }
        Self {
            trust: Trust::Hops(header, proxies),
        }
    }

    /// The client's address for a request from `peer` with `headers`: `None` when the hop
    /// that is the client is not an address.
    pub(crate) fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> Option<IpAddr> {
        match &self.trust {
            Trust::Nobody => Some(peer),
            Trust::Ranges(header, ranges) => {
                let trusted = |ip: IpAddr| ranges.iter().any(|range| range.0.contains(&ip));
                if !trusted(peer) {
                    return Some(peer);
                }
                let hops = forwarded_hops(headers, *header);
                let mut left_most = None;
                for hop in hops.iter().rev() {
                    match hop {
                        Some(ip) if trusted(*ip) => left_most = Some(*ip),
                        // The first hop that is not a proxy: the client, if it is an address.
                        other => return *other,
                    }
                }
                // Every hop is a proxy (or there is none): the request started at a proxy.
                Some(left_most.unwrap_or(peer))
            }
            Trust::Hops(header, proxies) => {
                let hops = forwarded_hops(headers, *header);
                hops.len()
                    .checked_sub(*proxies)
                    .and_then(|client| hops[client])
            }
        }
    }
}

/// A range of addresses in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`); a bare address is a
/// range of one.
///
/// # Examples
///
/// ```
/// use sse_tower::IpRange;
///
/// let private: IpRange = "10.0.0.0/8".parse()?;
/// let one: IpRange = "127.0.0.1".parse()?;
/// assert_eq!(one.to_string(), "127.0.0.1/32");
/// assert!("10.0.0.0/33".parse::<IpRange>().is_err());
/// # let _ = private;
/// # Ok::<(), sse_tower::error::InvalidIpRange>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpRange(ipnet::IpNet);

impl std::str::FromStr for IpRange {
    type Err = crate::error::InvalidIpRange;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let range = match s.parse::<ipnet::IpNet>() {
            Ok(range) => range,
            Err(_) => s.parse::<IpAddr>().map(ipnet::IpNet::from).map_err(|_| {
                crate::error::InvalidIpRange {
                    value: s.chars().take(64).collect(),
                }
            })?,
        };
        Ok(Self(range.trunc()))
    }
}

impl std::fmt::Display for IpRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The peer address and the client IP (through trusted proxies), read before anything else so
/// that every attempt counts against the connection rate.
pub(crate) fn client(parts: &Parts, config: &StreamConfig) -> (Option<SocketAddr>, Option<IpAddr>) {
    let peer = parts.extensions.get::<ClientAddr>().map(|a| a.0);
    let ip = peer.and_then(|peer| config.trusted_proxies.client_ip(peer.ip(), &parts.headers));
    (peer, ip)
}

/// The hops of `header`, left (oldest) to right: each an address, or `None` for one that is
/// not (`unknown`, an obfuscated identifier, garbage).
fn forwarded_hops(headers: &HeaderMap, header: ForwardedHeader) -> Vec<Option<IpAddr>> {
    let values = |name| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
    };
    match header {
        ForwardedHeader::Forwarded => values(header::FORWARDED.as_str())
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (key, value) = pair.trim().split_once('=')?;
                    key.trim()
                        .eq_ignore_ascii_case("for")
                        .then(|| parse_node(value.trim().trim_matches('"')))
                })
            })
            .collect(),
        ForwardedHeader::XForwardedFor => values("x-forwarded-for")
            .map(|node| parse_node(node.trim()))
            .collect(),
    }
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

/// The key of a client under per-address limits: the address, or for IPv6 its /64, which one
/// subscriber usually holds whole (so that a client cannot take a new address per request).
pub(crate) fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1_u128 << 64) - 1);
            IpAddr::V6(prefix.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::tests::headers;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn net(text: &str) -> IpRange {
        text.parse().unwrap()
    }

    #[test]
    fn client_ip_from_trusted_proxies_only() {
        let peer = ip("10.0.0.1");
        let xff = |ranges: &[&str]| {
            TrustedProxies::ranges(
                ForwardedHeader::XForwardedFor,
                ranges.iter().map(|r| net(r)),
            )
        };
        let h = headers(&[("x-forwarded-for", "203.0.113.7, 10.0.0.2")]);
        assert_eq!(TrustedProxies::none().client_ip(peer, &h), Some(peer));
        // An untrusted peer's header is ignored.
        assert_eq!(xff(&["10.9.0.0/16"]).client_ip(peer, &h), Some(peer));
        assert_eq!(
            xff(&["10.0.0.0/8"]).client_ip(peer, &h),
            Some(ip("203.0.113.7"))
        );
        // A spoofed left-most entry is not taken when the right-most untrusted one exists.
        let spoofed = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.7")]);
        assert_eq!(
            xff(&["10.0.0.1/32"]).client_ip(peer, &spoofed),
            Some(ip("203.0.113.7"))
        );
        let fwd = headers(&[(
            "forwarded",
            "for=192.0.2.60;proto=http, for=\"[2001:db8::1]:4711\"",
        )]);
        let forwarded = TrustedProxies::ranges(ForwardedHeader::Forwarded, [net("10.0.0.0/8")]);
        assert_eq!(forwarded.client_ip(peer, &fwd), Some(ip("2001:db8::1")));
        let everyone_but_the_v6 = TrustedProxies::ranges(
            ForwardedHeader::Forwarded,
            [net("10.0.0.0/8"), net("2001:db8::/32")],
        );
        assert_eq!(
            everyone_but_the_v6.client_ip(peer, &fwd),
            Some(ip("192.0.2.60"))
        );
        // Only proxies in the chain: the request started at the left-most one.
        let internal = headers(&[("x-forwarded-for", "10.0.0.3, 10.0.0.2")]);
        assert_eq!(
            xff(&["10.0.0.0/8"]).client_ip(peer, &internal),
            Some(ip("10.0.0.3"))
        );
        // No header from a trusted peer: the peer itself.
        assert_eq!(
            xff(&["10.0.0.0/8"]).client_ip(peer, &headers(&[])),
            Some(peer)
        );
    }

    #[test]
    fn a_client_cannot_choose_its_address_through_a_header_the_proxy_does_not_write() {
        let peer = ip("10.0.0.1");
        // The proxy appends to X-Forwarded-For; the client added a Forwarded of its own.
        let h = headers(&[
            ("forwarded", "for=1.2.3.4"),
            ("x-forwarded-for", "203.0.113.7"),
        ]);
        let proxies = TrustedProxies::ranges(ForwardedHeader::XForwardedFor, [net("10.0.0.1/32")]);
        assert_eq!(proxies.client_ip(peer, &h), Some(ip("203.0.113.7")));
    }

    #[test]
    fn a_hop_that_is_not_an_address_gives_no_client_address() {
        let peer = ip("10.0.0.1");
        let proxies = TrustedProxies::ranges(ForwardedHeader::Forwarded, [net("10.0.0.0/8")]);
        for value in [
            "for=unknown",
            "for=_hidden",
            "for=not-an-ip",
            "for=1.2.3.4, for=unknown",
        ] {
            let h = headers(&[("forwarded", value)]);
            assert_eq!(proxies.client_ip(peer, &h), None, "{value}");
        }
        let h = headers(&[("forwarded", "for=unknown, for=203.0.113.7")]);
        assert_eq!(proxies.client_ip(peer, &h), Some(ip("203.0.113.7")));
    }

    #[test]
    fn trusting_a_number_of_hops_takes_the_hop_the_last_proxy_saw() {
        let two = TrustedProxies::hops(ForwardedHeader::XForwardedFor, 2);
        let peer = ip("198.51.100.1");
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 198.51.100.9")]);
        assert_eq!(two.client_ip(peer, &h), Some(ip("203.0.113.7")));
        let short = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(two.client_ip(peer, &short), None);
        let one = TrustedProxies::hops(ForwardedHeader::XForwardedFor, 1);
        assert_eq!(one.client_ip(peer, &h), Some(ip("198.51.100.9")));
        assert_eq!(
            TrustedProxies::hops(ForwardedHeader::XForwardedFor, 0),
            TrustedProxies::none()
        );
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64_bit_prefix() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(limit_key(ip("2001:db8:1:2:ffff::9")), ip("2001:db8:1:2::"));
        assert_ne!(limit_key(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
        assert_eq!(limit_key(ip("192.0.2.1")), ip("192.0.2.1"));
    }
}
