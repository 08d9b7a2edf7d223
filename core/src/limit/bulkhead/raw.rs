//! The bulkhead's admission protocol: one atomic state word for the fast
//! path, a locked line of waiters for the slow one.
//!
//! # The state word
//!
//! ```text
//!  63      62       61 ........ 31   30 ......... 0
//! CLOSED  WAITERS   limit (31 bits)  in flight (31 bits)
//! ```
//!
//! Keeping the limit in the same word as the count makes "admit if in
//! flight + n <= limit" one compare-and-swap, so no interleaving with
//! [`Raw::set_limit`] can admit past the limit in force (Envoy documents the
//! overshoot that a separate load and compare allows). `WAITERS` is set if
//! and only if the line is not empty, and only changes under the lock:
//!
//! * the fast path admits only while `WAITERS` is clear, so nobody overtakes
//!   a waiter without the lock (no barging under FIFO);
//! * a caller that decides to wait sets `WAITERS` with a compare-and-swap
//!   against the very word on which it found no room, so a release either
//!   happened before (and the swap fails, and the caller looks again) or
//!   after (and the releaser sees `WAITERS` and dispatches under the lock,
//!   which it can only take once the caller is in the line). No wake-up is
//!   lost.
//!
//! # Memory ordering
//!
//! Admission swaps with `Acquire` and release subtracts with `Release`, so
//! whatever a permit holder did before dropping its permit happens before
//! the next holder's admission, as with a mutex.

use core::task::Waker;

use crossbeam_utils::CachePadded;

use super::error::BulkheadError;
use super::{BulkheadStats, QueueOrder};
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicU64, Ordering::*};
use crate::obs::bulkhead::BulkheadObs;
use crate::util::wait_queue::{Phase, WaitQueue};
use crate::util::wake_list::WakeList;

/// The line of waiters: each receives its grant (`Ok`) or the reason it
/// was refused.
type Waiters = WaitQueue<Result<(), BulkheadError>>;

/// The largest limit and the largest single request.
pub(super) const MAX_PERMITS: u32 = (1 << 31) - 1;
const IN_FLIGHT: u64 = MAX_PERMITS as u64;
const LIMIT_SHIFT: u32 = 31;
const LIMIT: u64 = (MAX_PERMITS as u64) << LIMIT_SHIFT;
const WAITERS: u64 = 1 << 62;
const CLOSED: u64 = 1 << 63;

fn in_flight(s: u64) -> u64 {
    s & IN_FLIGHT
}

fn limit(s: u64) -> u64 {
    (s & LIMIT) >> LIMIT_SHIFT
}

fn fits(s: u64, n: u32) -> bool {
    in_flight(s) + u64::from(n) <= limit(s)
}

/// What a caller that could not be admitted at once got.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Entry {
    Admitted,
    Rejected(BulkheadError),
    /// In the line, in this slot.
    Queued(u32),
}

/// What the fast path found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Fast {
    Admitted,
    /// No room and nobody waits: a caller that does not wait is refused
    /// without taking the lock.
    Full,
    /// Closed, or somebody waits: decide under the lock.
    Slow,
}

/// Counters behind [`BulkheadStats`]; each is written where its event is
/// decided, so they add up even for futures that are never polled again.
#[derive(Debug, Default)]
struct Counters {
    admitted: AtomicU64,
    queue_full: AtomicU64,
    wait_timeout: AtomicU64,
    closed: AtomicU64,
    oversized: AtomicU64,
    cancelled: AtomicU64,
    /// Mirrors the line's permits so stats need no lock.
    queued: AtomicU64,
    queued_waiters: AtomicU64,
}

#[derive(Debug)]
pub(super) struct Raw {
    state: CachePadded<AtomicU64>,
    waiters: Mutex<Waiters>,
    order: QueueOrder,
    max_queued: u64,
    counters: Counters,
    obs: BulkheadObs,
}

impl Raw {
    pub(super) fn new(
        limit: u32,
        max_queued: u64,
        order: QueueOrder,
        slots: usize,
        obs: BulkheadObs,
    ) -> Self {
        debug_assert!(limit <= MAX_PERMITS);
        Raw {
            state: CachePadded::new(AtomicU64::new(u64::from(limit) << LIMIT_SHIFT)),
            waiters: Mutex::new(Waiters::with_capacity(slots)),
            order,
            max_queued,
            counters: Counters::default(),
            obs,
        }
    }

