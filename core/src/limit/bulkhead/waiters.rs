//! The bulkhead's waiting line: a slab of waiter slots linked in arrival
//! order, reused through a free list.
//!
//! Why a slab and not an intrusive list embedded in each future (as tokio's
//! semaphore does): the queue is bounded by `queue_capacity`, so its slots can be
//! allocated once at build time and recycled, which gives the same "no
//! allocation while waiting" as an intrusive list without a line of
//! `unsafe`. The price is one lock-protected index per waiter instead of a
//! pointer, which the slow path (a caller that has to wait anyway) does not
//! notice.
//!
//! A slot outlives its place in the line: once granted or rejected it is
//! unlinked but stays allocated until its future reads the outcome (or is
//! dropped), so the slab can hold more slots than the line has waiters. It
//! grows, amortised, only when more waiters are outstanding at once than
//! ever before, so a warmed-up bulkhead allocates nothing.

use core::task::Waker;

use super::error::BulkheadError;

/// No slot: the end of a link chain.
const NIL: u32 = u32::MAX;

/// Where a waiter stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// On the free list.
    Free,
    /// In the line, waiting for permits.
    Waiting,
    /// Out of the line, holding its permits: its future has to take them.
    Granted,
    /// Out of the line, refused for the reason given.
    Rejected(BulkheadError),
}

#[derive(Debug)]
struct Slot {
    /// Permits asked for.
    n: u32,
    phase: Phase,
    waker: Option<Waker>,
    /// Toward the older waiter (`Waiting` slots), unused otherwise.
    prev: u32,
    /// Toward the newer waiter (`Waiting` slots), or the next free slot.
    next: u32,
}

/// The line of waiters. Every method runs under the bulkhead's lock.
#[derive(Debug)]
pub(super) struct Waiters {
    slots: Vec<Slot>,
    free: u32,
    /// Oldest waiting slot.
    head: u32,
    /// Newest waiting slot.
    tail: u32,
    len: usize,
    permits: u64,
}

impl Waiters {
    pub(super) fn with_capacity(capacity: usize) -> Self {
        let mut waiters = Waiters {
            slots: Vec::new(),
            free: NIL,
            head: NIL,
            tail: NIL,
            len: 0,
            permits: 0,
        };
        waiters.grow(capacity);
        waiters
    }

    /// Adds `extra` slots to the free list.
    fn grow(&mut self, extra: usize) {
        let start = self.slots.len();
        // Indices stay below NIL: past that the line refuses (see `push`).
        let end = (start + extra).min(NIL as usize);
        self.slots.reserve_exact(end - start);
        // The new slots join the free list in index order, ahead of it.
        for i in start..end {
            let next = if i + 1 < end {
                (i + 1) as u32
            } else {
                self.free
            };
            self.slots.push(Slot {
                n: 0,
                phase: Phase::Free,
                waker: None,
                prev: NIL,
                next,
            });
        }
        if end > start {
            self.free = start as u32;
        }
    }

    /// Waiters in the line.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Permits asked for by the waiters in the line.
    pub(super) fn permits(&self) -> u64 {
        self.permits
    }

    /// Puts a waiter for `n` permits at the newest end of the line; `None`
    /// when the slab cannot grow any further (over four billion outstanding
    /// waiters).
    pub(super) fn push(&mut self, n: u32, waker: Waker) -> Option<u32> {
        if self.free == NIL {
            self.grow(self.slots.len().max(4));
            if self.free == NIL {
                return None;
            }
        }
        let idx = self.free;
        let slot = &mut self.slots[idx as usize];
        self.free = slot.next;
        slot.n = n;
        slot.phase = Phase::Waiting;
        slot.waker = Some(waker);
        slot.prev = self.tail;
        slot.next = NIL;
        match self.tail {
            NIL => self.head = idx,
            t => self.slots[t as usize].next = idx,
        }
        self.tail = idx;
        self.len += 1;
        self.permits += u64::from(n);
        Some(idx)
    }

    /// The oldest (`newest == false`) or newest waiter, with its permits.
    pub(super) fn peek(&self, newest: bool) -> Option<(u32, u32)> {
        let idx = if newest { self.tail } else { self.head };
        (idx != NIL).then(|| (idx, self.slots[idx as usize].n))
    }

    /// The oldest slot in the line asking for more than `limit` permits,
    /// at `from` or newer (`from` is a waiting slot, or [`Waiters::oldest`]),
    /// with the slot just newer than it, to resume from after resolving it.
    pub(super) fn over_limit_from(&self, from: u32, limit: u64) -> Option<(u32, u32)> {
        let mut idx = from;
        while idx != NIL {
            let slot = &self.slots[idx as usize];
            debug_assert_eq!(slot.phase, Phase::Waiting);
            if u64::from(slot.n) > limit {
                return Some((idx, slot.next));
            }
            idx = slot.next;
        }
        None
    }

    /// Where a scan of the whole line starts (no slot when it is empty).
    pub(super) fn oldest(&self) -> u32 {
        self.head
    }

