//! A queue whose values become receivable at their own instant, on a
//! Runtime's timer.
//!
//! Values sit in an ordered map keyed by (instant, insertion number), so the
//! earliest is first and equal instants keep insertion order. A waiting
//! receiver sleeps until the earliest instant it saw; an insert that becomes
//! the new earliest wakes every waiting receiver to look again, so no
//! receiver ever sleeps past the earliest due value, even if the one that
//! was about to take it is cancelled.
//!
//! Closing sets a flag under the same lock and wakes every receiver; since a
//! receiver registers before it looks, a close made after its look still
//! wakes it, and one made before is seen by the look.

use core::fmt;
use core::future::{Future, poll_fn};
use core::pin::pin;
use core::task::Poll;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::error::{RecvError, SendError, TryRecvError};
use crate::loom::event::Event;
use crate::loom::listen;
use crate::loom::sync::Mutex;
use crate::{Runtime, rt::deadline_after};

/// Names a value in a [`DelayQueue`], to remove it before it is due.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::DelayQueue;
/// use weir_core::test_util::VirtualRuntime;
///
/// let q = DelayQueue::new(VirtualRuntime::new());
/// let key = q.insert_after("x", Duration::from_secs(1)).unwrap();
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
    /// use weir_core::DelayQueue;
    /// use weir_core::{Runtime, test_util::VirtualRuntime};
    ///
    /// let rt = VirtualRuntime::new();
    /// let q = DelayQueue::new(rt.clone());
    /// let at = rt.now() + std::time::Duration::from_millis(5);
    /// assert_eq!(q.insert(1, at).unwrap().deadline(), at);
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
/// [`VirtualRuntime`](crate::test_util::VirtualRuntime) a test sees exact instants.
/// Many tasks may `recv` at once (share the queue with an `Arc`); each value
/// goes to one of them.
///
/// Inserting allocates (the map grows); this queue is for timers and retries,
/// not for a hot data path.
///
/// # Closing
///
/// [`close`](DelayQueue::close) is how a shutdown stops the queue's
/// receivers. Unlike a channel's close, which lets receivers drain what is
/// queued, it hands every value still queued, due or not, back to the
/// caller of `close` in deadline order: those values may be due in an hour,
/// and a shutdown should not wait for them. After the close:
///
/// * every waiting [`recv`](DelayQueue::recv) wakes at once and ends with
///   [`RecvError`]; later ones end with it at once;
/// * [`try_recv`](DelayQueue::try_recv) gives [`TryRecvError::Closed`];
/// * an insert fails and hands its value back ([`SendError`]).
///
/// Nothing is lost: a value is inserted before the close (and returned by
/// it, unless received first) or refused with the value.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::DelayQueue;
/// use weir_core::test_util::VirtualRuntime;
///
/// let rt = VirtualRuntime::new();
/// let q = DelayQueue::new(rt.clone());
/// q.insert_after("later", Duration::from_secs(2));
/// q.insert_after("sooner", Duration::from_secs(1));
/// rt.block_on(async {
///     assert_eq!(q.recv().await, Ok("sooner"));
///     assert_eq!(rt.elapsed(), Duration::from_secs(1));
///     assert_eq!(q.recv().await, Ok("later"));
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
    /// Set once by `close`; inserts are refused and receivers end.
    closed: bool,
}

impl<T, R: Runtime> DelayQueue<T, R> {
    /// An empty queue on runtime `rt`'s clock.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let q = weir_core::DelayQueue::<u8, _>::new(weir_core::test_util::VirtualRuntime::new());
    /// assert!(q.is_empty());
    /// # }
    /// ```
    pub fn new(rt: R) -> Self {
        DelayQueue {
            rt,
            state: Mutex::new(State {
                items: BTreeMap::new(),
                next_seq: 0,
                closed: false,
            }),
            earlier: Event::new(),
        }
    }

