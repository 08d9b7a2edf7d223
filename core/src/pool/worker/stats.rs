//! Counters and the task-time histogram.
//!
//! Each worker thread writes its own [`WorkerStats`] (single writer, so a
//! relaxed load and store instead of a contended read-modify-write for the
//! counters; task times go to a shared-convention
//! [`Histogram`](crate::util::histogram::Histogram)), and a retiring thread
//! folds its figures into the pool's [`Totals`] under the registry lock. A
//! stats snapshot sums the totals and the live workers.

use core::time::Duration;

use crate::loom::sync::atomic::{AtomicU64, Ordering};
use crate::util::histogram::{Histogram, Snapshot};

fn bump(a: &AtomicU64, by: u64) {
    // Single writer: the owning worker thread.
    a.store(
        a.load(Ordering::Relaxed).wrapping_add(by),
        Ordering::Relaxed,
    );
}

/// One worker's counters.
pub(crate) struct WorkerStats {
    completed: AtomicU64,
    panicked: AtomicU64,
    cancelled: AtomicU64,
    times: Histogram,
}

impl core::fmt::Debug for WorkerStats {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WorkerStats").finish_non_exhaustive()
    }
}

impl WorkerStats {
    pub(crate) fn new() -> Self {
        WorkerStats {
            completed: AtomicU64::new(0),
            panicked: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            times: Histogram::new(),
        }
    }

    pub(crate) fn ran(&self, panicked: bool, took: Duration) {
        bump(
            if panicked {
                &self.panicked
            } else {
                &self.completed
            },
            1,
        );
        self.times.record(took);
    }

    pub(crate) fn cancelled(&self) {
        bump(&self.cancelled, 1);
    }

    pub(crate) fn add_to(&self, t: &mut Totals) {
        t.completed += self.completed.load(Ordering::Relaxed);
        t.panicked += self.panicked.load(Ordering::Relaxed);
        t.cancelled += self.cancelled.load(Ordering::Relaxed);
        self.times.add_to(&mut t.times);
    }
}

/// Plain sums: what retired workers did, or a snapshot of everything.
#[derive(Clone)]
pub(crate) struct Totals {
    pub(crate) completed: u64,
    pub(crate) panicked: u64,
    pub(crate) cancelled: u64,
    /// How long the jobs that ran (completed or panicked) took.
    pub(crate) times: Snapshot,
}

impl core::fmt::Debug for Totals {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Totals")
            .field("completed", &self.completed)
            .finish_non_exhaustive()
    }
}

impl Totals {
    pub(crate) fn new() -> Self {
        Totals {
            completed: 0,
            panicked: 0,
            cancelled: 0,
            times: Snapshot::new(),
        }
    }

    /// Mean time a job ran.
    pub(crate) fn mean(&self) -> Duration {
        self.times.mean()
    }

    /// The `q` quantile (0.0..=1.0) of the task times, by the convention of
    /// [`crate::util::histogram`].
    pub(crate) fn quantile(&self, q: f64) -> Duration {
        self.times.quantile(q)
    }
}

/// A snapshot of a [`WorkerPool`](super::WorkerPool)'s threads and counters.
///
/// Counters are cumulative since the pool was built. Once the pool is quiet
/// (see [`WorkerPool::join`](super::WorkerPool::join)) they balance:
/// `submitted == completed + panicked + cancelled`; `rejected` counts jobs
/// that were never accepted (queue full, or the pool closed).
///
/// Task times are measured with the pool's clock and kept in a fixed
/// histogram; a percentile is the nearest-rank value rounded up to its
/// bucket's bound (capped at the longest time seen): never below the true
/// value and at most 12.5 % above it. The mean is exact.
///
/// ```
/// use weir_core::WorkerPool;
///
/// let pool = WorkerPool::builder().max_threads(2).build()?;
/// pool.run_blocking(|| ()).unwrap();
/// pool.join();
/// let s = pool.stats();
/// assert_eq!((s.submitted, s.completed, s.queued), (1, 1, 0));
/// assert!(s.threads >= 1 && s.threads <= 2);
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerPoolStats {
    /// Live worker threads.
    pub threads: usize,
    /// Threads parked, waiting for work.
    pub idle_threads: usize,
    /// Threads neither parked nor starting: running a job or looking for one.
    pub busy_threads: usize,
    /// The most threads alive at once.
    pub peak_threads: usize,
    /// Jobs in the queue (including ones withdrawn by their caller and not
    /// yet swept out).
    pub queued: usize,
    /// Jobs accepted.
    pub submitted: u64,
    /// Jobs that returned normally.
    pub completed: u64,
    /// Jobs that panicked.
    pub panicked: u64,
    /// Jobs refused: queue full under `Reject`, or the pool closed.
    pub rejected: u64,
    /// Accepted jobs that never ran: their handle was dropped first, or
    /// `shutdown_now` cancelled them.
    pub cancelled: u64,
    /// Mean time a job ran (completed or panicked).
    pub task_time_mean: Duration,
    /// Median task time.
    pub task_time_p50: Duration,
    /// 99th percentile task time.
    pub task_time_p99: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_mean() {
        let w = WorkerStats::new();
        for _ in 0..99 {
            w.ran(false, Duration::from_micros(10));
        }
        w.ran(true, Duration::from_millis(10));
        let mut t = Totals::new();
        w.add_to(&mut t);
        assert_eq!((t.completed, t.panicked), (99, 1));
        assert_eq!(
            t.mean(),
            Duration::from_nanos((99 * 10_000 + 10_000_000) / 100)
        );
        // 10 µs is in the bucket [9216 ns, 10239 ns]; the bound is reported.
        assert_eq!(t.quantile(0.5), Duration::from_nanos(10_239));
        assert_eq!(t.quantile(0.99), Duration::from_nanos(10_239));
        assert_eq!(t.quantile(1.0), Duration::from_millis(10));
    }
}
