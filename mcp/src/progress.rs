//! A call's progress reports: a bounded queue that drops the oldest report
//! when full, so a server that floods progress can never hold back the
//! reader (and with it every response on the connection).

use core::task::Waker;
use std::collections::VecDeque;

use parking_lot::Mutex;

use crate::protocol::Progress;

/// The default number of reports a call keeps before dropping the oldest.
///
/// ```
/// assert_eq!(weir_mcp::DEFAULT_PROGRESS_CAPACITY, 64);
/// ```
pub const DEFAULT_PROGRESS_CAPACITY: usize = 64;

#[derive(Debug)]
pub(crate) struct ProgressQueue {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    items: VecDeque<Progress>,
    cap: usize,
    dropped: u64,
    waker: Option<Waker>,
}

impl ProgressQueue {
    pub(crate) fn new(cap: usize) -> Self {
        let cap = cap.max(1);
        ProgressQueue {
            inner: Mutex::new(Inner {
                items: VecDeque::with_capacity(cap.min(16)),
                cap,
                dropped: 0,
                waker: None,
            }),
        }
    }

    /// Adds a report; `true` if an older one was dropped for it.
    pub(crate) fn push(&self, p: Progress) -> bool {
        let mut inner = self.inner.lock();
        let dropped = inner.items.len() >= inner.cap;
        if dropped {
            inner.items.pop_front();
            inner.dropped += 1;
        }
        inner.items.push_back(p);
        let waker = inner.waker.take();
        drop(inner);
        if let Some(w) = waker {
            w.wake();
        }
        dropped
    }

    /// The oldest report, or registers `waker` for the next one.
    pub(crate) fn pop_or_register(&self, waker: &Waker) -> Option<Progress> {
        let mut inner = self.inner.lock();
        match inner.items.pop_front() {
            Some(p) => Some(p),
            None => {
                match &mut inner.waker {
                    Some(w) if w.will_wake(waker) => {}
                    slot => *slot = Some(waker.clone()),
                }
                None
            }
        }
    }

    pub(crate) fn pop(&self) -> Option<Progress> {
        self.inner.lock().items.pop_front()
    }

    /// Reports dropped so far.
    pub(crate) fn dropped(&self) -> u64 {
        self.inner.lock().dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: f64) -> Progress {
        Progress {
            progress: n,
            total: None,
            message: None,
        }
    }

    #[test]
    fn full_queue_drops_the_oldest_and_counts_it() {
        let q = ProgressQueue::new(2);
        assert!(!q.push(p(1.0)));
        assert!(!q.push(p(2.0)));
        assert!(q.push(p(3.0)));
        assert_eq!(q.dropped(), 1);
        assert_eq!(q.pop().map(|x| x.progress), Some(2.0));
        assert_eq!(q.pop().map(|x| x.progress), Some(3.0));
        assert!(q.pop().is_none());
    }
}
