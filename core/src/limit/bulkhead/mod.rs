//! A bulkhead: at most N calls in flight, a bounded queue for the rest,
//! and a reason for every refusal. The rules are documented on
//! [`Bulkhead`], the type users see.

mod acquire;
mod builder;
mod error;
mod raw;
mod stats;

#[cfg(all(test, weir_loom))]
mod loom_tests;

use core::fmt;
use std::time::Duration;

pub use acquire::Acquire;
pub use builder::{BulkheadBuilder, QueueOrder};
pub use error::BulkheadError;
pub use stats::BulkheadStats;

use crate::ConfigError;
use crate::Runtime;
use crate::loom::sync::Arc;
use raw::{Entry, Fast, Raw};

/// A bulkhead: at most N calls in flight, a bounded queue for the rest,
/// and a reason for every refusal.
///
/// Cheap to clone: clones share the same permits, queue and counters.
///
/// A [`Bulkhead`] hands out permits; a call runs while it holds one and
/// gives it back by dropping the [`BulkheadPermit`] (also when the call
/// panics and unwinds). What happens to a caller that finds no permit free
/// is set by three knobs:
///
/// * **`queue_capacity`**, counted in *permits*, not callers: a waiter for
///   `acquire_many(3)` takes three places. A caller that does not fit is
///   refused with [`BulkheadError::QueueFull`].
/// * **`acquire_timeout`**: a waiter is refused with
///   [`BulkheadError::WaitTimeout`] exactly `acquire_timeout` after it joined the
///   queue (on the runtime's clock). `acquire_timeout = 0` means *never wait*: the
///   caller is refused at once with `QueueFull`, without yielding to the
///   executor, so `WaitTimeout` always means "waited and gave up".
/// * **[`QueueOrder`]**: `Fifo` serves the oldest waiter first and lets no
///   newcomer take a free permit while anyone waits; `Lifo` serves the
///   newest first and, when the queue is full, pushes the oldest out (with
///   `QueueFull`) to make room, which keeps the latency of the calls that do
///   run low when the queue cannot drain (Netflix's LIFO limiter, .NET's
///   `NewestFirst`). Either way a waiter at the head that needs more permits
///   than are free holds back the ones behind it (no overtaking by size).
///
/// [`close`](Bulkhead::close) refuses every waiter and every later caller
/// with [`BulkheadError::Closed`]; permits already held stay valid.
///
/// The limit can change at run time ([`Bulkhead::set_max_concurrent`]),
/// which is how an [`AdaptiveLimiter`](crate::AdaptiveLimiter) drives it:
/// raising it admits waiters at once, lowering it takes effect as permits
/// come back (nothing is revoked).
///
/// **No request waits for what it can never get.** A request for more
/// permits than the limit in force is refused with
/// [`BulkheadError::Oversized`]: at once when it is made (whatever the
/// order, `acquire_timeout` or the queue), and, when the limit is lowered below
/// what a queued caller asked for, at the moment of the lowering (not when
/// its `acquire_timeout` runs out). Such a caller could never be admitted, and at
/// the head of the line it would hold back every caller behind it; once it
/// is refused, the others are served as permits come back. A later raise
/// does not bring a refused caller back: it asks again if it wants to.
///
/// # Cost
///
/// When nobody waits, admission is one compare-and-swap and release one
/// atomic subtraction. Waiting callers take a short lock; their places live
/// in a slab allocated when the bulkhead is built (up to 1024 places,
/// growing once if more wait at once), so waiting allocates nothing.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use weir_core::{Bulkhead, limit::BulkheadError};
/// # #[cfg(feature = "test-util")] {
/// let rt = weir_core::test_util::VirtualRuntime::new();
/// let bulkhead = Bulkhead::builder()
///     .max_concurrent(2)
///     .queue_capacity(1)
///     .acquire_timeout(Duration::from_secs(1))
///     .build(rt.clone())?;
/// rt.block_on(async {
///     let _a = bulkhead.acquire().await?;
///     let _b = bulkhead.acquire().await?;
///     // The third caller waits one second, then gives up.
///     assert_eq!(bulkhead.acquire().await.unwrap_err(), BulkheadError::WaitTimeout);
///     assert_eq!(rt.elapsed(), Duration::from_secs(1));
///     Ok::<_, BulkheadError>(())
/// }).unwrap();
/// # }
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
pub struct Bulkhead<R> {
    raw: Arc<Raw>,
    rt: R,
    acquire_timeout: Duration,
    queue_capacity: u32,
    order: QueueOrder,
}

impl<R: Clone> Clone for Bulkhead<R> {
    fn clone(&self) -> Self {
        Bulkhead {
            raw: self.raw.clone(),
            rt: self.rt.clone(),
            acquire_timeout: self.acquire_timeout,
            queue_capacity: self.queue_capacity,
            order: self.order,
        }
    }
}

