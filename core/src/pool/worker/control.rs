//! The pool's control word: thread accounting and the wake/spawn decision.
//!
//! One `AtomicU64` holds four 15-bit counters and the closed flag, so every
//! decision ("wake a parked worker", "start a thread", "retire") is a single
//! compare-and-swap over all of them and no two actors can act on a stale
//! view of each other:
//!
//! * `threads`: live worker threads (starting, busy or parked).
//! * `idle`: parked workers that nobody has claimed yet.
//! * `tokens`: parked workers claimed by a submitter; each token is one
//!   pending `notify_one`. Invariant: `idle + tokens` is the number of
//!   workers registered as parked.
//! * `starting`: threads spawned that have not yet looked at the queue.
//!
//! # Why no job is stranded
//!
//! A submitter pushes its job, issues a `SeqCst` fence, then reads this word
//! ([`Control::after_push`]). A worker about to park first registers
//! ([`Control::register_idle`], a `SeqCst` read-modify-write), issues a
//! `SeqCst` fence, and only then re-checks the queue. Whichever of the two
//! comes second in the fences' total order sees the other: either the worker's
//! re-check finds the job, or the submitter sees the registration and claims
//! a wake. When the submitter sees a token or a starting thread it does
//! nothing, because that worker is not parked and re-checks the queue (after
//! a fence) before it can park. A retiring worker leaves only by a CAS that
//! requires an unclaimed `idle` registration, so it cannot retire "under" a
//! claim: the claim and the retirement are ordered on this word.

use crate::loom::sync::atomic::{AtomicU64, Ordering, fence};

const BITS: u32 = 15;
const MASK: u64 = (1 << BITS) - 1;
const THREADS: u32 = 0;
const IDLE: u32 = 16;
const TOKENS: u32 = 32;
const STARTING: u32 = 48;
const CLOSED: u64 = 1 << 63;

/// The largest `max_threads` the control word can count.
pub(crate) const MAX_THREADS: usize = MASK as usize;

const fn one(field: u32) -> u64 {
    1 << field
}

/// A decoded snapshot of the control word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub(crate) threads: usize,
    pub(crate) idle: usize,
    pub(crate) tokens: usize,
    pub(crate) starting: usize,
    pub(crate) closed: bool,
}

fn decode(s: u64) -> Snapshot {
    let field = |shift: u32| ((s >> shift) & MASK) as usize;
    Snapshot {
        threads: field(THREADS),
        idle: field(IDLE),
        tokens: field(TOKENS),
        starting: field(STARTING),
        closed: s & CLOSED != 0,
    }
}

/// What the caller of [`Control::after_push`] or [`Control::after_pop`]
/// must do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Someone awake will take the work: do nothing.
    Nothing,
    /// A parked worker was claimed: notify one waiter (under the park lock).
    Wake,
    /// A thread was counted: spawn it (or [`Control::spawn_failed`]).
    Spawn,
    /// The pool is closed: the submitter must try to withdraw its job.
    Closed,
}

/// Why a parked worker leaves its wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leave {
    /// It consumed a token (or its own registration): it goes back to work.
    Work,
    /// It gave up its registration and its thread: it exits.
    Retire,
    /// Nothing for it: it keeps waiting.
    Stay,
}

#[derive(Debug)]
pub(crate) struct Control {
    word: AtomicU64,
    max: u64,
}

impl Control {
    pub(crate) fn new(max_threads: usize) -> Self {
        Control {
            word: AtomicU64::new(0),
            max: max_threads as u64,
        }
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        decode(self.word.load(Ordering::SeqCst))
    }

    /// Counts `n` threads as starting (the pool's minimum, at build time).
    pub(crate) fn prestart(&self, n: usize) {
        let n = n as u64;
        self.word
            .fetch_add(n * (one(THREADS) + one(STARTING)), Ordering::SeqCst);
    }

    /// Called by a submitter right after its job entered the queue.
    pub(crate) fn after_push(&self) -> Action {
        // Pairs with the fence in `register_idle`: see the module docs.
        fence(Ordering::SeqCst);
        self.decide(true)
    }

    /// Called by a worker that popped a job and saw more work queued: a
    /// burst wakes or starts workers one at a time, each newcomer passing
    /// the baton on when it finds work still waiting.
    pub(crate) fn after_pop(&self) -> Action {
        self.decide(false)
    }

