//! The SSE encoder: any id, event name and data either is refused (CR, LF or NUL in the id or
//! name) or decodes back, through an independent parser, to exactly those fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sse_hub::{FrameBuilder, testing::decode};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(3, '\u{1f}');
    let (id, event, body) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let Ok(frame) = FrameBuilder::new().id(id) else {
        return;
    };
    let Ok(frame) = frame.event(event) else {
        return;
    };
    let bytes = frame.data(body).finish();
    let events = decode(&bytes);
    assert_eq!(events.len(), 1, "{bytes:?}");
    assert_eq!(events[0].id, id);
    let expected_name = if event.is_empty() { "message" } else { event };
    assert_eq!(events[0].event, expected_name);
    assert_eq!(
        events[0].data,
        body.replace("\r\n", "\n").replace('\r', "\n")
    );
});