impl<R> fmt::Debug for Bulkhead<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bulkhead")
            .field("max_concurrent", &self.raw.limit())
            .field("in_flight", &self.raw.in_flight())
            .field("queue_capacity", &self.queue_capacity)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("order", &self.order)
            .field("closed", &self.raw.is_closed())
            .finish()
    }
}

impl Bulkhead<()> {
    /// Starts configuring a bulkhead.
    ///
    /// ```
    /// let builder = weir_core::Bulkhead::builder().max_concurrent(8);
    /// # drop(builder);
    /// ```
    pub fn builder() -> BulkheadBuilder {
        BulkheadBuilder::new()
    }
}

impl<R: Runtime> Bulkhead<R> {
    /// Takes one permit if one is free now, without waiting or yielding.
    ///
    /// # Errors
    ///
    /// [`BulkheadError::QueueFull`] when no permit is free (or, under
    /// `Fifo`, when others wait for one), [`BulkheadError::Closed`] after
    /// [`close`](Bulkhead::close).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_core::Bulkhead::builder().max_concurrent(1)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// let p = b.try_acquire().unwrap();
    /// assert_eq!(
    ///     b.try_acquire().unwrap_err(),
    ///     weir_core::limit::BulkheadError::QueueFull { max_concurrent: 1, queue_capacity: 1024 }
    /// );
    /// # drop(p);
    /// # }
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Result<BulkheadPermit<'_>, BulkheadError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits at once if they are free now.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Bulkhead::try_acquire), plus
    /// [`BulkheadError::Oversized`] when `n` exceeds the limit.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_core::Bulkhead::builder().max_concurrent(4)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// let p = b.try_acquire_many(3).unwrap();
    /// assert_eq!(p.permits(), 3);
    /// assert!(b.try_acquire_many(2).is_err());
    /// # }
    /// ```
    #[inline]
    pub fn try_acquire_many(&self, n: u32) -> Result<BulkheadPermit<'_>, BulkheadError> {
        match self.raw.try_fast(n) {
            Fast::Admitted => Ok(BulkheadPermit { raw: &self.raw, n }),
            Fast::Full => Err(self.refuse_full(n)),
            Fast::Slow => match self.raw.enter(n, None) {
                Entry::Admitted => Ok(BulkheadPermit { raw: &self.raw, n }),
                Entry::Rejected(reason) => Err(reason),
                Entry::Queued(_) => unreachable!("a caller without a waker never queues"),
            },
        }
    }

    /// Refuses a caller that found no room on the fast path.
    fn refuse_full(&self, n: u32) -> BulkheadError {
        let limit = self.raw.limit();
        let reason = if n > limit {
            BulkheadError::Oversized
        } else {
            BulkheadError::QueueFull {
                max_concurrent: limit,
                queue_capacity: self.queue_capacity,
            }
        };
        self.raw.reject(reason)
    }

    /// Waits for one permit, within the queue's bounds.
    ///
    /// Resolves at once when a permit is free (and, under `Fifo`, nobody
    /// waits); otherwise joins the queue, or is refused if it cannot.
    ///
    /// # Errors
    ///
    /// [`BulkheadError::QueueFull`] (no room to wait, or pushed out under
    /// `Lifo`), [`BulkheadError::WaitTimeout`] (waited `acquire_timeout`),
    /// [`BulkheadError::Closed`].
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::Bulkhead::builder().max_concurrent(1).build(rt.clone()).unwrap();
    /// rt.block_on(async {
    ///     let permit = b.acquire().await.unwrap();
    ///     assert_eq!(permit.permits(), 1);
    /// });
    /// # }
    /// ```
    pub fn acquire(&self) -> Acquire<'_, R> {
        Acquire::new(self, 1)
    }

    /// Waits for `n` permits at once; they count `n` places in the queue.
    ///
    /// # Errors
    ///
    /// As [`acquire`](Bulkhead::acquire), plus [`BulkheadError::Oversized`]
    /// when `n` exceeds the limit at the time of the call.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::Bulkhead::builder().max_concurrent(2).build(rt.clone()).unwrap();
    /// rt.block_on(async {
    ///     assert_eq!(b.acquire_many(3).await.unwrap_err(), weir_core::limit::BulkheadError::Oversized);
    ///     assert_eq!(b.acquire_many(2).await.unwrap().permits(), 2);
    /// });
    /// # }
    /// ```
    pub fn acquire_many(&self, n: u32) -> Acquire<'_, R> {
        Acquire::new(self, n)
    }

    /// Changes the limit. Raising it admits waiters at once; lowering it
    /// takes effect as permits come back (none is revoked, so `in_flight`
    /// may exceed the new limit for a while), and refuses at once, with
    /// [`BulkheadError::Oversized`], every queued caller that asked for more
    /// permits than the new limit, so that the callers behind it proceed.
    ///
    /// # Errors
    ///
    /// The builder's rule for `max_concurrent` (1 to 2³¹ − 1); the limit is
    /// then unchanged.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_core::Bulkhead::builder().max_concurrent(1)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// b.set_max_concurrent(5).unwrap();
    /// assert_eq!(b.max_concurrent(), 5);
    /// assert!(b.set_max_concurrent(0).is_err());
    /// # }
    /// ```
    ///
    /// A queued caller that no longer fits is refused, and the one behind
    /// it gets the next permit:
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use futures_lite::future::{block_on, poll_once};
    /// use weir_core::{Bulkhead, limit::BulkheadError};
    ///
    /// let b = Bulkhead::builder().max_concurrent(3).queue_capacity(4)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// let held = b.try_acquire_many(3).unwrap();
    /// let mut big = Box::pin(b.acquire_many(3));
    /// let mut small = Box::pin(b.acquire());
    /// assert!(block_on(poll_once(&mut big)).is_none());
    /// assert!(block_on(poll_once(&mut small)).is_none());
    /// b.set_max_concurrent(2).unwrap();
    /// assert_eq!(block_on(big).unwrap_err(), BulkheadError::Oversized);
    /// drop(held);
    /// assert_eq!(block_on(small).unwrap().permits(), 1);
    /// # }
    /// ```
    pub fn set_max_concurrent(&self, permits: u32) -> Result<(), ConfigError> {
        self.raw.set_limit(builder::check_limit(permits)?);
        Ok(())
    }

    /// The limit in force.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_core::Bulkhead::builder().max_concurrent(3)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// assert_eq!(b.max_concurrent(), 3);
    /// # }
    /// ```
    pub fn max_concurrent(&self) -> u32 {
        self.raw.limit()
    }

    /// The queue's size, in permits.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_core::Bulkhead::builder().max_concurrent(3)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// assert_eq!(b.queue_capacity(), 1024); // the default
    /// # }
    /// ```
    pub fn queue_capacity(&self) -> u32 {
        self.queue_capacity
    }

    /// The longest a caller waits in the queue.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_core::Bulkhead::builder().max_concurrent(3)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// assert_eq!(b.acquire_timeout(), std::time::Duration::MAX);
    /// # }
    /// ```
    pub fn acquire_timeout(&self) -> Duration {
        self.acquire_timeout
    }

    /// Refuses every waiting caller and every later one with
    /// [`BulkheadError::Closed`]. Permits already held stay valid and are
    /// given back as usual. Idempotent.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_core::Bulkhead::builder().max_concurrent(3)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// b.close();
    /// assert!(b.is_closed());
    /// assert_eq!(b.try_acquire().unwrap_err(), weir_core::limit::BulkheadError::Closed);
    /// # }
    /// ```
    pub fn close(&self) {
        self.raw.close();
    }

    /// Whether [`close`](Bulkhead::close) was called.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_core::Bulkhead::builder().max_concurrent(3)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// assert!(!b.is_closed());
    /// # }
    /// ```
    pub fn is_closed(&self) -> bool {
        self.raw.is_closed()
    }

    /// A snapshot of the counters.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_core::Bulkhead::builder().max_concurrent(3)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// assert_eq!(b.stats().max_concurrent, 3);
    /// # }
    /// ```
    pub fn stats(&self) -> BulkheadStats {
        self.raw.stats()
    }

    /// Permits held now, without the other counters.
    pub(crate) fn in_flight(&self) -> u32 {
        self.raw.in_flight()
    }

    /// The runtime this bulkhead times its waiters with.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_core::Bulkhead::builder().max_concurrent(3)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// let _rt = b.runtime();
    /// # }
    /// ```
    pub fn runtime(&self) -> &R {
        &self.rt
    }
}

/// Permits held in a [`Bulkhead`]; dropping it gives them back (also during
/// a panic's unwinding).
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// let b = weir_core::Bulkhead::builder().max_concurrent(1)
///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
/// {
///     let _permit = b.try_acquire().unwrap();
///     assert!(b.try_acquire().is_err());
/// }
/// assert!(b.try_acquire().is_ok());
/// # }
/// ```
#[must_use = "dropping a permit gives it back at once"]
pub struct BulkheadPermit<'a> {
    raw: &'a Raw,
    n: u32,
}

impl BulkheadPermit<'_> {
    /// How many permits this holds.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_core::Bulkhead::builder().max_concurrent(2)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// assert_eq!(b.try_acquire_many(2).unwrap().permits(), 2);
    /// # }
    /// ```
    pub fn permits(&self) -> u32 {
        self.n
    }
}

impl Drop for BulkheadPermit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.raw.release(self.n);
    }
}

impl fmt::Debug for BulkheadPermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkheadPermit")
            .field("permits", &self.n)
            .finish()
    }
}
