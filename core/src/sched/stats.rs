//! Counters and the queue-wait histogram.

use std::time::Duration;

use crate::Priority;

/// A snapshot of a scheduler's counters.
///
/// Every accepted job ends in exactly one of `completed`, `failed`,
/// `cancelled` or `expired`, so once the scheduler is idle
/// `accepted == completed + failed + cancelled + expired` holds.
///
/// ```
/// use weir_core::sched::SchedStats;
/// let s = SchedStats::default();
/// assert_eq!(s.pending(), 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SchedStats {
    /// Jobs waiting to start (ready or delayed), by priority, highest
    /// first; priorities without waiting jobs are left out.
    pub pending_by_priority: Vec<(Priority, usize)>,
    /// Jobs waiting for their start time (a subset of the pending ones).
    pub delayed: usize,
    /// Jobs running now.
    pub running: usize,
    /// Submissions accepted.
    pub accepted: u64,
    /// Jobs whose future ran to its end.
    pub completed: u64,
    /// Jobs whose future panicked.
    pub failed: u64,
    /// Jobs cancelled through their handle or by an aborting shutdown.
    pub cancelled: u64,
    /// Jobs whose deadline passed before they started.
    pub expired: u64,
    /// Submissions refused (queue full or shut down).
    pub rejected: u64,
    /// How long started jobs waited between becoming ready and starting.
    pub queue_wait: WaitStats,
}

impl SchedStats {
    /// All jobs waiting to start.
    ///
    /// ```
    /// use weir_core::{Priority, sched::SchedStats};
    /// let mut s = SchedStats::default();
    /// s.pending_by_priority = vec![(Priority::HIGH, 2), (Priority::LOW, 3)];
    /// assert_eq!(s.pending(), 5);
    /// ```
    pub fn pending(&self) -> usize {
        self.pending_by_priority.iter().map(|&(_, n)| n).sum()
    }
}

/// Summary of a duration distribution: count, mean and two percentiles.
///
/// Percentiles come from a fixed-size log-linear histogram and are the
/// lower bound of their bucket: at most 12.5 % below the true value, never
/// above it. The mean is exact.
///
/// ```
/// let w = weir_core::sched::WaitStats::default();
/// assert_eq!(w.count, 0);
/// assert_eq!(w.p99, std::time::Duration::ZERO);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitStats {
    /// How many durations were recorded.
    pub count: u64,
    /// Their mean.
    pub mean: Duration,
    /// The median.
    pub p50: Duration,
    /// The 99th percentile.
    pub p99: Duration,
}

/// Values below this are counted exactly, one bucket each.
const EXACT: u64 = 16;
/// Sub-buckets per power of two above `EXACT` (three bits of mantissa).
const SUB_BITS: u32 = 3;
const BUCKETS: usize = EXACT as usize + (64 - 4) * (1 << SUB_BITS);

/// A fixed-size histogram of nanosecond values: recording never allocates.
pub(crate) struct Histogram {
    counts: Box<[u64; BUCKETS]>,
    total: u64,
    sum_nanos: u128,
}

impl Histogram {
    pub(crate) fn new() -> Self {
        Histogram {
            counts: Box::new([0; BUCKETS]),
            total: 0,
            sum_nanos: 0,
        }
    }

    fn index(v: u64) -> usize {
        if v < EXACT {
            return v as usize;
        }
        let exp = 63 - v.leading_zeros(); // >= 4
        let sub = (v >> (exp - SUB_BITS)) & ((1 << SUB_BITS) - 1);
        EXACT as usize + ((exp - 4) as usize) * (1 << SUB_BITS) + sub as usize
    }

    fn lower_bound(index: usize) -> u64 {
        if index < EXACT as usize {
            return index as u64;
        }
        let i = index - EXACT as usize;
        let exp = (i >> SUB_BITS) as u32 + 4;
        let sub = (i & ((1 << SUB_BITS) - 1)) as u64;
        (1u64 << exp) | (sub << (exp - SUB_BITS))
    }

    pub(crate) fn record(&mut self, d: Duration) {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.counts[Self::index(nanos)] += 1;
        self.total += 1;
        self.sum_nanos += u128::from(nanos);
    }

    fn percentile(&self, q: f64) -> Duration {
        if self.total == 0 {
            return Duration::ZERO;
        }
        // The smallest value with at least q of all values at or below it.
        let rank = ((self.total as f64 * q).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Duration::from_nanos(Self::lower_bound(i));
            }
        }
        Duration::ZERO
    }

    pub(crate) fn summary(&self) -> WaitStats {
        let mean = if self.total == 0 {
            Duration::ZERO
        } else {
            let m = self.sum_nanos / u128::from(self.total);
            Duration::from_nanos(u64::try_from(m).unwrap_or(u64::MAX))
        };
        WaitStats {
            count: self.total,
            mean,
            p50: self.percentile(0.50),
            p99: self.percentile(0.99),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut h = Histogram::new();
        for _ in 0..99 {
            h.record(Duration::ZERO);
        }
        h.record(Duration::from_secs(1));
        let s = h.summary();
        assert_eq!(s.count, 100);
        assert_eq!(s.p50, Duration::ZERO);
        assert_eq!(s.p99, Duration::ZERO);
        assert_eq!(s.mean, Duration::from_millis(10));
        h.record(Duration::from_secs(1));
        let p99 = h.summary().p99;
        assert!(p99 <= Duration::from_secs(1) && p99 >= Duration::from_millis(875));
    }

    proptest! {
        #[test]
        fn bucket_bounds_hold(v in any::<u64>()) {
            let i = Histogram::index(v);
            prop_assert!(i < BUCKETS);
            let lo = Histogram::lower_bound(i);
            prop_assert!(lo <= v);
            prop_assert!(v - lo <= lo / 8, "v={v} lo={lo}");
            prop_assert_eq!(Histogram::index(lo), i);
        }

        #[test]
        fn percentile_matches_sorted_model(mut vs in proptest::collection::vec(0u64..1_000_000_000, 1..200)) {
            let mut h = Histogram::new();
            for &v in &vs { h.record(Duration::from_nanos(v)); }
            vs.sort_unstable();
            let rank = ((vs.len() as f64 * 0.5).ceil() as usize).max(1);
            let exact = vs[rank - 1];
            let got = h.summary().p50.as_nanos() as u64;
            prop_assert!(got <= exact && exact - got <= got / 8 + 1, "exact={exact} got={got}");
        }
    }
}
