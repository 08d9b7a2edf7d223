//! The semaphore's engine: a state word for the lock-free fast paths and an
//! intrusive waiter queue under a short mutex for everything that waits.
//!
//! # The state word
//!
//! `permits << SHIFT | WAITERS | CLOSED`. `permits` are free permits owed to
//! nobody. `WAITERS` is set, under the mutex, when a node is linked and
//! cleared, under the mutex, when the queue becomes empty; it tells a
//! releaser that it must take the lock and serve the queue, and tells a
//! fair acquirer that it must not overtake. `CLOSED` is set once.
//!
//! Every change that could let a waiter proceed is followed by a pass of
//! [`RawSemaphore::grant_locked`] under the mutex: a release sees `WAITERS`
//! in the same read-modify-write that adds its permits, and a waiter sets
//! `WAITERS` in the same read-modify-write that finds the permits short. Both
//! are RMWs of one atomic, so one of them sees the other: either the waiter
//! takes the permits, or the releaser finds the waiter under the lock. That
//! is why no wake-up is lost.
//!
//! # The total
//!
//! `total` counts the permits in existence (free, held, granted). It
//! changes only under the mutex (adds and forgets), so a waiter that checks
//! `need <= total` under the mutex before it links, and a forget that
//! fails every linked node with `need > total` under the mutex after it
//! shrinks the total, leave no node linked that can never be served: every
//! linked node asks for at most `total`. That is what keeps an impossible
//! request from taking the head of the queue (and, in fair mode, every
//! permit as a partial grant) for good.

#![allow(unsafe_code)]

use core::pin::Pin;
use core::ptr::NonNull;
use core::task::{Context, Poll};

use crossbeam_utils::CachePadded;

use super::waitlist::{CLOSED_NODE, EXCEEDED_NODE, Waiter, Waitlist};
use super::wake_list::WakeList;
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};

const CLOSED: usize = 1;
const WAITERS: usize = 2;
const SHIFT: u32 = 2;

/// The largest number of permits a semaphore can hold.
pub(crate) const MAX_PERMITS: usize = usize::MAX >> SHIFT;

/// How many times a waiter at the head of the queue re-checks its grant
/// before it stores its waker and returns `Pending`. A holder that releases
/// within that window hands over without a wake-up (no thread park and
/// unpark), which is what makes contended hand-off fast. Bounded, so a
/// single-threaded executor loses at most this much time per wait.
const SPIN_LIMIT: u32 = 64;
/// No spinning under loom, where it would only multiply the schedules (a
/// flag rather than a zero `SPIN_LIMIT`, whose empty loop clippy rejects).
const SPINS: bool = cfg!(not(weir_loom));

type Guard<'a> = crate::loom::sync::MutexGuard<'a, Waitlist>;

/// Why a non-waiting take failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TakeError {
    NoPermits,
    Closed,
    /// The request is larger than the total, which was this.
    ExceedsTotal(usize),
}

/// What a node's `remaining` says about its acquire: `None` while it
/// still waits.
fn outcome(remaining: usize) -> Option<Result<(), TakeError>> {
    match remaining {
        0 => Some(Ok(())),
        CLOSED_NODE => Some(Err(TakeError::Closed)),
        r if r >= EXCEEDED_NODE => Some(Err(TakeError::ExceedsTotal(r - EXCEEDED_NODE))),
        _ => None,
    }
}

/// The semaphore without guards or futures: counts, the queue, the rules.
#[derive(Debug)]
pub(crate) struct RawSemaphore {
    state: CachePadded<AtomicUsize>,
    waiters: Mutex<Waitlist>,
    /// Permits in existence (free, held, or granted to waiters); only
    /// `add_permits` and the forgets change it, always under the mutex (see
    /// the module docs), so a release never overflows the state word and a
    /// waiter reading it under the mutex reads the exact total.
    total: AtomicUsize,
    barging: bool,
    spin: bool,
}

