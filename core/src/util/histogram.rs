//! One histogram of durations, with one quantile convention, for every
//! component that reports percentiles (the scheduler's queue wait, the
//! worker pool's task time, the hedge's learned delay).
//!
//! # Buckets
//!
//! Log-linear over nanoseconds: values below [`EXACT`] have a bucket each;
//! above, every power of two is cut into eight equal sub-buckets (three
//! bits of mantissa), up to `u64::MAX` ns. So a bucket holding `v` is at
//! most `v / 8` wide, and the histogram is a fixed array: recording never
//! allocates and never takes a lock.
//!
//! # The quantile convention
//!
//! [`Snapshot::quantile`]`(q)` is the *nearest rank*: the smallest recorded
//! value `x` such that at least `ceil(q * count)` recorded values are
//! `<= x` (rank clamped to `1..=count`). It reports that value as the upper
//! bound of its bucket, capped at the largest value recorded. So, with `x`
//! the exact nearest-rank value,
//!
//! `x <= quantile(q) <= x + x / 8` (and `quantile(1.0)` is the maximum
//! exactly; values below 16 ns are exact).
//!
//! Never below the truth: a hedge placed at the p95 waits at least as long
//! as the p95 of what was seen, and a reported p99 is an upper bound, as
//! HdrHistogram reports its percentiles.
//!
//! # Concurrency
//!
//! Every counter is an independent relaxed atomic with no protocol between
//! them: a snapshot taken while others record may miss some of their
//! records (each counter is read once), which only nudges a statistic. That
//! is why they are std's atomics and not the loom shim's: there is nothing
//! for a model to check, and a model would have to track every bucket.

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

/// Values below this are counted exactly, one bucket each.
const EXACT: u64 = 16;
/// Sub-buckets per power of two at and above `EXACT`.
const SUB_BITS: u32 = 3;
/// `EXACT` exact buckets, then eight for each exponent from 4 to 63.
const BUCKETS: usize = EXACT as usize + (64 - 4) * (1 << SUB_BITS);

/// The bucket of `v` nanoseconds.
fn index(v: u64) -> usize {
    if v < EXACT {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros(); // >= 4, as v >= 16
    let sub = (v >> (exp - SUB_BITS)) & ((1 << SUB_BITS) - 1);
    EXACT as usize + ((exp - 4) as usize) * (1 << SUB_BITS) + sub as usize
}

/// The smallest value in bucket `i`.
fn lower_bound(i: usize) -> u64 {
    if i < EXACT as usize {
        return i as u64;
    }
    let j = i - EXACT as usize;
    let exp = (j >> SUB_BITS) as u32 + 4;
    let sub = (j & ((1 << SUB_BITS) - 1)) as u64;
    (1u64 << exp) | (sub << (exp - SUB_BITS))
}

/// The largest value in bucket `i`.
fn upper_bound(i: usize) -> u64 {
    if i + 1 == BUCKETS {
        u64::MAX
    } else {
        lower_bound(i + 1) - 1
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A lock-free histogram of durations: record from any thread, read a
/// [`Snapshot`] at any time. About 4 KiB, fixed.
pub(crate) struct Histogram {
    buckets: [AtomicU64; BUCKETS],
    /// Sum of all recorded nanoseconds (wrapping: 584 years of total).
    sum: AtomicU64,
    max: AtomicU64,
}

impl Histogram {
    pub(crate) fn new() -> Self {
        Histogram {
            buckets: core::array::from_fn(|_| AtomicU64::new(0)),
            sum: AtomicU64::new(0),
            max: AtomicU64::new(0),
        }
    }

    /// Counts `d` (saturating at `u64::MAX` ns). Three relaxed atomic
    /// operations, no allocation.
    pub(crate) fn record(&self, d: Duration) {
        let ns = nanos(d);
        self.buckets[index(ns)].fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(ns, Ordering::Relaxed);
        self.max.fetch_max(ns, Ordering::Relaxed);
    }

    /// The counts as they are now.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let mut s = Snapshot::new();
        self.add_to(&mut s);
        s
    }

    /// Adds this histogram's counts to `into` (to sum several histograms,
    /// as the worker pool sums its threads').
    pub(crate) fn add_to(&self, into: &mut Snapshot) {
        for (sum, b) in into.buckets.iter_mut().zip(&self.buckets) {
            *sum += b.load(Ordering::Relaxed);
        }
        into.sum = into.sum.wrapping_add(self.sum.load(Ordering::Relaxed));
        into.max = into.max.max(self.max.load(Ordering::Relaxed));
    }
}

impl fmt::Debug for Histogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.snapshot().fmt(f)
    }
}

/// Plain counts read out of one or more [`Histogram`]s.
#[derive(Clone)]
pub(crate) struct Snapshot {
    buckets: [u64; BUCKETS],
    sum: u64,
    max: u64,
}

impl Snapshot {
    /// No values.
    pub(crate) fn new() -> Self {
        Snapshot {
            buckets: [0; BUCKETS],
            sum: 0,
            max: 0,
        }
    }

