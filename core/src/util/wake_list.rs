//! Wakers collected under a lock and woken after it is released, so a
//! woken task never finds the lock still held by its waker; used by the
//! semaphore and the bulkhead, whose grant loops wake in batches.

use core::task::Waker;

/// Fits on the stack (32 wakers, 512 bytes); a batch larger than this is
/// woken in several rounds, the caller unlocking between them.
const CAPACITY: usize = 32;

#[derive(Debug)]
pub(crate) struct WakeList {
    wakers: [Option<Waker>; CAPACITY],
    len: usize,
}

impl WakeList {
    pub(crate) fn new() -> Self {
        WakeList {
            wakers: [const { None }; CAPACITY],
            len: 0,
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        self.len == CAPACITY
    }

    /// Keeps `waker` for [`WakeList::wake_all`]. The caller checks
    /// [`WakeList::is_full`] first; a push into a full list wakes at once
    /// rather than losing the wake-up.
    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        let Some(w) = waker else { return };
        if self.is_full() {
            w.wake();
            return;
        }
        self.wakers[self.len] = Some(w);
        self.len += 1;
    }

    /// Wakes every waker kept, oldest first, and empties the list.
    pub(crate) fn wake_all(&mut self) {
        for slot in &mut self.wakers[..self.len] {
            if let Some(w) = slot.take() {
                w.wake();
            }
        }
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn wakes_only_when_asked_and_never_loses_one() {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(c.clone());
        let mut l = WakeList::new();
        l.push(None);
        for _ in 0..CAPACITY {
            assert!(!l.is_full());
            l.push(Some(waker.clone()));
        }
        assert!(l.is_full());
        assert_eq!(c.0.load(Ordering::SeqCst), 0);
        // Past capacity: woken at once rather than dropped.
        l.push(Some(waker.clone()));
        assert_eq!(c.0.load(Ordering::SeqCst), 1);
        l.wake_all();
        assert_eq!(c.0.load(Ordering::SeqCst), 1 + CAPACITY);
        assert!(!l.is_full());
        l.wake_all();
        assert_eq!(c.0.load(Ordering::SeqCst), 1 + CAPACITY);
    }
}
