//! Wakers collected under the lock and woken after it is released, so a
//! woken task never finds the lock still held by its waker.

use core::task::Waker;

/// Fits on the stack; a batch larger than this is woken in several rounds,
/// unlocking between them.
const CAPACITY: usize = 32;

#[derive(Debug)]
pub(super) struct WakeList {
    wakers: [Option<Waker>; CAPACITY],
    len: usize,
}

impl WakeList {
    pub(super) fn new() -> Self {
        WakeList {
            wakers: [const { None }; CAPACITY],
            len: 0,
        }
    }

    pub(super) fn is_full(&self) -> bool {
        self.len == CAPACITY
    }

    /// Keeps `waker` for [`WakeList::wake_all`]. The caller checks
    /// [`WakeList::is_full`] first; a push into a full list wakes at once
    /// rather than losing the wake-up.
    pub(super) fn push(&mut self, waker: Option<Waker>) {
        let Some(w) = waker else { return };
        if self.is_full() {
            w.wake();
            return;
        }
        self.wakers[self.len] = Some(w);
        self.len += 1;
    }

    pub(super) fn wake_all(&mut self) {
        for slot in &mut self.wakers[..self.len] {
            if let Some(w) = slot.take() {
                w.wake();
            }
        }
        self.len = 0;
    }
}
