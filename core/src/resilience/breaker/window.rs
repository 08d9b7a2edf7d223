//! The closed state's memory of recent outcomes: the last N calls, the last
//! T of time, or a run of consecutive failures. Each record is O(1) and
//! lock-free (a time window locks once per bucket length to rotate).

use crate::loom::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use crate::resilience::ring::{Ring, unpack};

/// Bits per packed field: calls, failures, slow calls.
const BITS: u32 = 21;

/// An outcome code: bit 0 counted, bit 1 failure, bit 2 slow. 0 is "empty".
pub(crate) const COUNTED: u32 = 1;
pub(crate) const FAILED: u32 = 2;
pub(crate) const SLOW: u32 = 4;

/// The largest count window (fields must hold it with room for a sign).
pub(crate) const MAX_COUNT: u32 = 1 << (BITS - 2);

/// What a window holds now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) calls: u32,
    pub(crate) failures: u32,
    pub(crate) slow: u32,
    /// The record replaced an older outcome (a full count window).
    pub(crate) evicted: bool,
}

fn pack(code: u32) -> u64 {
    let c = u64::from(code);
    (c & 1) | ((c >> 1) & 1) << BITS | ((c >> 2) & 1) << (2 * BITS)
}

fn tally(word: u64) -> Tally {
    let [calls, failures, slow] = unpack::<3>(word, BITS);
    Tally {
        calls: calls as u32,
        failures: failures as u32,
        slow: slow as u32,
        evicted: false,
    }
}

pub(crate) enum Window {
    Count {
        slots: Box<[AtomicU32]>,
        next: AtomicUsize,
        total: AtomicU64,
    },
    Time(Ring),
    Consecutive(AtomicU32),
}

impl Window {
    pub(crate) fn count(n: u32) -> Self {
        Window::Count {
            slots: (0..n).map(|_| AtomicU32::new(0)).collect(),
            next: AtomicUsize::new(0),
            total: AtomicU64::new(0),
        }
    }

    pub(crate) fn time(buckets: u32, bucket_ns: u64) -> Self {
        Window::Time(Ring::new(buckets as usize, bucket_ns))
    }

    pub(crate) fn consecutive() -> Self {
        Window::Consecutive(AtomicU32::new(0))
    }

    /// Records `code` at `now_ns` and returns the window after it.
    #[inline]
    pub(crate) fn record(&self, code: u32, now_ns: u64) -> Tally {
        match self {
            Window::Count { slots, next, total } => {
                let i = next.fetch_add(1, Ordering::Relaxed) % slots.len();
                let slot = &slots[i];
                // Steady state: the outcome equals the one it replaces, and
                // the window does not change. Skipping the write is safe: a
                // racing writer of this slot telescopes against the value
                // that stays, so the total still matches the slots.
                if slot.load(Ordering::Relaxed) == code {
                    return Tally {
                        evicted: true,
                        ..tally(total.load(Ordering::Acquire))
                    };
                }
                // The slot swap and the total update are two steps; the
                // total telescopes to the sum of the slots whatever the
                // interleaving (see ring.rs), so only a racing reader can
                // see it off by the records in flight.
                let old = slot.swap(code, Ordering::AcqRel);
                let delta = pack(code).wrapping_sub(pack(old));
                Tally {
                    evicted: old != 0,
                    ..tally(total.fetch_add(delta, Ordering::AcqRel).wrapping_add(delta))
                }
            }
            Window::Time(ring) => tally(ring.add(now_ns, pack(code))),
            Window::Consecutive(run) => {
                if code & FAILED != 0 {
                    let n = run.fetch_add(1, Ordering::AcqRel).saturating_add(1);
                    Tally {
                        calls: n,
                        failures: n,
                        slow: 0,
                        evicted: false,
                    }
                } else {
                    // Load first: a stream of successes then writes nothing.
                    if run.load(Ordering::Relaxed) != 0 {
                        run.store(0, Ordering::Release);
                    }
                    Tally::default()
                }
            }
        }
    }

    pub(crate) fn snapshot(&self, now_ns: u64) -> Tally {
        match self {
            Window::Count { total, .. } => tally(total.load(Ordering::Acquire)),
            Window::Time(ring) => tally(ring.total(now_ns)),
            Window::Consecutive(run) => {
                let n = run.load(Ordering::Acquire);
                Tally {
                    calls: n,
                    failures: n,
                    slow: 0,
                    evicted: false,
                }
            }
        }
    }

    /// Forgets every outcome. Each slot is emptied like a record would, so
    /// a record racing the clear leaves the total consistent.
    pub(crate) fn clear(&self) {
        match self {
            Window::Count { slots, total, .. } => {
                for s in slots.iter() {
                    let old = s.swap(0, Ordering::AcqRel);
                    total.fetch_sub(pack(old), Ordering::AcqRel);
                }
            }
            Window::Time(ring) => ring.clear(),
            Window::Consecutive(run) => run.store(0, Ordering::Release),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_window_keeps_the_last_n() {
        let w = Window::count(3);
        w.record(COUNTED | FAILED, 0);
        w.record(COUNTED | SLOW, 0);
        let t = w.record(COUNTED, 0);
        assert_eq!((t.calls, t.failures, t.slow), (3, 1, 1));
        let t = w.record(COUNTED, 0);
        assert_eq!((t.calls, t.failures, t.slow), (3, 0, 1));
        w.clear();
        assert_eq!(w.snapshot(0).calls, 0);
    }

    #[test]
    fn consecutive_resets_on_success() {
        let w = Window::consecutive();
        assert_eq!(w.record(COUNTED | FAILED, 0).failures, 1);
        assert_eq!(w.record(COUNTED | FAILED, 0).failures, 2);
        assert_eq!(w.record(COUNTED, 0).failures, 0);
        assert_eq!(w.record(COUNTED | FAILED, 0).failures, 1);
    }
}