    fn decide(&self, submitter: bool) -> Action {
        let mut s = self.word.load(Ordering::SeqCst);
        loop {
            let d = decode(s);
            let next = if d.closed {
                return if submitter {
                    Action::Closed
                } else {
                    Action::Nothing
                };
            } else if d.tokens > 0 || d.starting > 0 {
                return Action::Nothing;
            } else if d.idle > 0 {
                (s - one(IDLE) + one(TOKENS), Action::Wake)
            } else if (d.threads as u64) < self.max {
                (s + one(THREADS) + one(STARTING), Action::Spawn)
            } else {
                return Action::Nothing;
            };
            match self
                .word
                .compare_exchange_weak(s, next.0, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return next.1,
                Err(actual) => s = actual,
            }
        }
    }

    /// Undoes an [`Action::Spawn`] whose thread could not be created.
    pub(crate) fn spawn_failed(&self) {
        self.word
            .fetch_sub(one(THREADS) + one(STARTING), Ordering::SeqCst);
    }

    /// A new thread is running and about to look at the queue.
    pub(crate) fn started(&self) {
        self.word.fetch_sub(one(STARTING), Ordering::SeqCst);
        // A submitter that saw us starting did nothing; this fence orders our
        // coming pop after its push (same argument as `register_idle`).
        fence(Ordering::SeqCst);
    }

    /// A worker found the queue empty and registers as parked; returns
    /// whether the pool is closed. The caller must re-check the queue after
    /// this, then either [`leave_registered`](Self::leave_registered) or wait.
    pub(crate) fn register_idle(&self) -> bool {
        let old = self.word.fetch_add(one(IDLE), Ordering::SeqCst);
        fence(Ordering::SeqCst);
        old & CLOSED != 0
    }

    /// A registered worker leaves without having been woken (its re-check
    /// found a job, or it exits on close). Takes back an unclaimed
    /// registration if there is one, else the token meant for it; `exit`
    /// also uncounts the thread.
    pub(crate) fn leave_registered(&self, exit: bool) {
        let mut s = self.word.load(Ordering::SeqCst);
        loop {
            let d = decode(s);
            let mut next = if d.idle > 0 {
                s - one(IDLE)
            } else {
                debug_assert!(d.tokens > 0, "a registered worker is idle or claimed");
                s - one(TOKENS)
            };
            if exit {
                next -= one(THREADS);
            }
            match self
                .word
                .compare_exchange_weak(s, next, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => {
                    fence(Ordering::SeqCst);
                    return;
                }
                Err(actual) => s = actual,
            }
        }
    }

    /// A parked worker woke up (notified, timed out, or ticked). It takes a
    /// token if one is pending; otherwise, if `expired` and the pool has
    /// more than `min` threads, it retires.
    pub(crate) fn on_wake(&self, expired: bool, min: usize) -> Leave {
        let mut s = self.word.load(Ordering::SeqCst);
        loop {
            let d = decode(s);
            let (next, leave) = if d.tokens > 0 {
                (s - one(TOKENS), Leave::Work)
            } else if expired && d.threads > min && d.idle > 0 {
                (s - one(IDLE) - one(THREADS), Leave::Retire)
            } else {
                return Leave::Stay;
            };
            match self
                .word
                .compare_exchange_weak(s, next, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => {
                    fence(Ordering::SeqCst);
                    return leave;
                }
                Err(actual) => s = actual,
            }
        }
    }

