//! Synchronisation primitives: the fair, weighted, closeable [`Semaphore`](crate::Semaphore)
//! the limiters, scheduler and pools stand on.
//!
//! # What
//!
//! A [`Semaphore`](crate::Semaphore) holds a number of permits. [`Semaphore::acquire`](crate::Semaphore::acquire) waits
//! for one of them, [`Semaphore::acquire_many`](crate::Semaphore::acquire_many) for `n`, and each resolves
//! to a guard ([`Permit`], or [`OwnedPermit`] from
//! [`Semaphore::acquire_owned`](crate::Semaphore::acquire_owned)) that gives them back when dropped,
//! including on unwind. Permits can be added, forgotten, and the semaphore
//! closed, which fails every waiter at once. Waiting allocates nothing:
//! each acquire future carries its own queue node.
//!
//! ```
//! use weir_core::Semaphore;
//!
//! let sem = Semaphore::new(10);
//! futures_lite::future::block_on(async {
//!     let big = sem.acquire_many(8).await.unwrap();
//!     assert_eq!(sem.available_permits(), 2);
//!     drop(big);
//! });
//! ```
//!
//! # When not to use it
//!
//! For a plain mutual exclusion around data, an async mutex says more. For
//! "at most N requests per second", use a rate limiter (`crate::limit`):
//! a semaphore bounds how many run *at once*, not how often they start. If
//! every caller is synchronous, `std::sync` primitives cost less.
//!
//! # The fairness rule
//!
//! In the default [`Fairness::Fair`] mode, waiters are served strictly in
//! the order they started waiting. Released permits go to the oldest
//! waiter first, in part if there are not enough for all it asked for, and
//! no later acquire (not even `try_acquire`) takes permits while an earlier
//! one waits. So a request for 10 at the head is never starved by requests
//! for 1 behind it: they wait until it is served. A cancelled waiter's
//! partial grant goes back and on to the next waiters.
//!
//! In [`Fairness::Barging`] mode, an acquire takes free permits if there
//! are enough, whoever waits; waiters are served in FIFO order among
//! themselves, whole requests only. That trades fairness for throughput
//! under contention.
//!
//! # Requests that can never be met
//!
//! A request is measured against the semaphore's *total*: the permits in
//! existence, free, held or granted to waiters. It grows with
//! [`Semaphore::add_permits`](crate::Semaphore::add_permits) and shrinks with
//! [`Semaphore::forget_permits`](crate::Semaphore::forget_permits) and [`Permit::forget`].
//!
//! * An acquire of more than the total that would have to wait fails at
//!   once with [`AcquireError::ExceedsTotal`] (`try_acquire`:
//!   [`TryAcquireError::ExceedsTotal`]), taking nothing. It never joins the
//!   queue, where, at the head, it would take every permit as a partial
//!   grant (fair mode) or stop the queue (barging mode) for good.
//! * When forgetting permits lowers the total below what a queued waiter
//!   asks for, that waiter fails at once with the same error; what it was
//!   partly granted goes back and on to the waiters behind it.
//! * Permits added later do not bring a failed request back: it is
//!   measured when it would start waiting, and its caller asks again if it
//!   wants to. A waiter that fits the total keeps waiting and is served by
//!   added permits in its turn. So a semaphore with no permits at all
//!   refuses every non-zero request; to make callers wait for permits
//!   you will add, create them first and hold them (for instance in one
//!   guard taken at once with `try_acquire`), then release.
//!
//! ```
//! use weir_core::{Semaphore, sync::AcquireError};
//!
//! let sem = Semaphore::new(2);
//! futures_lite::future::block_on(async {
//!     let err = sem.acquire_many(3).await.unwrap_err();
//!     assert_eq!(err, AcquireError::ExceedsTotal { requested: 3, total: 2 });
//!     assert_eq!(sem.available_permits(), 2, "nothing was taken");
//!     sem.add_permits(1).unwrap();
//!     assert_eq!(sem.acquire_many(3).await.unwrap().num_permits(), 3);
//! });
//! ```
//!
//! The limit is one of existence, not of availability: a task that holds
//! permits and asks for more than the others can give back still waits
//! for ever, as with any semaphore.
//!
//! # Memory ordering
//!
//! Releasing permits (dropping a guard, [`Semaphore::add_permits`](crate::Semaphore::add_permits))
//! happens-before the acquire that obtains those permits returns, as with
//! a mutex: whatever the releasing task wrote is visible to the task that
//! gets the permits next. [`Semaphore::close`](crate::Semaphore::close) happens-before a waiter
//! observes [`AcquireError::Closed`]. [`Semaphore::available_permits`](crate::Semaphore::available_permits) is a
//! snapshot, stale as soon as it returns.

pub(crate) mod semaphore;

pub use semaphore::{
    Acquire, AcquireError, AcquireOwned, Fairness, OwnedPermit, Permit, PermitOverflow,
    SemaphoreBuilder, TryAcquireError,
};

#[cfg(feature = "test-util")]
pub(crate) mod fuzz;