    fn count(&self, reason: BulkheadError) {
        let counter = match reason {
            BulkheadError::QueueFull { .. } => &self.counters.queue_full,
            BulkheadError::WaitTimeout => &self.counters.wait_timeout,
            BulkheadError::Closed => &self.counters.closed,
            BulkheadError::Oversized => &self.counters.oversized,
        };
        counter.fetch_add(1, Relaxed);
        self.obs.rejected(reason);
    }

    fn admit(&self, n: u32) {
        self.counters.admitted.fetch_add(1, Relaxed);
        self.obs.admitted(n);
    }

    /// The refusal for no room to wait, naming the limits in force in `s`.
    pub(super) fn queue_full(&self, s: u64) -> BulkheadError {
        BulkheadError::QueueFull {
            // Both fit: the limit has 31 bits, max_queued came from a u32.
            max_concurrent: limit(s) as u32,
            queue_capacity: self.max_queued as u32,
        }
    }

    pub(super) fn reject(&self, reason: BulkheadError) -> BulkheadError {
        self.count(reason);
        reason
    }

    /// Admits `n` permits with one compare-and-swap when nobody waits.
    #[inline]
    pub(super) fn try_fast(&self, n: u32) -> Fast {
        let mut s = self.state.load(Relaxed);
        loop {
            if s & (WAITERS | CLOSED) != 0 {
                return Fast::Slow;
            }
            if !fits(s, n) {
                return Fast::Full;
            }
            match self
                .state
                .compare_exchange_weak(s, s + u64::from(n), Acquire, Relaxed)
            {
                Ok(_) => {
                    self.admit(n);
                    return Fast::Admitted;
                }
                Err(actual) => s = actual,
            }
        }
    }

    /// The slow path: admits, refuses, or (when `waker` is given) puts the
    /// caller in the line.
    pub(super) fn enter(&self, n: u32, waker: Option<&Waker>) -> Entry {
        let mut evicted = WakeList::new();
        let entry = self.enter_locked(n, waker, &mut evicted);
        evicted.wake_all();
        entry
    }

    fn enter_locked(&self, n: u32, waker: Option<&Waker>, evicted: &mut WakeList) -> Entry {
        let lifo = self.order == QueueOrder::Lifo;
        let mut w = self.waiters.lock();
        let mut s = self.state.load(Acquire);
        let waker = loop {
            if s & CLOSED != 0 {
                return Entry::Rejected(self.reject(BulkheadError::Closed));
            }
            // Newest-first lets a newcomer take free permits past the line:
            // it is the newest. Oldest-first never does.
            if (s & WAITERS == 0 || lifo) && fits(s, n) {
                match self
                    .state
                    .compare_exchange(s, s + u64::from(n), Acquire, Acquire)
                {
                    Ok(_) => {
                        self.admit(n);
                        return Entry::Admitted;
                    }
                    Err(actual) => {
                        s = actual;
                        continue;
                    }
                }
            }
            if u64::from(n) > limit(s) {
                return Entry::Rejected(self.reject(BulkheadError::Oversized));
            }
            let Some(waker) = waker else {
                return Entry::Rejected(self.reject(self.queue_full(s)));
            };
            if u64::from(n) > self.max_queued
                || (!lifo && w.asked() + u64::from(n) > self.max_queued)
            {
                return Entry::Rejected(self.reject(self.queue_full(s)));
            }
            if s & WAITERS == 0 {
                // Announce the line against the word that had no room; see
                // the module docs for why this cannot lose a release.
                match self
                    .state
                    .compare_exchange(s, s | WAITERS, Acquire, Acquire)
                {
                    Ok(_) => {}
                    Err(actual) => {
                        s = actual;
                        continue;
                    }
                }
            }
            break waker;
        };
        // Newest-first and full: the oldest waiters make room. The lock is
        // kept throughout (the line must not change under this decision), so
        // past a batch the evicted are woken in place.
        while w.asked() + u64::from(n) > self.max_queued {
            let Some((oldest, _)) = w.peek(false) else {
                break;
            };
            let reason = self.queue_full(s);
            let waker = w.resolve(oldest, Err(reason));
            self.count(reason);
            if evicted.is_full() {
                waker.into_iter().for_each(Waker::wake);
            } else {
                evicted.push(waker);
            }
        }
        let entry = match w.push(n, waker.clone()) {
            Some(idx) => Entry::Queued(idx),
            None => Entry::Rejected(self.reject(self.queue_full(s))),
        };
        if w.is_empty() {
            // Only when the slab refused and evictions emptied the line.
            self.state.fetch_and(!WAITERS, Relaxed);
        }
        self.mirror(&w);
        entry
    }

