//! A queue whose values become receivable at their own instant, on a
//! Runtime's timer.
//!
//! Values sit in an ordered map keyed by (instant, insertion number), so the
//! earliest is first and equal instants keep insertion order. A waiting
//! receiver sleeps until the earliest instant it saw; an insert that becomes
//! the new earliest wakes every waiting receiver to look again, so no
//! receiver ever sleeps past the earliest due value, even if the one that
//! was about to take it is cancelled.

use core::fmt;
use core::future::{Future, poll_fn};
use core::pin::pin;
use core::task::Poll;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::sys::{Event, listen};
use crate::loom::sync::Mutex;
use crate::rt::{Runtime, deadline_after};

/// Names a value in a [`DelayQueue`], to remove it before it is due.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::queue::DelayQueue;
/// use weir_core::rt::VirtualRuntime;
///
/// let q = DelayQueue::new(VirtualRuntime::new());
/// let key = q.insert_after("x", Duration::from_secs(1));
/// assert_eq!(q.remove(&key), Some("x"));
/// assert_eq!(q.remove(&key), None);
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DelayKey {
    at: Instant,
    seq: u64,
}

impl DelayKey {
    /// The instant the value becomes receivable.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::queue::DelayQueue;
    /// use weir_core::rt::{Runtime, VirtualRuntime};
    ///
    /// let rt = VirtualRuntime::new();
    /// let q = DelayQueue::new(rt.clone());
    /// let at = rt.now() + std::time::Duration::from_millis(5);
    /// assert_eq!(q.insert(1, at).deadline(), at);
    /// # }
    /// ```
    pub fn deadline(&self) -> Instant {
        self.at
    }
}

/// Values that become receivable at given instants, received in deadline
/// order (ties in insertion order).
///
/// Time comes from the runtime `R`: `recv` sleeps with
/// [`R::sleep_until`](Runtime::sleep_until), so on the
/// [`VirtualRuntime`](crate::rt::VirtualRuntime) a test sees exact instants.
/// Many tasks may `recv` at once (share the queue with an `Arc`); each value
/// goes to one of them.
///
/// Inserting allocates (the map grows); this queue is for timers and retries,
/// not for a hot data path.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::queue::DelayQueue;
/// use weir_core::rt::VirtualRuntime;
///
/// let rt = VirtualRuntime::new();
/// let q = DelayQueue::new(rt.clone());
/// q.insert_after("later", Duration::from_secs(2));
/// q.insert_after("sooner", Duration::from_secs(1));
/// rt.block_on(async {
///     assert_eq!(q.recv().await, "sooner");
///     assert_eq!(rt.elapsed(), Duration::from_secs(1));
///     assert_eq!(q.recv().await, "later");
///     assert_eq!(rt.elapsed(), Duration::from_secs(2));
/// });
/// # }
/// ```
pub struct DelayQueue<T, R: Runtime> {
    rt: R,
    state: Mutex<State<T>>,
    /// Notified (all listeners) when the earliest instant moves earlier.
    earlier: Event,
}

struct State<T> {
    items: BTreeMap<DelayKey, T>,
    next_seq: u64,
}

impl<T, R: Runtime> DelayQueue<T, R> {
    /// An empty queue on runtime `rt`'s clock.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let q = weir_core::queue::DelayQueue::<u8, _>::new(weir_core::rt::VirtualRuntime::new());
    /// assert!(q.is_empty());
    /// # }
    /// ```
    pub fn new(rt: R) -> Self {
        DelayQueue {
            rt,
            state: Mutex::new(State {
                items: BTreeMap::new(),
                next_seq: 0,
            }),
            earlier: Event::new(),
        }
    }

    /// Inserts `value`, receivable from instant `at` on (at once if `at` is
    /// past); returns its key.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::queue::DelayQueue;
    /// use weir_core::rt::{Runtime, VirtualRuntime};
    ///
    /// let rt = VirtualRuntime::new();
    /// let q = DelayQueue::new(rt.clone());
    /// q.insert('a', rt.now());
    /// assert_eq!(q.try_recv(), Some('a'));
    /// # }
    /// ```
    pub fn insert(&self, value: T, at: Instant) -> DelayKey {
        let (key, is_first) = {
            let mut s = self.state.lock();
            let key = DelayKey {
                at,
                seq: s.next_seq,
            };
            s.next_seq += 1;
            s.items.insert(key, value);
            let is_first = s.items.first_key_value().map(|(k, _)| *k) == Some(key);
            (key, is_first)
        };
        if is_first {
            // Every waiting receiver sleeps until the old earliest instant;
            // all of them look again, so none oversleeps if one is cancelled.
            self.earlier.notify(usize::MAX);
        }
        key
    }

