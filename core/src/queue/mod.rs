//! Queues: MPMC bounded and unbounded channels, priority lanes, a delay
//! queue.
//!
//! # Kinds
//!
//! * [`bounded`] and [`unbounded`]: multi-producer multi-consumer channels.
//!   Both ends clone; each value goes to exactly one receiver. Async
//!   ([`Sender::send`], [`Receiver::recv`], [`Receiver::recv_many`], the
//!   receiver as a `Stream`), non-waiting (`try_*`) and blocking (`*_blocking`,
//!   for synchronous threads) operations mix freely on the same queue.
//! * [`PriorityQueue`](crate::PriorityQueue): a bounded queue with a fixed number of lanes; the
//!   highest non-empty lane is served first, FIFO within a lane, with
//!   optional aging so a low lane is not starved forever.
//! * [`DelayQueue`](crate::DelayQueue): values become receivable at their instant, on a
//!   [`Runtime`](crate::Runtime)'s timer, in deadline order.
//!
//! # Closing
//!
//! A queue closes when `close()` is called on any end, or when every sender
//! or every receiver is dropped. After that:
//!
//! * a send fails and hands the value back ([`SendError`],
//!   [`TrySendError::Closed`]); a sender that was waiting for room wakes and
//!   gets its value back;
//! * receivers drain what was queued before the close, then see
//!   [`RecvError`] / [`TryRecvError::Closed`].
//!
//! Nothing is lost in between: a send either lands before the close (and is
//! received) or fails with its value. Values still queued when the *last
//! receiver* goes are dropped with the queue, as in every channel: nobody is
//! left to receive them.
//!
//! A [`DelayQueue`](crate::DelayQueue) has no ends, only [`DelayQueue::close`](crate::DelayQueue::close); its values may
//! be due far in the future, so a close does not let receivers drain them:
//! it hands every value still queued back to its caller, and every waiting
//! [`DelayQueue::recv`](crate::DelayQueue::recv) ends with [`RecvError`] at once.
//!
//! # Waiting costs nothing extra
//!
//! Waiting in `send`, `recv`, `recv_many` and the priority queue's `push`/`pop`
//! allocates nothing: the wait-list entry lives in the future itself. A
//! cancelled wait (the future dropped) passes any wake-up it received on to
//! the next waiter.
//!
//! # Giving up a wait
//!
//! Every wait here is cancel-safe: dropping the future takes no value and
//! keeps no wake-up. So a timeout, a `select!` or a
//! [`CancellationToken`](crate::CancellationToken) ends a wait by
//! dropping it; the token's [`cancellable`](crate::CancellationToken::cancellable)
//! does that for any future and says so with a typed error. (The queues
//! take no token themselves: they sit below `cancel` in weir's layers.)
//!
//! ```
//! use weir_core::{CancellationToken, cancel::CancelledError};
//!
//! # futures_lite::future::block_on(async {
//! let (tx, rx) = weir_core::queue::bounded::<u32>(4).unwrap();
//! let shutdown = CancellationToken::new();
//! shutdown.cancel();
//! assert_eq!(shutdown.cancellable(rx.recv()).await, Err(CancelledError));
//! tx.send(1).await.unwrap(); // nothing was taken, nothing is owed
//! assert_eq!(rx.recv().await, Ok(1));
//! # });
//! ```
//!
//! # When not to use these
//!
//! * One producer, one consumer, one value: use a oneshot channel.
//! * Every receiver must see every value: this is a work queue, not a
//!   broadcast channel.
//! * A rendezvous (capacity zero) is not offered: `bounded(0)` is a
//!   [`ConfigError`](crate::ConfigError).
//!
//! ```
//! # futures_lite::future::block_on(async {
//! let (tx, rx) = weir_core::queue::bounded::<u32>(16).unwrap();
//! let rx2 = rx.clone();
//! tx.send(1).await.unwrap();
//! tx.send(2).await.unwrap();
//! tx.close();
//! assert_eq!(rx.recv().await, Ok(1));
//! assert_eq!(rx2.recv().await, Ok(2));
//! assert!(rx.recv().await.is_err());
//! # });
//! ```

#![forbid(unsafe_code)]

mod channel;
pub(crate) mod delay;
mod error;
pub(crate) mod priority;
mod stats;

#[cfg(all(test, weir_loom))]
mod loom_tests;

#[cfg(feature = "test-util")]
pub(crate) mod fuzz;

pub use channel::{Receiver, Sender, bounded, unbounded};
pub use delay::DelayKey;
pub use error::{RecvError, SendError, TryRecvError, TrySendError};
pub use priority::{MAX_LANES, PriorityPushError, PriorityQueueBuilder};
pub use stats::PriorityQueueStats;