    fn mirror(&self, w: &Waiters) {
        self.counters.queued.store(w.asked(), Relaxed);
        self.obs.queued(w.asked());
        self.counters.queued_waiters.store(w.len() as u64, Relaxed);
    }

    /// Gives back `n` permits.
    #[inline]
    pub(super) fn release(&self, n: u32) {
        if n == 0 {
            return;
        }
        let prev = self.state.fetch_sub(u64::from(n), Release);
        self.obs.released(n);
        debug_assert!(in_flight(prev) >= u64::from(n));
        if prev & WAITERS != 0 {
            self.dispatch();
        }
    }

    /// Grants permits to waiters in queue order while the head fits, waking
    /// them after the lock is released.
    fn dispatch(&self) {
        let newest = self.order == QueueOrder::Lifo;
        let mut wake = WakeList::new();
        loop {
            let more = {
                let mut w = self.waiters.lock();
                let more = self.grant_locked(&mut w, newest, &mut wake);
                self.mirror(&w);
                more
            };
            wake.wake_all();
            if !more {
                return;
            }
        }
    }

    /// Returns whether it stopped only because the batch is full.
    fn grant_locked(&self, w: &mut Waiters, newest: bool, wake: &mut WakeList) -> bool {
        while let Some((idx, n)) = w.peek(newest) {
            if wake.is_full() {
                return true;
            }
            let mut s = self.state.load(Acquire);
            loop {
                if s & CLOSED != 0 || !fits(s, n) {
                    return false;
                }
                let last = if w.len() == 1 { WAITERS } else { 0 };
                match self
                    .state
                    .compare_exchange(s, (s + u64::from(n)) & !last, AcqRel, Acquire)
                {
                    Ok(_) => break,
                    Err(actual) => s = actual,
                }
            }
            self.admit(n);
            wake.push(w.resolve(idx, Ok(())));
        }
        false
    }

    /// A waiter's outcome, if it has one; frees its slot when it does.
    pub(super) fn poll_slot(&self, idx: u32, waker: &Waker) -> Option<Result<(), BulkheadError>> {
        let mut w = self.waiters.lock();
        match w.phase(idx) {
            Phase::Waiting => {
                w.set_waker(idx, waker);
                None
            }
            Phase::Done(_) => Some(w.release(idx)),
            Phase::Free => unreachable!("a waiter's slot is freed only by its own future"),
        }
    }

    /// The waiter's time is up: refuses it unless an outcome came first.
    pub(super) fn time_out(&self, idx: u32) -> Result<(), BulkheadError> {
        self.leave(idx, false)
    }

    /// The waiter's future was dropped: frees its place, and hands on any
    /// permits it was granted but never took.
    pub(super) fn cancel(&self, idx: u32) {
        let _ = self.leave(idx, true);
    }

    /// Takes a slot out for good. A waiting slot is refused with
    /// `WaitTimeout`, or counted as cancelled when its future is gone; a
    /// granted one returns `Ok` and its permits are the caller's, or go back
    /// to the bulkhead when the future is gone.
    fn leave(&self, idx: u32, cancelled: bool) -> Result<(), BulkheadError> {
        let mut w = self.waiters.lock();
        match w.phase(idx) {
            Phase::Waiting => {
                w.remove(idx);
                if w.is_empty() {
                    self.state.fetch_and(!WAITERS, Relaxed);
                }
                self.mirror(&w);
                drop(w);
                if cancelled {
                    self.counters.cancelled.fetch_add(1, Relaxed);
                    self.obs.cancelled();
                } else {
                    self.count(BulkheadError::WaitTimeout);
                }
                // A removed head may have held back smaller waiters.
                if self.state.load(Relaxed) & WAITERS != 0 {
                    self.dispatch();
                }
                Err(BulkheadError::WaitTimeout)
            }
            Phase::Done(Ok(())) => {
                let n = w.ask_of(idx);
                let granted = w.release(idx);
                drop(w);
                if cancelled {
                    self.release(n);
                }
                granted
            }
            Phase::Done(Err(_)) => w.release(idx),
            Phase::Free => unreachable!("a waiter's slot is freed only by its own future"),
        }
    }

