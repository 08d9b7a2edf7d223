//! The breaker's state machine, free of any runtime: time comes in as
//! nanoseconds since the breaker was built, so loom models and the fuzz
//! model drive it directly.
//!
//! # The state word
//!
//! `word` packs `epoch << 3 | kind`. Every transition stores a new word with
//! the epoch incremented, and every permit carries the word it was admitted
//! under. A result whose permit word is no longer current is *late*: it is
//! counted in `late` and otherwise ignored. The closed path reads the word
//! (one load), records into the window (lock-free) and locks only when the
//! window crosses a threshold; under the lock it re-reads the word, so of
//! all the recorders that see the crossing exactly one moves the breaker and
//! reports the transition.

use crossbeam_utils::CachePadded;

use super::window::{COUNTED, FAILED, SLOW, Tally, Window};
use super::{State, Transition};
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicU64, Ordering};

pub(crate) const CLOSED: u64 = 0;
pub(crate) const OPEN: u64 = 1;
pub(crate) const HALF_OPEN: u64 = 2;
pub(crate) const FORCED_OPEN: u64 = 3;
pub(crate) const DISABLED: u64 = 4;
pub(crate) const METRICS_ONLY: u64 = 5;

#[inline]
pub(crate) fn kind(word: u64) -> u64 {
    word & 7
}

fn next(word: u64, kind: u64) -> u64 {
    (((word >> 3) + 1) << 3) | kind
}

pub(crate) fn state_of(kind: u64) -> State {
    match kind {
        CLOSED => State::Closed,
        OPEN => State::Open,
        HALF_OPEN => State::HalfOpen,
        FORCED_OPEN => State::ForcedOpen,
        DISABLED => State::Disabled,
        _ => State::MetricsOnly,
    }
}

/// When the closed state trips.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Trip {
    Rate {
        failure_rate: f64,
        slow_rate: Option<f64>,
        min_calls: u32,
    },
    Consecutive(u32),
}

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) trip: Trip,
    pub(crate) open_ns: u64,
    pub(crate) open_multiplier: f64,
    pub(crate) max_open_ns: u64,
    pub(crate) half_open_calls: u32,
    pub(crate) half_open_timeout_ns: u64,
    /// Probe failures (slow probes) that reopen at once.
    pub(crate) probe_fail_limit: u32,
    pub(crate) probe_slow_limit: u32,
}

impl Config {
    pub(crate) fn trips(&self, t: Tally) -> bool {
        match self.trip {
            Trip::Consecutive(n) => t.failures >= n,
            Trip::Rate {
                failure_rate,
                slow_rate,
                min_calls,
            } => {
                t.calls >= min_calls
                    && t.calls > 0
                    && (at_least(t.failures, t.calls, failure_rate)
                        || slow_rate.is_some_and(|s| at_least(t.slow, t.calls, s)))
            }
        }
    }

    fn min_calls(&self) -> u32 {
        match self.trip {
            Trip::Rate { min_calls, .. } => min_calls,
            Trip::Consecutive(_) => 0,
        }
    }

    /// The open duration for the `trips`-th consecutive opening (1-based).
    pub(crate) fn open_for(&self, trips: u32) -> u64 {
        if trips <= 1 || self.open_multiplier == 1.0 {
            return self.open_ns.min(self.max_open_ns);
        }
        let d = self.open_ns as f64 * self.open_multiplier.powi((trips - 1).min(4096) as i32);
        if d.is_finite() && d < self.max_open_ns as f64 {
            d as u64
        } else {
            self.max_open_ns
        }
    }
}

/// `part / whole >= threshold`, as a product: no division on the hot path.
fn at_least(part: u32, whole: u32, threshold: f64) -> bool {
    f64::from(part) >= threshold * f64::from(whole)
}

/// The smallest k in 1..=n with k/n >= threshold: that many probe failures
/// settle the half-open verdict early.
pub(crate) fn probe_limit(threshold: f64, n: u32) -> u32 {
    (1..=n).find(|&k| at_least(k, n, threshold)).unwrap_or(n)
}

/// Bookkeeping of the states other than closed; touched under the lock.
#[derive(Debug, Default)]
struct Slow {
    /// Openings since the breaker last closed.
    trips: u32,
    admitted: u32,
    outcomes: u32,
    failures: u32,
    slow: u32,
    half_open_deadline: u64,
}

#[derive(Debug, Default)]
struct Counters {
    rejected: AtomicU64,
    late: AtomicU64,
    listener_panics: AtomicU64,
    /// Transitions into each kind.
    into: [AtomicU64; 6],
}

