//! The stream request's query (`channels`, `channel`, `lastEventId`) and `Last-Event-ID`
//! header: never a panic, a refusal is a 4xx with a JSON body, and a stream subscribes only to
//! channels the endpoint serves.
#![no_main]

#[path = "common.rs"]
mod common;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sse_hub::{Channel, Hub};
use sse_tower::{SseService, StreamConfig};

fn service() -> &'static SseService {
    static SERVICE: OnceLock<SseService> = OnceLock::new();
    SERVICE.get_or_init(|| {
        SseService::new(
            Hub::new(),
            StreamConfig::new([Channel::CHAT, Channel::ALERTS, Channel::SYSTEM]),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (query, header) = (&data[..split], data.get(split + 1..).unwrap_or_default());
    let Ok(query) = std::str::from_utf8(query) else {
        return;
    };
    let Ok(uri) = http::Uri::try_from(format!("/?{query}")) else {
        return;
    };
    let mut request = http::Request::get(uri);
    if let Ok(value) = http::HeaderValue::from_bytes(header) {
        request = request.header("last-event-id", value);
    }
    let response = common::answer(service(), request.body(()).unwrap());
    if response.status() == 200 {
        // The connection lives as long as its body.
        let body = response.into_body();
        let id = body.connection_id().expect("a stream");
        let info = service().hub().connection_info(id).expect("open");
        for channel in &info.channels {
            assert!(service().config().channels().contains(channel));
        }
    }
});
