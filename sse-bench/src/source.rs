//! Loopback source addresses for the generator's sockets.

use std::{
    net::Ipv4Addr,
    sync::{
        OnceLock,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
};

/// Sockets bound to one source address before moving to the next.
const PER_ADDRESS: u64 = 2000;
/// Source addresses in rotation: `127.0.0.1` to `127.0.253.254`.
const ADDRESSES: u64 = 254 * 254;

static NEXT: OnceLock<AtomicU64> = OnceLock::new();

/// The loopback address the next client socket binds to.
///
/// A source address has about 28k ephemeral ports, and ports closed by the client stay in
/// `TIME_WAIT` for a minute; spreading sockets over 64,516 loopback addresses
/// (2000 sockets each, starting at an address chosen from the process id so that consecutive
/// runs do not meet each other's `TIME_WAIT` ports) keeps every connect from failing with
/// `EADDRNOTAVAIL`, however many runs follow each other.
///
/// # Examples
///
/// ```
/// let ip = sse_bench::next_source();
/// assert!(ip.is_loopback());
/// ```
pub fn next_source() -> Ipv4Addr {
    let count = NEXT
        .get_or_init(|| AtomicU64::new(u64::from(std::process::id()) % 1000 * 8 * PER_ADDRESS))
        .fetch_add(1, Relaxed);
    let index = count / PER_ADDRESS % ADDRESSES;
    let third = u8::try_from(index / 254).unwrap_or(0);
    let fourth = u8::try_from(index % 254 + 1).unwrap_or(1);
    Ipv4Addr::new(127, 0, third, fourth)
}