pub(crate) struct Core {
    word: CachePadded<AtomicU64>,
    /// In OPEN: when the breaker may half-open (ns since start). Written
    /// before the word that publishes it.
    open_until: AtomicU64,
    pub(crate) window: Window,
    /// Whether the window needs the time of each record.
    timed_window: bool,
    slow: Mutex<Slow>,
    counters: Counters,
    pub(crate) cfg: Config,
}

/// The snapshot behind `CircuitBreaker::stats`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snapshot {
    pub(crate) kind: u64,
    pub(crate) tally: Tally,
    pub(crate) rejected: u64,
    pub(crate) late: u64,
    pub(crate) listener_panics: u64,
    pub(crate) into: [u64; 6],
    pub(crate) trips: u32,
}

impl Core {
    pub(crate) fn new(cfg: Config, window: Window, initial: u64) -> Self {
        Core {
            word: CachePadded::new(AtomicU64::new(initial)),
            open_until: AtomicU64::new(0),
            timed_window: matches!(window, Window::Time(_)),
            window,
            slow: Mutex::new(Slow::default()),
            counters: Counters::default(),
            cfg,
        }
    }

    #[inline]
    pub(crate) fn word(&self) -> u64 {
        self.word.load(Ordering::Acquire)
    }

    /// Admits a call (`Ok(permit word)`) or rejects it (`Err(remaining ns)`,
    /// `u64::MAX` when forced open). `now` is read only when the state is
    /// not closed.
    #[inline]
    pub(crate) fn acquire(&self, now: impl Fn() -> u64) -> (Result<u64, u64>, Option<Transition>) {
        // Acquire: pairs with the Release store of a transition, so an
        // admitted OPEN check sees the `open_until` of that opening.
        let w = self.word.load(Ordering::Acquire);
        match kind(w) {
            CLOSED | DISABLED | METRICS_ONLY => (Ok(w), None),
            FORCED_OPEN => (Err(self.reject(u64::MAX)), None),
            OPEN => {
                let until = self.open_until.load(Ordering::Acquire);
                let t = now();
                if t < until {
                    (Err(self.reject(until - t)), None)
                } else {
                    self.acquire_slow(t)
                }
            }
            _ => self.acquire_slow(now()),
        }
    }

    /// Counts a transition listener that panicked (and was contained).
    pub(crate) fn listener_panicked(&self) {
        self.counters
            .listener_panics
            .fetch_add(1, Ordering::Relaxed);
    }

    fn reject(&self, remaining: u64) -> u64 {
        self.counters.rejected.fetch_add(1, Ordering::Relaxed);
        remaining
    }

    #[cold]
    fn acquire_slow(&self, t: u64) -> (Result<u64, u64>, Option<Transition>) {
        let mut s = self.slow.lock();
        let w = self.word.load(Ordering::Acquire);
        match kind(w) {
            CLOSED | DISABLED | METRICS_ONLY => (Ok(w), None),
            FORCED_OPEN => (Err(self.reject(u64::MAX)), None),
            OPEN => {
                let until = self.open_until.load(Ordering::Acquire);
                if t < until {
                    return (Err(self.reject(until - t)), None);
                }
                *s = Slow {
                    trips: s.trips,
                    admitted: 1,
                    half_open_deadline: t.saturating_add(self.cfg.half_open_timeout_ns),
                    ..Slow::default()
                };
                let nw = self.publish(w, HALF_OPEN);
                (Ok(nw), Some(transition(w, nw)))
            }
            _ => {
                if s.admitted < self.cfg.half_open_calls {
                    s.admitted += 1;
                    (Ok(w), None)
                } else if t >= s.half_open_deadline {
                    // A probe hung: give up on this round, as if it failed.
                    let nw = self.open_locked(&mut s, w, t);
                    let until = self.open_until.load(Ordering::Acquire);
                    (
                        Err(self.reject(until.saturating_sub(t))),
                        Some(transition(w, nw)),
                    )
                } else {
                    (Err(self.reject(s.half_open_deadline - t)), None)
                }
            }
        }
    }

    /// Stores the next word of kind `to` and counts the transition.
    fn publish(&self, w: u64, to: u64) -> u64 {
        let nw = next(w, to);
        // Release: publishes `open_until` and the cleared window with it.
        self.word.store(nw, Ordering::Release);
        self.counters.into[to as usize].fetch_add(1, Ordering::Relaxed);
        nw
    }

    fn open_locked(&self, s: &mut Slow, w: u64, t: u64) -> u64 {
        s.trips = s.trips.saturating_add(1);
        let until = t.saturating_add(self.cfg.open_for(s.trips));
        self.open_until.store(until, Ordering::Release);
        self.publish(w, OPEN)
    }