    /// Marks the pool closed; returns whether it already was.
    pub(crate) fn close(&self) -> bool {
        let old = self.word.fetch_or(CLOSED, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        old & CLOSED != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_claims_one_thread_at_a_time() {
        let c = Control::new(4);
        assert_eq!(c.after_push(), Action::Spawn);
        // The thread is starting: more pushes spawn nothing.
        assert_eq!(c.after_push(), Action::Nothing);
        c.started();
        // The newcomer took a job and saw more: it starts the next one.
        assert_eq!(c.after_pop(), Action::Spawn);
        c.started();
        assert_eq!(c.after_pop(), Action::Spawn);
        c.started();
        assert_eq!(c.after_pop(), Action::Spawn);
        c.started();
        assert_eq!(c.after_pop(), Action::Nothing, "max reached");
        assert_eq!(c.snapshot().threads, 4);
    }

    #[test]
    fn parked_worker_is_claimed_once() {
        let c = Control::new(2);
        c.prestart(1);
        c.started();
        assert!(!c.register_idle());
        assert_eq!(c.after_push(), Action::Wake);
        // The claim is in flight: no second wake, no spawn.
        assert_eq!(c.after_push(), Action::Nothing);
        assert_eq!(c.on_wake(true, 0), Leave::Work);
        let s = c.snapshot();
        assert_eq!((s.idle, s.tokens, s.threads), (0, 0, 1));
    }

    #[test]
    fn retirement_keeps_min_and_needs_expiry() {
        let c = Control::new(3);
        c.prestart(2);
        c.started();
        c.started();
        c.register_idle();
        c.register_idle();
        assert_eq!(c.on_wake(false, 1), Leave::Stay);
        assert_eq!(c.on_wake(true, 1), Leave::Retire);
        assert_eq!(c.on_wake(true, 1), Leave::Stay, "min kept");
        assert_eq!(c.snapshot().threads, 1);
    }

    #[test]
    fn closed_turns_submitters_away() {
        let c = Control::new(1);
        assert!(!c.close());
        assert!(c.close());
        assert_eq!(c.after_push(), Action::Closed);
        assert_eq!(c.after_pop(), Action::Nothing);
    }
}

/// Loom models of the wake/spawn/retire protocol. The job queue is modelled
/// by a counter (push = increment, pop = decrement if positive), with the
/// `SeqCst` read-modify-writes the real queue's head and tail use.
#[cfg(all(test, weir_loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::sync::atomic::AtomicUsize;
    use loom::thread;

    fn pop(jobs: &AtomicUsize) -> bool {
        jobs.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    /// A job queued while the last parked worker times out and retires is
    /// still run: either the worker is claimed first (and works), or it
    /// retires first and the submitter starts a new thread.
    #[test]
    fn loom_job_queued_while_last_idle_worker_retires_is_run() {
        loom::model(|| {
            let c = Arc::new(Control::new(1));
            let jobs = Arc::new(AtomicUsize::new(0));
            c.prestart(1);
            c.started();
            assert!(!c.register_idle());

            let submitter = {
                let (c, jobs) = (c.clone(), jobs.clone());
                thread::spawn(move || {
                    jobs.fetch_add(1, Ordering::SeqCst);
                    c.after_push()
                })
            };
            let worker = {
                let (c, jobs) = (c.clone(), jobs.clone());
                thread::spawn(move || match c.on_wake(true, 0) {
                    Leave::Work => pop(&jobs),
                    Leave::Retire => false,
                    Leave::Stay => unreachable!("expired, above min, nobody claimed it"),
                })
            };
            let action = submitter.join().unwrap();
            let popped = worker.join().unwrap();
            let s = c.snapshot();
            match action {
                // The claim came first: the worker took the token and found
                // the job.
                Action::Wake => assert!(popped),
                // The worker retired first; the new thread runs the job.
                Action::Spawn => {
                    assert!(!popped);
                    assert_eq!((s.threads, s.starting), (1, 1));
                }
                Action::Nothing => assert!(popped, "nobody will run the job"),
                Action::Closed => unreachable!(),
            }
            if popped {
                assert_eq!(jobs.load(Ordering::SeqCst), 0);
            }
        });
    }

    /// A worker parking while a job is pushed: either its re-check finds
    /// the job, or the submitter sees its registration and claims a wake.
    #[test]
    fn loom_parking_worker_never_misses_a_push() {
        loom::model(|| {
            let c = Arc::new(Control::new(1));
            let jobs = Arc::new(AtomicUsize::new(0));
            c.prestart(1);
            c.started();

            let submitter = {
                let (c, jobs) = (c.clone(), jobs.clone());
                thread::spawn(move || {
                    jobs.fetch_add(1, Ordering::SeqCst);
                    c.after_push()
                })
            };
            let worker = {
                let (c, jobs) = (c.clone(), jobs.clone());
                thread::spawn(move || {
                    c.register_idle();
                    if pop(&jobs) {
                        c.leave_registered(false);
                        true
                    } else {
                        false // parked
                    }
                })
            };
            let action = submitter.join().unwrap();
            let found = worker.join().unwrap();
            if !found {
                // Parked with the job queued: it must have been claimed.
                assert_eq!(action, Action::Wake);
                assert_eq!(c.on_wake(false, 0), Leave::Work);
                assert!(pop(&jobs));
            }
            let s = c.snapshot();
            assert_eq!((s.idle, s.tokens, s.threads), (0, 0, 1));
        });
    }

    /// Two submitters and one parked worker: exactly one wake is claimed,
    /// and both jobs are run by the awake worker.
    #[test]
    fn loom_one_wake_per_parked_worker() {
        loom::model(|| {
            let c = Arc::new(Control::new(1));
            c.prestart(1);
            c.started();
            c.register_idle();
            let subs: Vec<_> = (0..2)
                .map(|_| {
                    let c = c.clone();
                    thread::spawn(move || c.after_push())
                })
                .collect();
            let actions: Vec<_> = subs.into_iter().map(|h| h.join().unwrap()).collect();
            let wakes = actions.iter().filter(|a| **a == Action::Wake).count();
            assert_eq!(wakes, 1, "{actions:?}");
            assert!(!actions.contains(&Action::Spawn));
            assert_eq!(c.snapshot().tokens, 1);
        });
    }
}