    /// Inserts `value`, receivable `delay` from now; returns its key. A delay
    /// too large for an `Instant` means "about thirty years".
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::queue::DelayQueue;
    /// use weir_core::rt::VirtualRuntime;
    ///
    /// let q = DelayQueue::new(VirtualRuntime::new());
    /// q.insert_after(1, Duration::from_secs(5));
    /// assert_eq!(q.try_recv(), None); // not yet due
    /// assert_eq!(q.len(), 1);
    /// # }
    /// ```
    pub fn insert_after(&self, value: T, delay: Duration) -> DelayKey {
        self.insert(value, deadline_after(self.rt.now(), delay))
    }

    /// Removes the value named by `key` if it is still queued.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let q = weir_core::queue::DelayQueue::new(weir_core::rt::VirtualRuntime::new());
    /// let k = q.insert_after("job", Duration::from_secs(1));
    /// assert_eq!(q.remove(&k), Some("job"));
    /// assert!(q.is_empty());
    /// # }
    /// ```
    pub fn remove(&self, key: &DelayKey) -> Option<T> {
        // Removing can only move the earliest instant later: receivers wake
        // early, find nothing due, and sleep again.
        self.state.lock().items.remove(key)
    }

    /// Takes the earliest value if it is due now.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let q = weir_core::queue::DelayQueue::<u8, _>::new(weir_core::rt::VirtualRuntime::new());
    /// assert_eq!(q.try_recv(), None);
    /// # }
    /// ```
    pub fn try_recv(&self) -> Option<T> {
        self.take_due().ok()
    }

    /// The earliest due value, or the earliest instant (`None`: empty).
    fn take_due(&self) -> Result<T, Option<Instant>> {
        let mut s = self.state.lock();
        let Some(first) = s.items.first_entry() else {
            return Err(None);
        };
        let at = first.key().at;
        if at <= self.rt.now() {
            Ok(first.remove())
        } else {
            Err(Some(at))
        }
    }

    /// Waits for the earliest value to be due and takes it.
    ///
    /// Waits forever on an empty queue that nobody inserts into.
    ///
    /// # Cancellation
    ///
    /// Dropping the future takes nothing; other receivers still wake on time.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::queue::DelayQueue;
    /// use weir_core::rt::VirtualRuntime;
    ///
    /// let rt = VirtualRuntime::new();
    /// let q = DelayQueue::new(rt.clone());
    /// q.insert_after(7, Duration::from_millis(250));
    /// assert_eq!(rt.block_on(q.recv()), 7);
    /// assert_eq!(rt.elapsed(), Duration::from_millis(250));
    /// # }
    /// ```
    pub async fn recv(&self) -> T {
        loop {
            // Listen before looking, so an earlier insert made after the look
            // is not missed.
            listen!(self.earlier => earlier);
            let next = match self.take_due() {
                Ok(v) => return v,
                Err(next) => next,
            };
            match next {
                None => earlier.await,
                Some(at) => {
                    let mut earlier = pin!(earlier);
                    let mut sleep = pin!(self.rt.sleep_until(at));
                    poll_fn(|cx| {
                        if earlier.as_mut().poll(cx).is_ready()
                            || sleep.as_mut().poll(cx).is_ready()
                        {
                            Poll::Ready(())
                        } else {
                            Poll::Pending
                        }
                    })
                    .await;
                }
            }
        }
    }

    /// How many values are queued, due or not.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let q = weir_core::queue::DelayQueue::new(weir_core::rt::VirtualRuntime::new());
    /// q.insert_after((), std::time::Duration::from_secs(1));
    /// assert_eq!(q.len(), 1);
    /// # }
    /// ```
    pub fn len(&self) -> usize {
        self.state.lock().items.len()
    }

    /// Whether nothing is queued.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let q = weir_core::queue::DelayQueue::<u8, _>::new(weir_core::rt::VirtualRuntime::new());
    /// assert!(q.is_empty());
    /// # }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The instant the earliest value becomes (or became) receivable.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::queue::DelayQueue;
    /// use weir_core::rt::{Runtime, VirtualRuntime};
    ///
    /// let rt = VirtualRuntime::new();
    /// let q = DelayQueue::new(rt.clone());
    /// let at = rt.now() + std::time::Duration::from_secs(3);
    /// q.insert(0, at);
    /// assert_eq!(q.next_deadline(), Some(at));
    /// # }
    /// ```
    pub fn next_deadline(&self) -> Option<Instant> {
        self.state.lock().items.first_key_value().map(|(k, _)| k.at)
    }
}

impl<T, R: Runtime> fmt::Debug for DelayQueue<T, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DelayQueue")
            .field("len", &self.len())
            .field("next_deadline", &self.next_deadline())
            .finish()
    }
}