    fn close_locked(&self, s: &mut Slow, w: u64) -> u64 {
        s.trips = 0;
        self.window.clear();
        self.publish(w, CLOSED)
    }

    /// Records the outcome `code` (0 = ignored) of the call admitted under
    /// `permit`.
    #[inline]
    pub(crate) fn record(
        &self,
        permit: u64,
        code: u32,
        now: impl Fn() -> u64,
    ) -> Option<Transition> {
        match kind(permit) {
            CLOSED | METRICS_ONLY => {
                if code == 0 {
                    return None;
                }
                if self.word.load(Ordering::Acquire) != permit {
                    self.counters.late.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
                let t = if self.timed_window { now() } else { 0 };
                let tally = self.window.record(code, t);
                // In a full count window a plain success replaces an older
                // outcome, which lowers or keeps both rates: it cannot cross
                // a threshold, so the hot success path skips the judgement.
                // (A time window's expiring bucket can raise a rate, and a
                // growing window can reach `min_calls`: those are judged.)
                if kind(permit) == CLOSED
                    && (code != COUNTED
                        || self.timed_window
                        || !(tally.evicted || tally.calls > self.cfg.min_calls()))
                    && self.cfg.trips(tally)
                {
                    self.trip(permit, if self.timed_window { t } else { now() })
                } else {
                    None
                }
            }
            HALF_OPEN => self.record_probe(permit, code, now),
            _ => None,
        }
    }

    #[cold]
    fn trip(&self, permit: u64, t: u64) -> Option<Transition> {
        let mut s = self.slow.lock();
        let w = self.word.load(Ordering::Acquire);
        if w != permit {
            // Someone else moved the breaker first.
            return None;
        }
        let nw = self.open_locked(&mut s, w, t);
        Some(transition(w, nw))
    }

    #[cold]
    fn record_probe(&self, permit: u64, code: u32, now: impl Fn() -> u64) -> Option<Transition> {
        let mut s = self.slow.lock();
        let w = self.word.load(Ordering::Acquire);
        if w != permit {
            self.counters.late.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        if code == 0 {
            // Ignored or cancelled: the permit goes back for another probe.
            s.admitted = s.admitted.saturating_sub(1);
            return None;
        }
        debug_assert!(code & COUNTED != 0);
        s.outcomes += 1;
        s.failures += u32::from(code & FAILED != 0);
        s.slow += u32::from(code & SLOW != 0);
        let nw = if s.failures >= self.cfg.probe_fail_limit || s.slow >= self.cfg.probe_slow_limit {
            self.open_locked(&mut s, w, now())
        } else if s.outcomes >= self.cfg.half_open_calls {
            self.close_locked(&mut s, w)
        } else {
            return None;
        };
        Some(transition(w, nw))
    }

    /// Moves to `to` by hand. Always starts a new epoch (results of calls
    /// in flight become late); reports a transition only when the state
    /// changes.
    pub(crate) fn force(&self, to: u64) -> Option<Transition> {
        let mut s = self.slow.lock();
        let w = self.word.load(Ordering::Acquire);
        if to == CLOSED || to == METRICS_ONLY {
            self.window.clear();
        }
        if to == CLOSED {
            s.trips = 0;
        }
        s.admitted = 0;
        let nw = self.publish(w, to);
        (kind(w) != to).then(|| transition(w, nw))
    }

    pub(crate) fn snapshot(&self, now_ns: u64) -> Snapshot {
        let trips = self.slow.lock().trips;
        Snapshot {
            kind: kind(self.word()),
            tally: self.window.snapshot(now_ns),
            rejected: self.counters.rejected.load(Ordering::Relaxed),
            late: self.counters.late.load(Ordering::Relaxed),
            listener_panics: self.counters.listener_panics.load(Ordering::Relaxed),
            into: core::array::from_fn(|i| self.counters.into[i].load(Ordering::Relaxed)),
            trips,
        }
    }

    /// Remaining open time at `now_ns` when open.
    pub(crate) fn remaining(&self, now_ns: u64) -> Option<u64> {
        match kind(self.word()) {
            OPEN => Some(
                self.open_until
                    .load(Ordering::Acquire)
                    .saturating_sub(now_ns),
            ),
            FORCED_OPEN => Some(u64::MAX),
            _ => None,
        }
    }
}

fn transition(from: u64, to: u64) -> Transition {
    Transition {
        from: state_of(kind(from)),
        to: state_of(kind(to)),
    }
}