    /// Takes a waiting slot out of the line, gives it its outcome and
    /// returns its waker, to be woken once the lock is released.
    pub(super) fn resolve(&mut self, idx: u32, phase: Phase) -> Option<Waker> {
        debug_assert_ne!(phase, Phase::Waiting);
        debug_assert_ne!(phase, Phase::Free);
        self.unlink(idx);
        let slot = &mut self.slots[idx as usize];
        slot.phase = phase;
        slot.waker.take()
    }

    fn unlink(&mut self, idx: u32) {
        let slot = &self.slots[idx as usize];
        debug_assert_eq!(slot.phase, Phase::Waiting);
        let (prev, next, n) = (slot.prev, slot.next, slot.n);
        match prev {
            NIL => self.head = next,
            p => self.slots[p as usize].next = next,
        }
        match next {
            NIL => self.tail = prev,
            x => self.slots[x as usize].prev = prev,
        }
        self.len -= 1;
        self.permits -= u64::from(n);
    }

    pub(super) fn phase(&self, idx: u32) -> Phase {
        self.slots[idx as usize].phase
    }

    pub(super) fn permits_of(&self, idx: u32) -> u32 {
        self.slots[idx as usize].n
    }

    /// Keeps the newest waker of a waiting slot; clones only when the task
    /// changed, so a re-poll from the same task costs no reference count.
    pub(super) fn set_waker(&mut self, idx: u32, waker: &Waker) {
        let slot = &mut self.slots[idx as usize];
        match &slot.waker {
            Some(w) if w.will_wake(waker) => {}
            _ => slot.waker = Some(waker.clone()),
        }
    }

    /// Returns a slot whose outcome was read (or that was just unlinked by
    /// [`Waiters::remove`]) to the free list.
    pub(super) fn release(&mut self, idx: u32) {
        let slot = &mut self.slots[idx as usize];
        debug_assert_ne!(slot.phase, Phase::Waiting);
        slot.phase = Phase::Free;
        slot.waker = None;
        slot.next = self.free;
        self.free = idx;
    }

    /// Takes a waiting slot out of the line and frees it at once (its future
    /// is gone or is about to return).
    pub(super) fn remove(&mut self, idx: u32) {
        self.unlink(idx);
        self.slots[idx as usize].phase = Phase::Rejected(BulkheadError::Closed);
        self.release(idx);
    }
}

#[cfg(all(test, not(weir_loom)))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    /// The line against a VecDeque of (id, n): pushes, removals from
    /// anywhere, resolutions from either end, and frees.
    #[derive(Debug, Clone)]
    enum Op {
        Push(u32),
        Remove(usize),
        ResolveEnd(bool),
        /// Resolve every waiter asking for more than this, as a lowered
        /// limit does.
        RefuseOver(u32),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (1u32..5).prop_map(Op::Push),
            (0usize..16).prop_map(Op::Remove),
            any::<bool>().prop_map(Op::ResolveEnd),
            (0u32..5).prop_map(Op::RefuseOver),
        ]
    }

    proptest! {
        #[test]
        fn line_matches_a_deque(ops in proptest::collection::vec(op(), 0..64), cap in 0usize..4) {
            let mut w = Waiters::with_capacity(cap);
            let mut model: VecDeque<(u32, u32)> = VecDeque::new();
            for op in ops {
                match op {
                    Op::Push(n) => {
                        let idx = w.push(n, Waker::noop().clone()).unwrap();
                        model.push_back((idx, n));
                    }
                    Op::Remove(i) if !model.is_empty() => {
                        let (idx, _) = model.remove(i % model.len()).unwrap();
                        w.remove(idx);
                    }
                    Op::Remove(_) => {}
                    Op::ResolveEnd(newest) => {
                        let want = if newest { model.pop_back() } else { model.pop_front() };
                        prop_assert_eq!(w.peek(newest), want);
                        if let Some((idx, _)) = want {
                            prop_assert!(w.resolve(idx, Phase::Granted).is_some());
                            prop_assert_eq!(w.phase(idx), Phase::Granted);
                            w.release(idx);
                        }
                    }
                    Op::RefuseOver(limit) => {
                        let mut from = w.oldest();
                        while let Some((idx, next)) = w.over_limit_from(from, u64::from(limit)) {
                            let want = model.iter().position(|&(_, n)| n > limit);
                            prop_assert_eq!(want.map(|i| model[i].0), Some(idx));
                            model.remove(want.unwrap());
                            w.resolve(idx, Phase::Rejected(BulkheadError::Oversized));
                            w.release(idx);
                            from = next;
                        }
                        prop_assert!(model.iter().all(|&(_, n)| n <= limit));
                    }
                }
                prop_assert_eq!(w.len(), model.len());
                prop_assert_eq!(w.permits(), model.iter().map(|&(_, n)| u64::from(n)).sum::<u64>());
                prop_assert_eq!(w.peek(false), model.front().copied());
                prop_assert_eq!(w.peek(true), model.back().copied());
            }
        }
    }
}
