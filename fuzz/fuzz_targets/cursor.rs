//! The cursor parser (`Last-Event-ID`): never panics, and what it accepts prints back to
//! itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sse_hub::Cursor;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cursor) = text.parse::<Cursor>() {
        let printed = cursor.to_string();
        assert_eq!(printed.parse::<Cursor>().unwrap(), cursor);
        assert!(printed.bytes().all(|b| b.is_ascii_digit() || b == b'-'));
    }
});