impl RawSemaphore {
    /// `permits <= MAX_PERMITS`, checked by the caller.
    pub(crate) fn new(permits: usize, barging: bool, spin: bool) -> Self {
        debug_assert!(permits <= MAX_PERMITS);
        RawSemaphore {
            state: CachePadded::new(AtomicUsize::new(permits << SHIFT)),
            waiters: Mutex::new(Waitlist::new()),
            total: AtomicUsize::new(permits),
            barging,
            spin,
        }
    }

    pub(crate) fn is_barging(&self) -> bool {
        self.barging
    }

    pub(crate) fn available(&self) -> usize {
        self.state.load(Ordering::Acquire) >> SHIFT
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) & CLOSED != 0
    }

    /// The permits in existence; a snapshot unless read under the mutex.
    pub(crate) fn total(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    /// Takes `n` permits if free and, in fair mode, nobody queues before us.
    #[inline]
    pub(crate) fn try_take(&self, n: usize) -> Result<(), TakeError> {
        let mut cur = self.state.load(Ordering::Relaxed);
        loop {
            if cur & CLOSED != 0 {
                return Err(TakeError::Closed);
            }
            if (!self.barging && cur & WAITERS != 0) || cur >> SHIFT < n {
                return Err(TakeError::NoPermits);
            }
            // Acquire: the previous holders' releases (Release) happen
            // before the new holder's critical section.
            match self.state.compare_exchange_weak(
                cur,
                cur - (n << SHIFT),
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// Returns `n` permits: to the free count, then, if anyone waits,
    /// through the queue to the waiters that now fit.
    #[inline]
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        // Release: the holder's writes happen before the next taker's
        // Acquire. Adding while `WAITERS` is set is safe in fair mode too:
        // fair acquirers do not touch the free count while anyone waits, so
        // the grant pass below hands these permits to the head first.
        let prev = self.state.fetch_add(n << SHIFT, Ordering::Release);
        if prev & WAITERS != 0 {
            self.grant_then_wake(self.waiters.lock());
        }
    }

    /// Adds `n` new permits; `Err(())` when the total would pass
    /// `MAX_PERMITS`.
    pub(crate) fn add_permits(&self, n: usize) -> Result<(), ()> {
        if n == 0 {
            return Ok(());
        }
        let list = self.waiters.lock();
        match self.total.load(Ordering::Relaxed).checked_add(n) {
            Some(t) if t <= MAX_PERMITS => self.total.store(t, Ordering::Relaxed),
            _ => return Err(()),
        }
        // Release: as for `release`.
        let prev = self.state.fetch_add(n << SHIFT, Ordering::Release);
        if prev & WAITERS != 0 {
            self.grant_then_wake(list);
        }
        Ok(())
    }

    /// Removes up to `n` free permits for good; returns how many. Waiters
    /// that the smaller total no longer covers fail.
    pub(crate) fn forget_free(&self, n: usize) -> usize {
        let list = self.waiters.lock();
        let mut cur = self.state.load(Ordering::Relaxed);
        loop {
            let take = n.min(cur >> SHIFT);
            if take == 0 {
                return 0;
            }
            match self.state.compare_exchange_weak(
                cur,
                cur - (take << SHIFT),
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    self.shrink_total(list, take);
                    return take;
                }
                Err(actual) => cur = actual,
            }
        }
    }

    /// Forgets `n` held permits (a permit guard's `forget`). Waiters that
    /// the smaller total no longer covers fail.
    pub(crate) fn forget_held(&self, n: usize) {
        if n != 0 {
            self.shrink_total(self.waiters.lock(), n);
        }
    }

    /// Lowers the total by `by`, then fails every waiter asking for more
    /// than the new total: it could never be served, and it would hold back
    /// (fair mode: with a partial grant) every waiter behind it. What they
    /// were partly granted goes back and on to the waiters that fit.
    ///
    /// The scan restarts from the head after each round of wake-ups (the
    /// lock is released to wake); nodes linked meanwhile were checked
    /// against the new total when they linked.
    fn shrink_total<'a>(&'a self, mut list: Guard<'a>, by: usize) {
        let total = self.total.load(Ordering::Relaxed) - by;
        self.total.store(total, Ordering::Relaxed);
        if list.max_need() <= total {
            return;
        }
        loop {
            let mut wakers = WakeList::new();
            let mut returned = 0;
            let mut largest_left = 0;
            let mut cursor = list.front();
            while let Some(node) = cursor {
                if wakers.is_full() {
                    break;
                }
                // SAFETY: `node` is linked in `list` (reached from its head
                // through links, under the lock); `next` is read before
                // `finish` unlinks it.
                let (need, next) = unsafe { (list.need(node), list.next(node)) };
                if need > total {
                    // SAFETY: as above.
                    returned += need - unsafe { list.remaining(node) };
                    // SAFETY: as above; not touched again.
                    wakers.push(unsafe { list.finish(node, EXCEEDED_NODE + total) });
                } else {
                    largest_left = largest_left.max(need);
                }
                cursor = next;
            }
            let scanned = cursor.is_none();
            if returned > 0 {
                // Release: as for `release`; these permits pass on below.
                self.state.fetch_add(returned << SHIFT, Ordering::Release);
            }
            let more = if scanned {
                list.set_max_need(largest_left);
                self.grant_locked(&mut list, &mut wakers)
            } else {
                true
            };
            drop(list);
            wakers.wake_all();
            if !more {
                return;
            }
            list = self.waiters.lock();
            if scanned {
                // Only grants are left: the scan covered every node.
                return self.grant_then_wake(list);
            }
        }
    }

    /// Closes the semaphore: every queued waiter is finished with `Closed`
    /// and its partial grant goes back to the free count.
    pub(crate) fn close(&self) {
        // After this RMW no node can be linked: linking re-reads the word in
        // an RMW under the lock and gives up on CLOSED.
        self.state.fetch_or(CLOSED, Ordering::Release);
        let mut list = self.waiters.lock();
        loop {
            let mut wakers = WakeList::new();
            while !wakers.is_full() {
                let Some(node) = list.front() else { break };
                // SAFETY: `node` is linked (the front), hence valid.
                let (need, rem) = unsafe { (list.need(node), list.remaining(node)) };
                if need > rem {
                    self.state
                        .fetch_add((need - rem) << SHIFT, Ordering::Release);
                }
                // SAFETY: `node` is linked in `list`.
                wakers.push(unsafe { list.finish(node, CLOSED_NODE) });
            }
            let done = list.front().is_none();
            if done {
                self.state.fetch_and(!WAITERS, Ordering::Relaxed);
            }
            drop(list);
            wakers.wake_all();
            if done {
                return;
            }
            list = self.waiters.lock();
        }
    }

    /// Serves the queue from the head as far as the free permits go, then
    /// wakes the served waiters outside the lock (several rounds when there
    /// are more than a wake list holds).
    #[inline(never)]
    fn grant_then_wake<'a>(&'a self, mut list: Guard<'a>) {
        loop {
            let mut wakers = WakeList::new();
            let more = self.grant_locked(&mut list, &mut wakers);
            drop(list);
            wakers.wake_all();
            if !more {
                return;
            }
            list = self.waiters.lock();
        }
    }

    /// Moves free permits to waiters, head first. Fair mode grants part of
    /// a request when that is all there is (so the head is never starved
    /// by smaller requests behind it); barging mode grants whole requests
    /// only, and stops at the first that does not fit, keeping FIFO order
    /// among waiters. A head asking for more than the total fails instead.
    /// Clears `WAITERS` when the queue empties. Returns true when it stopped
    /// because `wakers` is full.
    fn grant_locked(&self, list: &mut Waitlist, wakers: &mut WakeList) -> bool {
        loop {
            let Some(node) = list.front() else {
                self.state.fetch_and(!WAITERS, Ordering::Relaxed);
                return false;
            };
            if wakers.is_full() {
                return true;
            }
            // SAFETY: the front is linked, hence valid.
            let (need, rem) = unsafe { (list.need(node), list.remaining(node)) };
            let total = self.total();
            if need > total {
                // Possible only while `shrink_total` fails waiters in
                // rounds and has not reached this one yet: fail it here,
                // never grant it.
                if need > rem {
                    self.state
                        .fetch_add((need - rem) << SHIFT, Ordering::Release);
                }
                // SAFETY: `node` is linked in `list`.
                wakers.push(unsafe { list.finish(node, EXCEEDED_NODE + total) });
                continue;
            }
            let mut cur = self.state.load(Ordering::Relaxed);
            let take = loop {
                let free = cur >> SHIFT;
                let take = if free >= rem {
                    rem
                } else if self.barging {
                    0
                } else {
                    free
                };
                if take == 0 {
                    return false;
                }
                // Acquire: see `try_take`; the waiter inherits it through
                // the Release store that finishes its node.
                match self.state.compare_exchange_weak(
                    cur,
                    cur - (take << SHIFT),
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => break take,
                    Err(actual) => cur = actual,
                }
            };
            if take < rem {
                // SAFETY: `node` is linked in `list`.
                unsafe { list.set_remaining(node, rem - take) };
                return false;
            }
            // SAFETY: `node` is linked in `list`.
            wakers.push(unsafe { list.finish(node, 0) });
        }
    }

    /// Drives one acquire of `need` permits whose waiter node is `node`.
    /// `linked` is the future's record: false before its first wait, true
    /// once this function returned `Pending` (the node is then linked, or
    /// already finished by a granter or by `close`). `Ok` means the `need`
    /// permits now belong to the caller.
    ///
    /// # Safety
    ///
    /// `node` belongs to the calling future, which passes the same `node`,
    /// `need` and `linked` to every call and to [`RawSemaphore::cancel`]
    /// from its destructor, and calls nothing after `Ready`.
    #[inline]
    pub(super) unsafe fn poll_acquire(
        &self,
        node: Pin<&Waiter>,
        need: usize,
        linked: &mut bool,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), TakeError>> {
        let ptr = NonNull::from(node.get_ref());
        if *linked {
            return self.poll_linked(node, ptr, linked, cx);
        }
        match self.try_take(need) {
            Err(TakeError::NoPermits) => {}
            done => return Poll::Ready(done),
        }
        // SAFETY: forwarded from our caller.
        unsafe { self.link_and_wait(node, ptr, need, linked, cx) }
    }

    /// The slow half of `poll_acquire`, kept out of line so the fast path
    /// stays small enough to inline.
    ///
    /// # Safety
    ///
    /// As for `poll_acquire`, with `*linked == false` and `ptr` the address
    /// of `node`.
    #[inline(never)]
    unsafe fn link_and_wait(
        &self,
        node: Pin<&Waiter>,
        ptr: NonNull<Waiter>,
        need: usize,
        linked: &mut bool,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), TakeError>> {
        let mut list = self.waiters.lock();
        // Exact: the total changes only under the lock we hold.
        let total = self.total.load(Ordering::Relaxed);
        let mut cur = self.state.load(Ordering::Relaxed);
        loop {
            if cur & CLOSED != 0 {
                return Poll::Ready(Err(TakeError::Closed));
            }
            let must_wait = (!self.barging && cur & WAITERS != 0) || cur >> SHIFT < need;
            if must_wait && need > total {
                // Can never be served: fail now rather than take the head.
                return Poll::Ready(Err(TakeError::ExceedsTotal(total)));
            }
            let (new, order) = if must_wait {
                (cur | WAITERS, Ordering::Relaxed)
            } else {
                (cur - (need << SHIFT), Ordering::Acquire)
            };
            match self
                .state
                .compare_exchange_weak(cur, new, order, Ordering::Relaxed)
            {
                Ok(_) if must_wait => break,
                Ok(_) => return Poll::Ready(Ok(())),
                Err(actual) => cur = actual,
            }
        }
        // SAFETY: `node` is pinned inside the caller's future, is not linked
        // (`linked` was false), and the future's destructor unlinks it
        // through `cancel` before its memory goes.
        unsafe { list.push_back(ptr, need) };
        *linked = true;
        // Free permits may already cover the head (fair mode: in part).
        let mut wakers = WakeList::new();
        let more = self.grant_locked(&mut list, &mut wakers);
        // SAFETY: our node is linked or was just finished; valid either way.
        let rem = unsafe { list.remaining(ptr) };
        let spin = rem != 0 && self.spin && SPINS && list.front() == Some(ptr);
        if rem != 0 && !spin {
            // SAFETY: our own node, valid.
            unsafe { list.set_waker(ptr, cx.waker()) };
        }
        if more {
            self.grant_then_wake(list);
        } else {
            drop(list);
        }
        wakers.wake_all();
        if rem == 0 {
            *linked = false;
            return Poll::Ready(Ok(()));
        }
        if !spin {
            return Poll::Pending;
        }
        for _ in 0..SPIN_LIMIT {
            if let Some(out) = outcome(node.remaining()) {
                *linked = false;
                return Poll::Ready(out);
            }
            crate::loom::hint::spin_loop();
        }
        self.poll_linked(node, ptr, linked, cx)
    }

    #[inline(never)]
    fn poll_linked(
        &self,
        node: Pin<&Waiter>,
        ptr: NonNull<Waiter>,
        linked: &mut bool,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), TakeError>> {
        let finished = |rem: usize, linked: &mut bool| {
            let out = outcome(rem);
            if out.is_some() {
                *linked = false;
            }
            out
        };
        if let Some(out) = finished(node.remaining(), linked) {
            return Poll::Ready(out);
        }
        let mut list = self.waiters.lock();
        // SAFETY: our own node, linked or finished, valid.
        let rem = unsafe { list.remaining(ptr) };
        if let Some(out) = finished(rem, linked) {
            return Poll::Ready(out);
        }
        // SAFETY: our own node, valid.
        unsafe { list.set_waker(ptr, cx.waker()) };
        Poll::Pending
    }

    /// The destructor's half of [`RawSemaphore::poll_acquire`]: unlinks a
    /// waiting node and gives back what it was granted, in part or in full,
    /// passing it on to the next waiters.
    ///
    /// # Safety
    ///
    /// As for `poll_acquire`; `linked` is the future's current record.
    #[inline]
    pub(super) unsafe fn cancel(&self, node: Pin<&Waiter>, need: usize, linked: bool) {
        if linked {
            // SAFETY: forwarded from our caller.
            unsafe { self.cancel_linked(node, need) }
        }
    }

    /// # Safety
    ///
    /// As for `cancel`, with the node linked by an earlier poll.
    #[inline(never)]
    unsafe fn cancel_linked(&self, node: Pin<&Waiter>, need: usize) {
        let ptr = NonNull::from(node.get_ref());
        // Closed or exceeded: whoever finished the node took back its
        // partial grant.
        match outcome(node.remaining()) {
            Some(Ok(())) => return self.release(need),
            Some(Err(_)) => return,
            None => {}
        }
        let mut list = self.waiters.lock();
        // SAFETY: our own node, valid; under the lock the value is final
        // unless we unlink it ourselves.
        let rem = unsafe { list.remaining(ptr) };
        match outcome(rem) {
            Some(Ok(())) => {
                drop(list);
                self.release(need);
            }
            Some(Err(_)) => {}
            None => {
                // SAFETY: not finished, so still linked in `list`.
                unsafe { list.unlink(ptr) };
                if need > rem {
                    self.state
                        .fetch_add((need - rem) << SHIFT, Ordering::Release);
                }
                // Whoever is now at the head may fit: what we held, or the
                // free permits we were blocking (barging mode).
                self.grant_then_wake(list);
            }
        }
    }
}
