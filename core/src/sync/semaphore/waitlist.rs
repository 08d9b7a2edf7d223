//! The intrusive FIFO of waiting acquirers.
//!
//! Each node lives inside a pinned acquire future, so waiting allocates
//! nothing. The list only links nodes; the semaphore decides when a node is
//! granted. Holding `&mut Waitlist` is the proof that the semaphore's mutex
//! is held: every access to a node's links and waker goes through a method
//! taking `&mut self`, so they are only ever touched under that lock.

#![allow(unsafe_code)]

use core::marker::PhantomPinned;
use core::ptr::NonNull;
use core::task::Waker;

use super::raw::MAX_PERMITS;
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};

/// `Waiter::remaining` once `close` unlinked the node. Larger than any
/// number of permits, so it never collides with a real count.
pub(super) const CLOSED_NODE: usize = usize::MAX;

/// `Waiter::remaining` of a node failed because the semaphore's total fell
/// below its need is this plus the new total. Totals are at most
/// `MAX_PERMITS`, so these values lie above every count and below
/// [`CLOSED_NODE`].
pub(super) const EXCEEDED_NODE: usize = MAX_PERMITS + 1;

/// One waiting acquire, embedded in its future.
///
/// # Invariants
///
/// * `locked` is read and written only while the semaphore's mutex is held
///   (through `&mut Waitlist`).
/// * `remaining` is written only under the mutex; its owner may read it
///   without the lock. A value of 0, [`CLOSED_NODE`] or one from
///   [`EXCEEDED_NODE`] up means the node has been unlinked by the writer,
///   which stores that value last and touches the node no more, so the
///   owner may free it as soon as it reads it.
/// * While linked, the node is pinned and its owner unlinks it (under the
///   mutex) before the memory is released: the owner's `Drop` does this.
#[derive(Debug)]
pub(super) struct Waiter {
    remaining: AtomicUsize,
    locked: UnsafeCell<Locked>,
    _pin: PhantomPinned,
}

#[derive(Debug)]
struct Locked {
    prev: Option<NonNull<Waiter>>,
    next: Option<NonNull<Waiter>>,
    /// Permits asked for; `need - remaining` have been granted so far.
    need: usize,
    waker: Option<Waker>,
}

// SAFETY: the raw links are dereferenced only under the semaphore's mutex
// (invariant of `locked`), `remaining` is atomic, and a `Waker` is Send +
// Sync, so sharing a node between the owner and the thread that grants it
// is sound.
unsafe impl Send for Waiter {}
// SAFETY: as for Send; no `&Waiter` method touches `locked` without the lock.
unsafe impl Sync for Waiter {}

impl Waiter {
    pub(super) fn new() -> Self {
        Waiter {
            remaining: AtomicUsize::new(0),
            locked: UnsafeCell::new(Locked {
                prev: None,
                next: None,
                need: 0,
                waker: None,
            }),
            _pin: PhantomPinned,
        }
    }

    /// What the owner may read without the lock: permits still missing, 0
    /// once fully granted, [`CLOSED_NODE`] once closed, [`EXCEEDED_NODE`]
    /// plus the total once it can never be granted. Acquire pairs with
    /// the Release store of the granting thread, so the permits' previous
    /// holders' writes are visible to the owner.
    pub(super) fn remaining(&self) -> usize {
        self.remaining.load(Ordering::Acquire)
    }
}

/// The queue itself: head is served first.
#[derive(Debug, Default)]
pub(super) struct Waitlist {
    head: Option<NonNull<Waiter>>,
    tail: Option<NonNull<Waiter>>,
    /// At least the largest `need` of a linked node (0 when empty): lets a
    /// shrinking total skip the scan for nodes it no longer covers when no
    /// node can be one. Raised on link, reset on empty, lowered by
    /// [`Waitlist::set_max_need`] after a full scan.
    max_need: usize,
}

// SAFETY: the list is only reachable through the semaphore's mutex, and the
// nodes it points to are Send + Sync (see `Waiter`).
unsafe impl Send for Waitlist {}

impl Waitlist {
    pub(super) const fn new() -> Self {
        Waitlist {
            head: None,
            tail: None,
            max_need: 0,
        }
    }

    pub(super) fn front(&self) -> Option<NonNull<Waiter>> {
        self.head
    }

    /// An upper bound of the `need` of every linked node.
    pub(super) fn max_need(&self) -> usize {
        self.max_need
    }

    /// Records the largest `need` found by a scan of every linked node.
    pub(super) fn set_max_need(&mut self, max: usize) {
        self.max_need = max;
    }

    /// The node linked after `node`.
    ///
    /// # Safety
    ///
    /// `node` is linked in this list.
    pub(super) unsafe fn next(&mut self, node: NonNull<Waiter>) -> Option<NonNull<Waiter>> {
        // SAFETY: linked nodes are valid; `locked` under the mutex.
        unsafe { node.as_ref() }
            .locked
            .with(|l| unsafe { (*l).next })
    }

