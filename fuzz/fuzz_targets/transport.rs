//! Decoding a log entry as a shared backplane (Redis) carries it: never a panic, and what
//! decodes encodes back to an envelope with the same frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sse_hub::Envelope;

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = Envelope::from_transport(data) {
        let again = Envelope::from_transport(&envelope.to_transport()).expect("round trip");
        assert_eq!(again.body(), envelope.body());
        assert_eq!(again.id(), envelope.id());
    }
});