    /// Inserts `value`, receivable from instant `at` on (at once if `at` is
    /// past); returns its key.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value once the queue is closed.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::DelayQueue;
    /// use weir_core::{Runtime, test_util::VirtualRuntime};
    ///
    /// let rt = VirtualRuntime::new();
    /// let q = DelayQueue::new(rt.clone());
    /// q.insert('a', rt.now()).unwrap();
    /// assert_eq!(q.try_recv(), Ok('a'));
    /// # }
    /// ```
    pub fn insert(&self, value: T, at: Instant) -> Result<DelayKey, SendError<T>> {
        let (key, is_first) = {
            let mut s = self.state.lock();
            if s.closed {
                return Err(SendError(value));
            }
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
        Ok(key)
    }

    /// Inserts `value`, receivable `delay` from now; returns its key. A delay
    /// too large for an `Instant` means "about thirty years".
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value once the queue is closed.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::DelayQueue;
    /// use weir_core::test_util::VirtualRuntime;
    ///
    /// let q = DelayQueue::new(VirtualRuntime::new());
    /// q.insert_after(1, Duration::from_secs(5)).unwrap();
    /// assert!(q.try_recv().unwrap_err().is_empty()); // not yet due
    /// assert_eq!(q.len(), 1);
    /// # }
    /// ```
    pub fn insert_after(&self, value: T, delay: Duration) -> Result<DelayKey, SendError<T>> {
        self.insert(value, deadline_after(self.rt.now(), delay))
    }

    /// Removes the value named by `key` if it is still queued.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let q = weir_core::DelayQueue::new(weir_core::test_util::VirtualRuntime::new());
    /// let k = q.insert_after("job", Duration::from_secs(1)).unwrap();
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
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] when nothing is due now,
    /// [`TryRecvError::Closed`] once the queue is closed.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let q = weir_core::DelayQueue::<u8, _>::new(weir_core::test_util::VirtualRuntime::new());
    /// assert!(q.try_recv().unwrap_err().is_empty());
    /// q.close();
    /// assert!(q.try_recv().unwrap_err().is_closed());
    /// # }
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.take_due() {
            Ok(v) => Ok(v),
            Err(Due::Closed) => Err(TryRecvError::Closed),
            Err(Due::Empty | Due::At(_)) => Err(TryRecvError::Empty),
        }
    }

    /// The earliest due value, or why there is none.
    fn take_due(&self) -> Result<T, Due> {
        let mut s = self.state.lock();
        if s.closed {
            return Err(Due::Closed);
        }
        let Some(first) = s.items.first_entry() else {
            return Err(Due::Empty);
        };
        let at = first.key().at;
        if at <= self.rt.now() {
            Ok(first.remove())
        } else {
            Err(Due::At(at))
        }
    }

    /// Closes the queue and hands back every value still queued, due or
    /// not, in deadline order (ties in insertion order), each with its key.
    /// Every waiting `recv` ends with [`RecvError`]; later inserts are
    /// refused with their value. A second call returns nothing.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::DelayQueue;
    /// use weir_core::test_util::VirtualRuntime;
    ///
    /// let rt = VirtualRuntime::new();
    /// let q = DelayQueue::new(rt.clone());
    /// q.insert_after("b", Duration::from_secs(2)).unwrap();
    /// q.insert_after("a", Duration::from_secs(1)).unwrap();
    /// let rest: Vec<_> = q.close().into_iter().map(|(_key, v)| v).collect();
    /// assert_eq!(rest, ["a", "b"]);
    /// assert!(rt.block_on(q.recv()).is_err());
    /// assert_eq!(q.insert_after("c", Duration::ZERO).unwrap_err().into_inner(), "c");
    /// assert!(q.close().is_empty());
    /// # }
    /// ```
    pub fn close(&self) -> Vec<(DelayKey, T)> {
        let rest = {
            let mut s = self.state.lock();
            s.closed = true;
            core::mem::take(&mut s.items)
        };
        // Every receiver registered before it looked, so each one that saw
        // the queue open is woken here and looks again.
        self.earlier.notify(usize::MAX);
        rest.into_iter().collect()
    }

    /// Whether [`close`](DelayQueue::close) was called.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let q = weir_core::DelayQueue::<u8, _>::new(weir_core::test_util::VirtualRuntime::new());
    /// assert!(!q.is_closed());
    /// q.close();
    /// assert!(q.is_closed());
    /// # }
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    /// Waits for the earliest value to be due and takes it.
    ///
    /// Waits on an empty queue until a value is inserted or the queue is
    /// closed.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once the queue is closed (at once if it already is),
    /// however far the queued values were from due.
    ///
    /// # Cancellation
    ///
    /// Dropping the future takes nothing; other receivers still wake on time.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::DelayQueue;
    /// use weir_core::test_util::VirtualRuntime;
    ///
    /// let rt = VirtualRuntime::new();
    /// let q = DelayQueue::new(rt.clone());
    /// q.insert_after(7, Duration::from_millis(250)).unwrap();
    /// assert_eq!(rt.block_on(q.recv()), Ok(7));
    /// assert_eq!(rt.elapsed(), Duration::from_millis(250));
    /// # }
    /// ```
    pub async fn recv(&self) -> Result<T, RecvError> {
        loop {
            // Listen before looking, so an earlier insert or a close made
            // after the look is not missed.
            listen!(self.earlier => earlier);
            let next = match self.take_due() {
                Ok(v) => return Ok(v),
                Err(next) => next,
            };
            match next {
                Due::Closed => return Err(RecvError),
                Due::Empty => earlier.await,
                Due::At(at) => {
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
    /// let q = weir_core::DelayQueue::new(weir_core::test_util::VirtualRuntime::new());
    /// q.insert_after((), std::time::Duration::from_secs(1)).unwrap();
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
    /// let q = weir_core::DelayQueue::<u8, _>::new(weir_core::test_util::VirtualRuntime::new());
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
    /// use weir_core::DelayQueue;
    /// use weir_core::{Runtime, test_util::VirtualRuntime};
    ///
    /// let rt = VirtualRuntime::new();
    /// let q = DelayQueue::new(rt.clone());
    /// let at = rt.now() + std::time::Duration::from_secs(3);
    /// q.insert(0, at).unwrap();
    /// assert_eq!(q.next_deadline(), Some(at));
    /// # }
    /// ```
    pub fn next_deadline(&self) -> Option<Instant> {
        self.state.lock().items.first_key_value().map(|(k, _)| k.at)
    }
}

/// Why `take_due` found nothing to take.
enum Due {
    Empty,
    At(Instant),
    Closed,
}

impl<T, R: Runtime> fmt::Debug for DelayQueue<T, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DelayQueue")
            .field("len", &self.len())
            .field("next_deadline", &self.next_deadline())
            .field("closed", &self.is_closed())
            .finish()
    }
}
