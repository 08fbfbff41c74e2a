//! `Accept` negotiation: never a panic; only 200 or 406.
#![no_main]

#[path = "common.rs"]
mod common;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sse_hub::{Channel, Hub};
use sse_tower::{SseService, StreamConfig};

fn service() -> &'static SseService {
    static SERVICE: OnceLock<SseService> = OnceLock::new();
    SERVICE.get_or_init(|| SseService::new(Hub::new(), StreamConfig::new([Channel::CHAT])))
}

fuzz_target!(|data: &[u8]| {
    let mut request = http::Request::get("/");
    for value in data.split(|&b| b == b'\n') {
        if let Ok(value) = http::HeaderValue::from_bytes(value) {
            request = request.header("accept", value);
        }
    }
    let response = common::answer(service(), request.body(()).unwrap());
    assert!(matches!(response.status().as_u16(), 200 | 406));
});
