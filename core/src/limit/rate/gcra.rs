//! The GCRA state word and the arithmetic on it.
//!
//! Everything here works in nanoseconds on the limiter's own clock, counted
//! from the limiter's epoch, so that the state fits one `u64` and one CAS.

use crate::loom::sync::atomic::{AtomicU64, Ordering};

/// The largest tolerance (`burst × interval`) a limiter accepts: 2^62 ns,
/// about 146 years. With the time since the epoch below 2^63 ns, every sum in
/// this file stays below `u64::MAX`, so no operation can overflow.
pub(crate) const MAX_TOLERANCE_NS: u64 = 1 << 62;

/// The configuration of one GCRA: validated by the builder, fixed after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Params {
    /// The emission interval T: time one unit "costs", rounded up to the
    /// whole nanosecond so that rounding never admits more than configured.
    pub(crate) interval: u64,
    /// The bucket size in units.
    pub(crate) burst: u32,
    /// `burst × interval`: how far ahead of now the theoretical arrival time
    /// may run. At most [`MAX_TOLERANCE_NS`].
    pub(crate) tolerance: u64,
}

/// The outcome of a reservation: when the units may be used, and what the
/// state word became (the key for giving the reservation back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reservation {
    pub(crate) ready_at: u64,
    pub(crate) tat_after: u64,
}

/// One GCRA state: the theoretical arrival time (TAT), in nanoseconds since
/// the epoch. A TAT at or before now is a full bucket.
///
/// # Memory ordering
///
/// The word protects no other memory: each operation is a single
/// read-modify-write of it, and the admission bound follows from the total
/// modification order every atomic location has. `Relaxed` is therefore
/// enough everywhere; nothing that a caller does after being admitted is
/// ordered by the limiter, nor needs to be.
#[derive(Debug)]
pub(crate) struct State {
    tat: AtomicU64,
}

impl State {
    /// A full bucket.
    pub(crate) fn new() -> Self {
        State {
            tat: AtomicU64::new(0),
        }
    }

    /// The raw TAT.
    pub(crate) fn tat(&self) -> u64 {
        self.tat.load(Ordering::Relaxed)
    }

    /// Takes `n` units (1 ≤ n ≤ burst) if they conform at `now`; otherwise
    /// leaves the state alone and returns the instant at which they would.
    #[inline]
    pub(crate) fn try_take(&self, p: &Params, now: u64, n: u32) -> Result<(), u64> {
        let cost = p.interval * u64::from(n);
        let mut cur = self.tat.load(Ordering::Relaxed);
        loop {
            let next = cur.max(now) + cost;
            let allowed_at = next.saturating_sub(p.tolerance);
            if allowed_at > now {
                return Err(allowed_at);
            }
            match self
                .tat
                .compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Ok(()),
                Err(seen) => cur = seen,
            }
        }
    }

    /// Whether one unit would conform at `now`; the instant it would if not.
    /// Consumes nothing.
    #[inline]
    pub(crate) fn probe(&self, p: &Params, now: u64) -> Result<(), u64> {
        let next = self.tat.load(Ordering::Relaxed).max(now) + p.interval;
        let allowed_at = next.saturating_sub(p.tolerance);
        if allowed_at > now {
            Err(allowed_at)
        } else {
            Ok(())
        }
    }

    /// Takes `n` units (1 ≤ n ≤ burst) unconditionally, in the future if need
    /// be: the TAT moves on by `n` intervals and the caller may use the units
    /// from `ready_at` on. Reservations made one after another get
    /// increasing `ready_at`s, which is what makes waiters FIFO.
    #[inline]
    pub(crate) fn reserve(&self, p: &Params, now: u64, n: u32) -> Reservation {
        let cost = p.interval * u64::from(n);
        let mut cur = self.tat.load(Ordering::Relaxed);
        loop {
            let next = cur.max(now) + cost;
            match self
                .tat
                .compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => {
                    return Reservation {
                        ready_at: next.saturating_sub(p.tolerance),
                        tat_after: next,
                    };
                }
                Err(seen) => cur = seen,
            }
        }
    }

    /// Gives back an unused reservation of `n` units, which is possible only
    /// while it is the latest one: then the TAT is exactly `tat_after` and
    /// moves back by the reservation's cost. Once a later reservation was
    /// stacked on top, that one's instant is promised to its owner and cannot
    /// move, so the units stay spent (the limiter admits less than it could,
    /// never more). Returns whether the units came back.
    pub(crate) fn cancel(&self, p: &Params, r: Reservation, n: u32) -> bool {
        let cost = p.interval * u64::from(n);
        self.tat
            .compare_exchange(
                r.tat_after,
                r.tat_after - cost,
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .is_ok()
    }
}

