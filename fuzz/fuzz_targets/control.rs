//! Reading what arrives on the control path between instances (commands, answers and
//! statistics snapshots, as JSON from Redis pub/sub and keys): never a panic, and what reads
//! writes back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sse_hub::cluster::{Answer, Command, InstanceStats};

fn round_trip<T>(data: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    if let Ok(value) = serde_json::from_slice::<T>(data) {
        let json = serde_json::to_vec(&value).expect("what was read writes");
        let again: T = serde_json::from_slice(&json).expect("what was written reads");
        assert_eq!(again, value);
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip::<Command>(data);
    round_trip::<Answer>(data);
    round_trip::<InstanceStats>(data);
});
