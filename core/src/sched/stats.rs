//! Counters and the queue-wait summary (its histogram is
//! [`crate::util::histogram`]).

use std::time::Duration;

use crate::Priority;
use crate::util::histogram::Histogram;

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
/// Percentiles follow the crate's one convention (nearest rank, reported as
/// the upper bound of a log-linear bucket, capped at the largest value):
/// never below the true value and at most 12.5 % above it. The mean is
/// exact.
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

impl WaitStats {
    /// The summary of what `h` recorded.
    pub(crate) fn of(h: &Histogram) -> Self {
        let s = h.snapshot();
        WaitStats {
            count: s.count(),
            mean: s.mean(),
            p50: s.quantile(0.50),
            p99: s.quantile(0.99),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_a_known_distribution() {
        let h = Histogram::new();
        for _ in 0..99 {
            h.record(Duration::ZERO);
        }
        h.record(Duration::from_secs(1));
        let s = WaitStats::of(&h);
        assert_eq!(
            (s.count, s.p50, s.p99),
            (100, Duration::ZERO, Duration::ZERO)
        );
        assert_eq!(s.mean, Duration::from_millis(10));
        h.record(Duration::from_secs(1));
        assert_eq!(WaitStats::of(&h).p99, Duration::from_secs(1));
    }
}