#[cfg(all(test, not(weir_loom)))]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn ten_per_second_burst_five() -> Params {
        Params {
            interval: 100 * MS,
            burst: 5,
            tolerance: 500 * MS,
        }
    }

    #[test]
    fn full_bucket_then_one_per_interval() {
        let p = ten_per_second_burst_five();
        let s = State::new();
        for _ in 0..5 {
            assert_eq!(s.try_take(&p, 0, 1), Ok(()));
        }
        assert_eq!(s.try_take(&p, 0, 1), Err(100 * MS));
        assert_eq!(s.try_take(&p, 100 * MS - 1, 1), Err(100 * MS));
        assert_eq!(s.try_take(&p, 100 * MS, 1), Ok(()));
        assert_eq!(s.try_take(&p, 100 * MS, 1), Err(200 * MS));
    }

    #[test]
    fn reservation_is_returned_only_while_latest() {
        let p = ten_per_second_burst_five();
        let s = State::new();
        assert_eq!(s.try_take(&p, 0, 5), Ok(()));
        let a = s.reserve(&p, 0, 1);
        assert_eq!(a.ready_at, 100 * MS);
        let b = s.reserve(&p, 0, 2);
        assert_eq!(b.ready_at, 300 * MS);
        assert!(!s.cancel(&p, a, 1), "a is buried under b");
        assert!(s.cancel(&p, b, 2));
        assert_eq!(s.tat(), 600 * MS);
        assert!(s.cancel(&p, a, 1), "a is the latest again");
        assert_eq!(s.tat(), 500 * MS);
    }
}

#[cfg(all(test, weir_loom))]
mod loom_tests {
    use super::*;
    use crate::loom::sync::Arc;

    fn params(burst: u32) -> Params {
        Params {
            interval: 10,
            burst,
            tolerance: 10 * u64::from(burst),
        }
    }

    /// Three threads race for two units at a fixed clock: exactly two win.
    #[test]
    fn loom_concurrent_checks_never_exceed_burst() {
        loom::model(|| {
            let p = params(2);
            let s = Arc::new(State::new());
            let handles: Vec<_> = (0..3)
                .map(|_| {
                    let s = s.clone();
                    loom::thread::spawn(move || s.try_take(&p, 0, 1).is_ok())
                })
                .collect();
            let admitted = handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|&ok| ok)
                .count();
            assert_eq!(admitted, 2);
            assert_eq!(s.tat(), 20);
        });
    }

    /// A weighted check races a reservation and its cancellation: the
    /// cancel gives back only what no later request built on, and the
    /// units admitted at the fixed clock never exceed the burst.
    #[test]
    fn loom_cancel_races_checks() {
        loom::model(|| {
            let p = params(3);
            let s = Arc::new(State::new());
            let t1 = {
                let s = s.clone();
                loom::thread::spawn(move || {
                    let r = s.reserve(&p, 0, 2);
                    let back = s.cancel(&p, r, 2);
                    (r, back)
                })
            };
            let t2 = {
                let s = s.clone();
                loom::thread::spawn(move || s.try_take(&p, 0, 2).is_ok())
            };
            let (r, back) = t1.join().unwrap();
            let took = t2.join().unwrap();
            // Units in use at t = 0: the check's, plus the reservation's when
            // it could not come back (its ready_at says whether it was due).
            let mut used = if took { 2 } else { 0 };
            if !back && r.ready_at == 0 {
                used += 2;
            }
            assert!(used <= 3, "{used} units admitted at t = 0");
            let expected_tat = 10 * (if took { 2 } else { 0 } + if back { 0 } else { 2 });
            assert_eq!(s.tat(), expected_tat);
        });
    }
}
