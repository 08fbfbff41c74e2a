//! The client address behind trusted proxies (`Forwarded`, `X-Forwarded-For`): never a panic,
//! and the address a connection gets is the peer's or one written in the trusted header.
#![no_main]

#[path = "common.rs"]
mod common;

use std::{net::SocketAddr, sync::OnceLock};

use libfuzzer_sys::fuzz_target;
use sse_hub::{Channel, Hub};
use sse_tower::{ClientAddr, ForwardedHeader, SseService, StreamConfig, TrustedProxies};

const PEER: &str = "10.0.0.1:4000";

fn services() -> &'static [(ForwardedHeader, SseService); 2] {
    static SERVICES: OnceLock<[(ForwardedHeader, SseService); 2]> = OnceLock::new();
    SERVICES.get_or_init(|| {
        let service = |header| {
            let proxies = TrustedProxies::ranges(header, ["10.0.0.0/8".parse().unwrap()]);
            (
                header,
                SseService::new(
                    Hub::new(),
                    StreamConfig::new([Channel::CHAT]).trusted_proxies(proxies),
                ),
            )
        };
        [
            service(ForwardedHeader::Forwarded),
            service(ForwardedHeader::XForwardedFor),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = http::HeaderValue::from_bytes(data) else {
        return;
    };
    let peer: SocketAddr = PEER.parse().unwrap();
    for (header, service) in services() {
        let name = match header {
            ForwardedHeader::Forwarded => "forwarded",
            _ => "x-forwarded-for",
        };
        let request = http::Request::get("/")
            .header(name, value.clone())
            .extension(ClientAddr(peer))
            .body(())
            .unwrap();
        let response = common::answer(service, request);
        // The connection lives as long as its body.
        let body = response.into_body();
        let id = body.connection_id().expect("a stream");
        let addr = service
            .hub()
            .connection_info(id)
            .unwrap()
            .client_addr
            .unwrap();
        let text = String::from_utf8_lossy(data).to_ascii_lowercase();
        let ip = addr.ip().to_string();
        assert!(
            addr.ip() == peer.ip() || text.contains(&ip) || ip.contains(':'),
            "{ip} is neither the peer nor in {text:?}"
        );
    }
});
