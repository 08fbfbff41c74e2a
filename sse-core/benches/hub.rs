//! Criterion benchmarks of the hub.

fn main() {}
