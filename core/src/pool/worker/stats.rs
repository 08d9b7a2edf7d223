//! Counters and the task-time histogram.
//!
//! Each worker thread writes its own [`WorkerStats`] (single writer, so a
//! relaxed load and store instead of a contended read-modify-write), and a
//! retiring thread folds its figures into the pool's [`Totals`] under the
//! registry lock. A stats snapshot sums the totals and the live workers.

use core::time::Duration;

use crate::loom::sync::atomic::{AtomicU64, Ordering};

/// Buckets: values below 4 ns exactly, then four sub-buckets per power of
/// two (about 12 % wide), up to `u64::MAX` nanoseconds.
pub(crate) const BUCKETS: usize = 4 + 62 * 4;

fn bucket(ns: u64) -> usize {
    if ns < 4 {
        return ns as usize;
    }
    let e = 63 - ns.leading_zeros() as usize;
    let m = ((ns >> (e - 2)) & 3) as usize;
    4 + (e - 2) * 4 + m
}

/// The smallest value that falls into bucket `i`.
fn bucket_floor(i: usize) -> u64 {
    if i < 4 {
        return i as u64;
    }
    let e = (i - 4) / 4 + 2;
    let m = ((i - 4) % 4) as u64;
    (1u64 << e) + (m << (e - 2))
}

/// A bucket's representative value: its midpoint.
fn bucket_mid(i: usize) -> u64 {
    let lo = bucket_floor(i);
    if i < 4 {
        return lo;
    }
    let e = (i - 4) / 4 + 2;
    lo + (1u64 << (e - 2)) / 2
}

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
    busy_ns: AtomicU64,
    hist: [AtomicU64; BUCKETS],
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
            busy_ns: AtomicU64::new(0),
            hist: core::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    pub(crate) fn ran(&self, panicked: bool, took: Duration) {
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        bump(
            if panicked {
                &self.panicked
            } else {
                &self.completed
            },
            1,
        );
        bump(&self.busy_ns, ns);
        bump(&self.hist[bucket(ns)], 1);
    }

    pub(crate) fn cancelled(&self) {
        bump(&self.cancelled, 1);
    }

    pub(crate) fn add_to(&self, t: &mut Totals) {
        t.completed += self.completed.load(Ordering::Relaxed);
        t.panicked += self.panicked.load(Ordering::Relaxed);
        t.cancelled += self.cancelled.load(Ordering::Relaxed);
        t.busy_ns = t.busy_ns.wrapping_add(self.busy_ns.load(Ordering::Relaxed));
        for (sum, b) in t.hist.iter_mut().zip(&self.hist) {
            *sum += b.load(Ordering::Relaxed);
        }
    }
}

/// Plain sums: what retired workers did, or a snapshot of everything.
#[derive(Clone)]
pub(crate) struct Totals {
    pub(crate) completed: u64,
    pub(crate) panicked: u64,
    pub(crate) cancelled: u64,
    pub(crate) busy_ns: u64,
    pub(crate) hist: [u64; BUCKETS],
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
            busy_ns: 0,
            hist: [0; BUCKETS],
        }
    }

    pub(crate) fn mean(&self) -> Duration {
        let n = self.completed + self.panicked;
        if n == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(self.busy_ns / n)
    }

    /// The `q` quantile (0.0..=1.0), as the midpoint of its bucket.
    pub(crate) fn quantile(&self, q: f64) -> Duration {
        let n: u64 = self.hist.iter().sum();
        if n == 0 {
            return Duration::ZERO;
        }
        let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
        let mut seen = 0;
        for (i, &c) in self.hist.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Duration::from_nanos(bucket_mid(i));
            }
        }
        Duration::from_nanos(bucket_mid(BUCKETS - 1))
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
/// histogram of about 12 % wide buckets, so percentiles are within that
/// precision; the mean is exact.
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
    fn buckets_are_monotone_and_contain_their_values() {
        let mut last = 0;
        for ns in (0..2000u64).chain([1 << 20, 1_000_000, 20_000_000, u64::MAX]) {
            let b = bucket(ns);
            assert!(b < BUCKETS);
            assert!(bucket_floor(b) <= ns, "{ns} in {b}");
            if b + 1 < BUCKETS {
                assert!(ns < bucket_floor(b + 1), "{ns} below next of {b}");
            }
            if ns < 2000 {
                assert!(b >= last);
                last = b;
            }
        }
    }

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
        let p50 = t.quantile(0.5).as_nanos() as f64;
        assert!((p50 - 10_000.0).abs() / 10_000.0 < 0.13, "{p50}");
        let p99 = t.quantile(0.99).as_nanos() as f64;
        assert!((p99 - 10_000.0).abs() / 10_000.0 < 0.13, "{p99}");
        let max = t.quantile(1.0).as_nanos() as f64;
        assert!((max - 1e7).abs() / 1e7 < 0.13, "{max}");
    }
}