    /// How many values were recorded.
    pub(crate) fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// The exact mean (zero when empty).
    pub(crate) fn mean(&self) -> Duration {
        match self.count() {
            0 => Duration::ZERO,
            n => Duration::from_nanos(self.sum / n),
        }
    }

    /// The `q` quantile by the module's convention (nearest rank, reported
    /// as its bucket's upper bound capped at the maximum); zero when empty.
    /// `q` outside `0.0..=1.0` (or NaN) is taken as the nearest end.
    pub(crate) fn quantile(&self, q: f64) -> Duration {
        let n = self.count();
        if n == 0 {
            return Duration::ZERO;
        }
        // `as` saturates, and NaN becomes 0, which the clamp lifts to rank 1.
        let rank = ((n as f64 * q).ceil() as u64).clamp(1, n);
        let mut seen = 0;
        for (i, &c) in self.buckets.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Duration::from_nanos(upper_bound(i).min(self.max));
            }
        }
        unreachable!("the ranks are clamped to the count")
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("count", &self.count())
            .field("mean", &self.mean())
            .field("p50", &self.quantile(0.5))
            .field("p99", &self.quantile(0.99))
            .field("max", &Duration::from_nanos(self.max))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The nearest-rank quantile of a sorted, non-empty slice.
    fn model(sorted: &[u64], q: f64) -> u64 {
        let n = sorted.len();
        let rank = ((n as f64 * q).ceil() as usize).clamp(1, n);
        sorted[rank - 1]
    }

    #[test]
    fn empty_reads_zero() {
        let s = Histogram::new().snapshot();
        assert_eq!(s.count(), 0);
        assert_eq!(s.mean(), Duration::ZERO);
        assert_eq!(s.quantile(0.99), Duration::ZERO);
    }

    #[test]
    fn a_known_distribution() {
        let h = Histogram::new();
        for _ in 0..99 {
            h.record(Duration::from_millis(10));
        }
        h.record(Duration::from_secs(1));
        let s = h.snapshot();
        assert_eq!(s.count(), 100);
        assert_eq!(
            s.mean(),
            Duration::from_nanos((99 * 10_000_000 + 1_000_000_000) / 100)
        );
        // 10 ms lies in the bucket [9.44 ms, 10.49 ms]; the upper bound is reported.
        assert_eq!(s.quantile(0.5), Duration::from_nanos(10_485_759));
        assert_eq!(s.quantile(0.99), Duration::from_nanos(10_485_759));
        // The top rank is the maximum, exactly.
        assert_eq!(s.quantile(1.0), Duration::from_secs(1));
        assert_eq!(s.quantile(f64::NAN), Duration::from_nanos(10_485_759));
    }

    #[test]
    fn saturates_at_the_top() {
        let h = Histogram::new();
        h.record(Duration::MAX);
        let s = h.snapshot();
        assert_eq!(s.quantile(0.5), Duration::from_nanos(u64::MAX));
    }

    #[test]
    fn snapshots_add_up() {
        let (a, b) = (Histogram::new(), Histogram::new());
        a.record(Duration::from_nanos(3));
        b.record(Duration::from_nanos(5));
        b.record(Duration::from_nanos(7));
        let mut s = a.snapshot();
        b.add_to(&mut s);
        assert_eq!(s.count(), 3);
        assert_eq!(s.mean(), Duration::from_nanos(5));
        assert_eq!(s.quantile(0.5), Duration::from_nanos(5));
        assert_eq!(s.quantile(1.0), Duration::from_nanos(7));
    }

    proptest! {
        #[test]
        fn buckets_tile_the_range(v in any::<u64>()) {
            let i = index(v);
            prop_assert!(i < BUCKETS);
            let (lo, hi) = (lower_bound(i), upper_bound(i));
            prop_assert!(lo <= v && v <= hi);
            prop_assert!(hi - lo <= lo / 8, "v={v} lo={lo} hi={hi}");
            prop_assert_eq!(index(lo), i);
            prop_assert_eq!(index(hi), i);
            if i + 1 < BUCKETS {
                prop_assert_eq!(index(hi + 1), i + 1);
            }
        }

        #[test]
        fn quantiles_match_the_sorted_model(
            mut vs in proptest::collection::vec(
                prop_oneof![0u64..64, 0u64..10_000_000_000, any::<u64>()], 1..300),
            q in 0.0f64..=1.0,
        ) {
            let h = Histogram::new();
            for &v in &vs {
                h.record(Duration::from_nanos(v));
            }
            vs.sort_unstable();
            let s = h.snapshot();
            prop_assert_eq!(s.count(), vs.len() as u64);
            let sum = vs.iter().fold(0u64, |a, &v| a.wrapping_add(v));
            prop_assert_eq!(s.mean(), Duration::from_nanos(sum / vs.len() as u64));
            for q in [q, 0.0, 0.5, 0.99, 1.0] {
                let exact = model(&vs, q);
                let got = nanos(s.quantile(q));
                prop_assert!(
                    exact <= got && got - exact <= exact / 8,
                    "q={q} exact={exact} got={got}"
                );
            }
            prop_assert_eq!(nanos(s.quantile(1.0)), *vs.last().unwrap());
        }
    }
}
