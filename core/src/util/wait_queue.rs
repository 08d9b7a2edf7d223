//! A cancel-safe FIFO of waiters that allocates nothing once warm: a slab
//! of waiter slots linked in arrival order, reused through a free list.
//! The bulkhead's line stands on it; the outcome a waiter receives (`O`) is
//! the user's.
//!
//! Why a slab and not an intrusive list embedded in each future (as tokio's
//! semaphore, and weir's, do): a line bounded by its user can allocate its
//! slots once and recycle them, which gives the same "no allocation while
//! waiting" as an intrusive list without a line of `unsafe`. The price is
//! one lock-protected index per waiter instead of a pointer, which the slow
//! path (a caller that has to wait anyway) does not notice. The semaphore
//! keeps its intrusive list: its waiters read their grant without the lock
//! (an atomic in the node), take partial grants, and its loom model checks
//! exactly that protocol.
//!
//! A slot outlives its place in the line: once resolved it is unlinked but
//! stays allocated until its future reads the outcome (or is dropped), so
//! the slab can hold more slots than the line has waiters. It grows,
//! amortised, only when more waiters are outstanding at once than ever
//! before, so a warmed-up line allocates nothing.
//!
//! Every method takes `&mut self`: the user holds the queue under its own
//! lock, and the wakers that [`WaitQueue::resolve`] hands back are woken
//! after that lock is released (see [`super::wake_list`]).

use core::task::Waker;

/// No slot: the end of a link chain.
const NIL: u32 = u32::MAX;

/// Where a waiter stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase<O> {
    /// On the free list.
    Free,
    /// In the line, waiting.
    Waiting,
    /// Out of the line with its outcome, which its future has to read.
    Done(O),
}

#[derive(Debug)]
struct Slot<O> {
    /// What the waiter asks for (permits, for the bulkhead); the line keeps
    /// the sum over its waiters.
    n: u32,
    phase: Phase<O>,
    waker: Option<Waker>,
    /// Toward the older waiter (`Waiting` slots), unused otherwise.
    prev: u32,
    /// Toward the newer waiter (`Waiting` slots), or the next free slot.
    next: u32,
}

/// The line of waiters. Every method runs under its user's lock.
#[derive(Debug)]
pub(crate) struct WaitQueue<O> {
    slots: Vec<Slot<O>>,
    free: u32,
    /// Oldest waiting slot.
    head: u32,
    /// Newest waiting slot.
    tail: u32,
    len: usize,
    permits: u64,
}

impl<O> WaitQueue<O> {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let mut waiters = WaitQueue {
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
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The sum of what the waiters in the line ask for.
    pub(crate) fn asked(&self) -> u64 {
        self.permits
    }