    /// Links `node` at the tail, asking for `need` permits.
    ///
    /// # Safety
    ///
    /// `node` is pinned, not linked in any list, and stays valid until it is
    /// unlinked by [`Waitlist::unlink`].
    pub(super) unsafe fn push_back(&mut self, node: NonNull<Waiter>, need: usize) {
        // SAFETY: the caller guarantees `node` is valid; we hold the mutex.
        let w = unsafe { node.as_ref() };
        w.locked.with_mut(|l| {
            // SAFETY: `locked` is only accessed under the mutex, which
            // `&mut self` proves we hold.
            let l = unsafe { &mut *l };
            l.prev = self.tail;
            l.next = None;
            l.need = need;
        });
        w.remaining.store(need, Ordering::Relaxed);
        match self.tail {
            // SAFETY: the tail is linked, hence valid (node invariant).
            Some(t) => unsafe { t.as_ref() }.locked.with_mut(|l| {
                // SAFETY: under the mutex, as above.
                unsafe { (*l).next = Some(node) }
            }),
            None => self.head = Some(node),
        }
        self.tail = Some(node);
        self.max_need = self.max_need.max(need);
    }

    /// Unlinks `node`, a member of this list.
    ///
    /// # Safety
    ///
    /// `node` is linked in this list.
    pub(super) unsafe fn unlink(&mut self, node: NonNull<Waiter>) {
        // SAFETY: linked nodes are valid (node invariant).
        let w = unsafe { node.as_ref() };
        let (prev, next) = w.locked.with_mut(|l| {
            // SAFETY: under the mutex.
            let l = unsafe { &mut *l };
            (l.prev.take(), l.next.take())
        });
        match prev {
            // SAFETY: a neighbour of a linked node is linked, hence valid.
            Some(p) => unsafe { p.as_ref() }.locked.with_mut(|l| {
                // SAFETY: under the mutex.
                unsafe { (*l).next = next }
            }),
            None => self.head = next,
        }
        match next {
            // SAFETY: as above.
            Some(n) => unsafe { n.as_ref() }.locked.with_mut(|l| {
                // SAFETY: under the mutex.
                unsafe { (*l).prev = prev }
            }),
            None => self.tail = prev,
        }
        if self.head.is_none() {
            self.max_need = 0;
        }
    }

    /// The permits `node` asked for when it was linked.
    ///
    /// # Safety
    ///
    /// `node` is valid: linked, or owned by the caller.
    pub(super) unsafe fn need(&mut self, node: NonNull<Waiter>) -> usize {
        // SAFETY: valid per the caller; `locked` under the mutex.
        unsafe { node.as_ref() }
            .locked
            .with(|l| unsafe { (*l).need })
    }

    /// Replaces the stored waker unless it would wake the same task.
    ///
    /// # Safety
    ///
    /// `node` is valid: linked, or owned by the caller.
    pub(super) unsafe fn set_waker(&mut self, node: NonNull<Waiter>, waker: &Waker) {
        // SAFETY: valid per the caller.
        let w = unsafe { node.as_ref() };
        w.locked.with_mut(|l| {
            // SAFETY: under the mutex.
            let slot = unsafe { &mut (*l).waker };
            match slot {
                Some(old) if old.will_wake(waker) => {}
                _ => *slot = Some(waker.clone()),
            }
        });
    }

    /// Permits still missing for `node`, read under the lock.
    ///
    /// # Safety
    ///
    /// `node` is valid: linked, or owned by the caller.
    pub(super) unsafe fn remaining(&mut self, node: NonNull<Waiter>) -> usize {
        // SAFETY: valid per the caller.
        unsafe { node.as_ref() }.remaining.load(Ordering::Relaxed)
    }

    /// Records that `node` now misses only `rem` permits (`rem > 0`, so it
    /// stays linked).
    ///
    /// # Safety
    ///
    /// `node` is linked in this list.
    pub(super) unsafe fn set_remaining(&mut self, node: NonNull<Waiter>, rem: usize) {
        debug_assert!(rem > 0 && rem <= MAX_PERMITS);
        // SAFETY: linked nodes are valid. Release: the owner only acts on 0,
        // but a later 0 store orders after this one anyway.
        unsafe { node.as_ref() }
            .remaining
            .store(rem, Ordering::Release);
    }

    /// Unlinks `node` and finishes it with `outcome` (0: granted,
    /// [`CLOSED_NODE`]: closed, [`EXCEEDED_NODE`] plus the total: can never
    /// be granted), returning its waker. The node must not be touched
    /// afterwards: its owner may free it at once.
    ///
    /// # Safety
    ///
    /// `node` is linked in this list.
    pub(super) unsafe fn finish(&mut self, node: NonNull<Waiter>, outcome: usize) -> Option<Waker> {
        debug_assert!(outcome == 0 || outcome >= EXCEEDED_NODE);
        // SAFETY: linked in this list, per the caller.
        unsafe { self.unlink(node) };
        // SAFETY: still valid: its owner frees it only after seeing `outcome`.
        let w = unsafe { node.as_ref() };
        // SAFETY: under the mutex.
        let waker = w.locked.with_mut(|l| unsafe { (*l).waker.take() });
        // Release: publishes the unlink (and, for a grant, the permits'
        // history) to the owner's Acquire load; last touch of the node.
        w.remaining.store(outcome, Ordering::Release);
        waker
    }
}