    pub(super) fn set_limit(&self, new: u32) {
        debug_assert!(new <= MAX_PERMITS);
        let mut s = self.state.load(Relaxed);
        loop {
            let next = (s & !LIMIT) | (u64::from(new) << LIMIT_SHIFT);
            match self.state.compare_exchange_weak(s, next, AcqRel, Relaxed) {
                Ok(_) => break,
                Err(actual) => s = actual,
            }
        }
        self.obs.limit(limit(s), new);
        if s & WAITERS == 0 {
            // Nobody waits, so nobody can be stranded: a caller that joins
            // the line after this swap reads the new limit under the lock
            // (and is refused as oversized), one that joined before it set
            // `WAITERS` first.
            return;
        }
        if u64::from(new) < limit(s) {
            self.refuse_oversized();
        }
        // Raised: room for waiters at once. Lowered: a refused head may
        // have held back smaller waiters that fit.
        self.dispatch();
    }

    /// Refuses, with `Oversized`, every waiter that asks for more than the
    /// limit now in force: it could never be admitted, and under either
    /// order it would hold back every waiter served after it.
    ///
    /// The limit is read under the lock, so a concurrent raise is seen and
    /// nobody who fits is refused. A wake batch that fills up is woken with
    /// the lock released and the scan starts again from the oldest waiter.
    fn refuse_oversized(&self) {
        let mut wake = WakeList::new();
        loop {
            let more = {
                let mut w = self.waiters.lock();
                let limit = limit(self.state.load(Acquire));
                let mut from = w.oldest();
                while !wake.is_full() {
                    let Some((idx, next)) = w.over_limit_from(from, limit) else {
                        break;
                    };
                    wake.push(w.resolve(idx, Err(BulkheadError::Oversized)));
                    self.count(BulkheadError::Oversized);
                    from = next;
                }
                if w.is_empty() {
                    self.state.fetch_and(!WAITERS, Relaxed);
                }
                self.mirror(&w);
                wake.is_full()
            };
            wake.wake_all();
            if !more {
                return;
            }
        }
    }

    pub(super) fn limit(&self) -> u32 {
        limit(self.state.load(Relaxed)) as u32
    }

    pub(super) fn in_flight(&self) -> u32 {
        in_flight(self.state.load(Relaxed)) as u32
    }

    pub(super) fn is_closed(&self) -> bool {
        self.state.load(Relaxed) & CLOSED != 0
    }

    /// Refuses every waiter with `Closed`, and every later caller.
    pub(super) fn close(&self) {
        self.state.fetch_or(CLOSED, AcqRel);
        let mut wake = WakeList::new();
        loop {
            let more = {
                let mut w = self.waiters.lock();
                while !wake.is_full() {
                    let Some((idx, _)) = w.peek(false) else { break };
                    wake.push(w.resolve(idx, Err(BulkheadError::Closed)));
                    self.count(BulkheadError::Closed);
                }
                if w.is_empty() {
                    self.state.fetch_and(!WAITERS, Relaxed);
                }
                self.mirror(&w);
                !w.is_empty()
            };
            wake.wake_all();
            if !more {
                return;
            }
        }
    }

    pub(super) fn stats(&self) -> BulkheadStats {
        let c = &self.counters;
        let s = self.state.load(Relaxed);
        BulkheadStats {
            max_concurrent: limit(s) as u32,
            in_flight: in_flight(s) as u32,
            queued: c.queued.load(Relaxed),
            queued_waiters: c.queued_waiters.load(Relaxed),
            admitted: c.admitted.load(Relaxed),
            rejected_queue_full: c.queue_full.load(Relaxed),
            rejected_wait_timeout: c.wait_timeout.load(Relaxed),
            rejected_closed: c.closed.load(Relaxed),
            rejected_oversized: c.oversized.load(Relaxed),
            cancelled: c.cancelled.load(Relaxed),
        }
    }
}
