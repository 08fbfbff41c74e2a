//! Percentiles of a set of durations, and the spread of one figure over repeated runs.

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

/// The smallest, median and largest of one figure over repeated runs (the median of an even
/// count is the mean of the middle two).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Spread {
    pub(crate) min: f64,
    pub(crate) median: f64,
    pub(crate) max: f64,
    pub(crate) count: usize,
}

impl Spread {
    /// The spread of `values`; `None` when there are none.
    pub(crate) fn of(values: impl IntoIterator<Item = f64>) -> Option<Self> {
        let mut values: Vec<f64> = values.into_iter().collect();
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        };
        Some(Self {
            min: values[0],
            median,
            max: values[n - 1],
            count: n,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spread_has_its_median_in_the_middle() {
        let odd = Spread::of([3.0, 1.0, 2.0]).unwrap();
        assert_eq!(
            (odd.min, odd.median, odd.max, odd.count),
            (1.0, 2.0, 3.0, 3)
        );
        let even = Spread::of([4.0, 1.0, 2.0, 10.0]).unwrap();
        assert_eq!((even.min, even.median, even.max), (1.0, 3.0, 10.0));
        let one = Spread::of([7.5]).unwrap();
        assert_eq!(
            (one.min, one.median, one.max, one.count),
            (7.5, 7.5, 7.5, 1)
        );
        assert_eq!(Spread::of([]), None);
    }
}
