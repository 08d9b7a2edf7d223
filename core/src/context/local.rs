//! The slot that holds the current context of the thread: set around each
//! poll of a scope (or each call of `enter`), restored afterwards, also on
//! unwind.
//!
//! A `Cell`, not a `RefCell`: nothing ever holds a borrow of the slot while
//! user code runs (a value's `Drop` or `Display` may read the context
//! again), so there is no borrow to conflict with.

use core::cell::Cell;

use super::node::Link;

std::thread_local! {
    static CURRENT: Cell<Option<Link>> = const { Cell::new(None) };
}

/// A clone of the current chain (`None`: no context, no atomic touched).
pub(super) fn current() -> Option<Link> {
    // During thread-local destruction the slot is gone: no context then.
    CURRENT
        .try_with(|slot| {
            let head = slot.take();
            let copy = head.clone();
            slot.set(head);
            copy
        })
        .ok()
        .flatten()
}

/// Puts `head` in the slot; returns what was there. Without a slot (the
/// thread's locals are being destroyed) `head` is dropped and nothing is
/// returned.
fn swap(head: Option<Link>) -> Option<Link> {
    CURRENT.try_with(|slot| slot.replace(head)).ok().flatten()
}

/// Makes `head` current until the guard drops or [`Guard::leave`]s, then
/// restores the previous context, whether the code in between returned or
/// unwound. Moves `head` in rather than cloning it, so that a scope costs
/// no atomic operation per poll.
pub(super) fn enter(head: Option<Link>) -> Guard {
    Guard {
        prev: Some(swap(head)),
    }
}

/// Restores the context that was current before [`enter`].
pub(super) struct Guard {
    // `Some` until restored.
    prev: Option<Option<Link>>,
}

impl Guard {
    /// Restores the previous context and hands back the one entered.
    pub(super) fn leave(mut self) -> Option<Link> {
        let prev = self.prev.take().expect("a guard restores once");
        swap(prev)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(prev) = self.prev.take() {
            // The chain taken out is dropped after the slot is restored: a
            // value's `Drop` may read the context, and then finds `prev`.
            drop(swap(prev));
        }
    }
}