    /// Puts a waiter asking for `n` at the newest end of the line; `None`
    /// when the slab cannot grow any further (over four billion outstanding
    /// waiters).
    pub(crate) fn push(&mut self, n: u32, waker: Waker) -> Option<u32> {
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

    /// The oldest (`newest == false`) or newest waiter, with its ask.
    pub(crate) fn peek(&self, newest: bool) -> Option<(u32, u32)> {
        let idx = if newest { self.tail } else { self.head };
        (idx != NIL).then(|| (idx, self.slots[idx as usize].n))
    }

    /// The oldest slot in the line asking for more than `limit`, at `from`
    /// or newer (`from` is a waiting slot, or [`WaitQueue::oldest`]),
    /// with the slot just newer than it, to resume from after resolving it.
    pub(crate) fn over_limit_from(&self, from: u32, limit: u64) -> Option<(u32, u32)> {
        let mut idx = from;
        while idx != NIL {
            let slot = &self.slots[idx as usize];
            debug_assert!(matches!(slot.phase, Phase::Waiting));
            if u64::from(slot.n) > limit {
                return Some((idx, slot.next));
            }
            idx = slot.next;
        }
        None
    }

    /// Where a scan of the whole line starts (no slot when it is empty).
    pub(crate) fn oldest(&self) -> u32 {
        self.head
    }

    /// Takes a waiting slot out of the line, gives it its outcome and
    /// returns its waker, to be woken once the lock is released.
    pub(crate) fn resolve(&mut self, idx: u32, outcome: O) -> Option<Waker> {
        self.unlink(idx);
        let slot = &mut self.slots[idx as usize];
        slot.phase = Phase::Done(outcome);
        slot.waker.take()
    }

    fn unlink(&mut self, idx: u32) {
        let slot = &self.slots[idx as usize];
        debug_assert!(matches!(slot.phase, Phase::Waiting));
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

    /// Where slot `idx` stands (a copy of its outcome, once it has one).
    pub(crate) fn phase(&self, idx: u32) -> Phase<O>
    where
        O: Copy,
    {
        self.slots[idx as usize].phase
    }

    /// What slot `idx` asked for.
    pub(crate) fn ask_of(&self, idx: u32) -> u32 {
        self.slots[idx as usize].n
    }

    /// Keeps the newest waker of a waiting slot; clones only when the task
    /// changed, so a re-poll from the same task costs no reference count.
    pub(crate) fn set_waker(&mut self, idx: u32, waker: &Waker) {
        let slot = &mut self.slots[idx as usize];
        match &slot.waker {
            Some(w) if w.will_wake(waker) => {}
            _ => slot.waker = Some(waker.clone()),
        }
    }

    /// Returns a resolved slot to the free list, handing back its outcome
    /// (for an outcome that is not `Copy`, this is how it is read).
    pub(crate) fn release(&mut self, idx: u32) -> O {
        let slot = &mut self.slots[idx as usize];
        let Phase::Done(outcome) = core::mem::replace(&mut slot.phase, Phase::Free) else {
            unreachable!("only a resolved slot is released")
        };
        self.free_slot(idx);
        outcome
    }

    /// Takes a waiting slot out of the line and frees it at once (its future
    /// is gone or is about to return).
    pub(crate) fn remove(&mut self, idx: u32) {
        self.unlink(idx);
        self.slots[idx as usize].phase = Phase::Free;
        self.free_slot(idx);
    }

    fn free_slot(&mut self, idx: u32) {
        let slot = &mut self.slots[idx as usize];
        slot.waker = None;
        slot.next = self.free;
        self.free = idx;
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
        /// Resolve every waiter asking for more than this, as a bulkhead's
        /// lowered limit does.
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

    /// An outcome that is not `Copy`, to show `release` hands it back.
    #[derive(Debug, PartialEq)]
    enum Out {
        Granted(u32),
        Refused,
    }

    proptest! {
        #[test]
        fn line_matches_a_deque(ops in proptest::collection::vec(op(), 0..64), cap in 0usize..4) {
            let mut w = WaitQueue::<Out>::with_capacity(cap);
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
                        if let Some((idx, n)) = want {
                            prop_assert!(w.resolve(idx, Out::Granted(n)).is_some());
                            prop_assert_eq!(w.ask_of(idx), n);
                            prop_assert_eq!(w.release(idx), Out::Granted(n));
                        }
                    }
                    Op::RefuseOver(limit) => {
                        let mut from = w.oldest();
                        while let Some((idx, next)) = w.over_limit_from(from, u64::from(limit)) {
                            let want = model.iter().position(|&(_, n)| n > limit);
                            prop_assert_eq!(want.map(|i| model[i].0), Some(idx));
                            model.remove(want.unwrap());
                            w.resolve(idx, Out::Refused);
                            prop_assert_eq!(w.release(idx), Out::Refused);
                            from = next;
                        }
                        prop_assert!(model.iter().all(|&(_, n)| n <= limit));
                    }
                }
                prop_assert_eq!(w.len(), model.len());
                prop_assert_eq!(w.asked(), model.iter().map(|&(_, n)| u64::from(n)).sum::<u64>());
                prop_assert_eq!(w.peek(false), model.front().copied());
                prop_assert_eq!(w.peek(true), model.back().copied());
            }
        }
    }

    #[test]
    fn warm_line_reuses_its_slots() {
        let mut w = WaitQueue::<()>::with_capacity(2);
        let a = w.push(1, Waker::noop().clone()).unwrap();
        let b = w.push(1, Waker::noop().clone()).unwrap();
        assert_eq!(w.phase(a), Phase::Waiting);
        w.remove(a);
        assert_eq!(w.phase(a), Phase::Free);
        w.resolve(b, ());
        assert_eq!(w.phase(b), Phase::Done(()));
        w.release(b);
        // Both slots came back: the next two pushes take them again.
        let mut again = [
            w.push(1, Waker::noop().clone()).unwrap(),
            w.push(1, Waker::noop().clone()).unwrap(),
        ];
        again.sort_unstable();
        let mut first = [a, b];
        first.sort_unstable();
        assert_eq!(again, first);
    }
}
