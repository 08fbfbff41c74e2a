//! A message in the wire format's JSON, encoded by the hub: never a panic; what encodes
//! decodes back, through an independent SSE parser, to the message's own data, and crosses
//! the transport format unchanged.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sse_hub::{Cursor, Entry, Envelope, Hub, Message, testing::decode};

fn hub() -> &'static Hub {
    static HUB: OnceLock<Hub> = OnceLock::new();
    HUB.get_or_init(Hub::new)
}

fuzz_target!(|data: &[u8]| {
    let Ok(message) = serde_json::from_slice::<Message>(data) else {
        return;
    };
    let payload = message.data().clone();
    let Ok(envelope) = hub().encode(message) else {
        return;
    };
    let entry = Entry::new(Cursor::new(1, 2, 3), std::sync::Arc::new(envelope.clone()));
    let events = decode(entry.frame());
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].id, "1-2-3");
    assert_eq!(events[0].payload(), payload);
    let back = Envelope::from_transport(&envelope.to_transport()).expect("round trip");
    assert_eq!(back.body(), envelope.body());
});
