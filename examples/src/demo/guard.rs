//! What the demo refuses before any handler runs: requests for host names it does not serve
//! (DNS rebinding), writes that are not JSON, writes authenticated by the cookie from another
//! origin (cross-site request forgery), and sign-in attempts beyond a rate.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, Method, StatusCode, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use sse_tower::error::Rejection;

use super::{
    AppState,
    auth::{ApiError, TokenSource, token},
};

/// The host names the demo answers for.
#[derive(Debug, Clone, Default)]
pub enum Hosts {
    /// Any (the demo listens on a non-loopback address, whose names it cannot know).
    #[default]
    Any,
    /// The loopback names, on this port: a page on another name that resolves to the loopback
    /// address (DNS rebinding) gets nothing.
    Loopback {
        /// The port the demo listens on.
        port: u16,
    },
}

impl Hosts {
    /// The policy for a demo listening on `addr`.
    pub fn for_listener(addr: SocketAddr) -> Self {
        if addr.ip().is_loopback() {
            Self::Loopback { port: addr.port() }
        } else {
            Self::Any
        }
    }

    /// Whether a request with this `Host` header is answered.
    fn allows(&self, host: Option<&str>) -> Result<(), String> {
        let Self::Loopback { port } = self else {
            return Ok(());
        };
        let Some(host) = host else {
            return Err("the request names no host".to_owned());
        };
        let (name, given_port) = split_host(host);
        let loopback = name.eq_ignore_ascii_case("localhost")
            || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if !loopback {
            return Err(format!("this server does not answer for host {name}"));
        }
        match given_port {
            Some(given) if given != *port => {
                Err(format!("this server does not answer on port {given}"))
            }
            _ => Ok(()),
        }
    }
}

/// `name` and port of a `Host` value: `localhost:3000`, `[::1]:3000`, `127.0.0.1`.
fn split_host(host: &str) -> (&str, Option<u16>) {
    if let Some(rest) = host.strip_prefix('[') {
        let (name, after) = rest.split_once(']').unwrap_or((rest, ""));
        return (name, after.strip_prefix(':').and_then(|p| p.parse().ok()));
    }
    match host.rsplit_once(':') {
        Some((name, port)) => (name, port.parse().ok()),
        None => (host, None),
    }
}

/// Refuses requests for host names the demo does not serve, with 421 and a JSON body.
pub async fn check_host(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    if let Err(message) = state.hosts.allows(host) {
        return ApiError(Rejection::new(
            StatusCode::MISDIRECTED_REQUEST,
            "invalid_host",
            message,
        ))
        .into_response();
    }
    next.run(request).await
}

/// Refuses writes (any method but `GET`, `HEAD` and `OPTIONS`) whose body is not JSON (415),
/// and writes authenticated by the sign-in cookie that come from another origin (403).
///
/// A browser sends the cookie with requests that pages of the same site make, and a
/// `text/plain` or form `POST` needs no permission from the server: without these checks,
/// such a page could publish with an admin's cookie. A bearer token is never sent by the
/// browser on its own, so bearer requests are not checked for their origin.
pub async fn check_write(request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let json = if has_body(&parts.headers) {
        sse_tower::publish::require_json(&parts.headers)
    } else {
        Ok(())
    };
    if let Err(refused) = json {
        return ApiError(refused).into_response();
    }
    if matches!(token(&parts), Some((_, TokenSource::Cookie))) && !same_origin(&parts) {
        return ApiError(Rejection::new(
            StatusCode::FORBIDDEN,
            "cross_origin",
            "cross-origin writes are not allowed",
        ))
        .into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|len| len.trim() != "0")
}

/// Whether the browser says the request comes from the demo's own pages: `Sec-Fetch-Site`
/// (modern browsers) must be `same-origin` or `none` (typed by the user), and `Origin`, when
/// sent, must name this host. A request with neither is not a browser's cross-origin request.
fn same_origin(parts: &Parts) -> bool {
    let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site").is_some_and(|site| !matches!(site, "same-origin" | "none")) {
        return false;
    }
    match (header("origin"), header("host")) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host)),
        (Some(_), None) => false,
    }
}

/// Failed sign-ins per client address: ten a minute, after which every attempt from that
/// address is refused until the minute is over, so tokens cannot be guessed at speed.
#[derive(Debug, Clone)]
pub struct LoginLimit {
    window: Duration,
    max_failures: u32,
    failures: Arc<Mutex<HashMap<IpAddr, (Instant, u32)>>>,
}

impl Default for LoginLimit {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(60),
            max_failures: 10,
            failures: Arc::default(),
        }
    }
}

impl LoginLimit {
    /// `Err(retry after)` when `ip` has used up its failures in the current window.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        match self.table().get(&ip) {
            Some((start, count)) if now < *start + self.window && *count >= self.max_failures => {
                Err(*start + self.window - now)
            }
            _ => Ok(()),
        }
    }

    fn table(&self) -> MutexGuard<'_, HashMap<IpAddr, (Instant, u32)>> {
        // A panic while the table was held leaves it consistent: every update is one step.
        self.failures.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a failed attempt from `ip`.
    pub fn failed(&self, ip: IpAddr) {
        let now = Instant::now();
        let mut failures = self.table();
        // Bounded: windows that are over are forgotten once the table grows.
        if failures.len() > 4096 {
            failures.retain(|_, (start, _)| now < *start + self.window);
        }
        let entry = failures.entry(ip).or_insert((now, 0));
        if now >= entry.0 + self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
}

/// The client's address, from the server's connection info.
pub fn client_ip(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_on_the_listening_port_only() {
        let hosts = Hosts::Loopback { port: 3000 };
        for ok in [
            "localhost:3000",
            "127.0.0.1:3000",
            "[::1]:3000",
            "LOCALHOST",
            "127.0.0.2:3000",
        ] {
            assert_eq!(hosts.allows(Some(ok)), Ok(()), "{ok}");
        }
        assert_eq!(
            hosts.allows(Some("evil.example:3000")),
            Err("this server does not answer for host evil.example".to_owned())
        );
        assert_eq!(
            hosts.allows(Some("localhost:4000")),
            Err("this server does not answer on port 4000".to_owned())
        );
        assert!(hosts.allows(None).is_err());
        assert_eq!(Hosts::Any.allows(Some("evil.example")), Ok(()));
    }
}
