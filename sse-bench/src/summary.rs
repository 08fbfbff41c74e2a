//! Percentiles of a set of durations.

use serde::Serialize;

/// The distribution of a set of durations, in microseconds (nearest-rank percentiles).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    /// How many values.
    pub count: usize,
    /// The median.
    pub p50: f64,
    /// The 90th percentile.
    pub p90: f64,
    /// The 99th percentile.
    pub p99: f64,
    /// The largest value.
    pub max: f64,
    /// The mean.
    pub mean: f64,
}

impl Percentiles {
    /// The percentiles of `nanos`, a set of durations in nanoseconds (sorted in place); `None`
    /// when it is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut nanos: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
    /// let p = sse_bench::Percentiles::of(&mut nanos).unwrap();
    /// assert_eq!((p.p50, p.p99, p.max), (50.0, 99.0, 100.0));
    /// ```
    pub fn of(nanos: &mut [u64]) -> Option<Self> {
        if nanos.is_empty() {
            return None;
        }
        nanos.sort_unstable();
        let n = nanos.len();
        let rank = |p: f64| {
            let i = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
            micros(nanos[i])
        };
        let sum: u128 = nanos.iter().map(|&v| u128::from(v)).sum();
        Some(Self {
            count: n,
            p50: rank(0.50),
            p90: rank(0.90),
            p99: rank(0.99),
            max: micros(nanos[n - 1]),
            mean: round((sum as f64 / n as f64) / 1000.0),
        })
    }
}

fn micros(nanos: u64) -> f64 {
    round(nanos as f64 / 1000.0)
}

/// Rounds to a tenth.
fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}
