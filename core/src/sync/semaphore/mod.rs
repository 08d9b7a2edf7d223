//! The public semaphore: constructors, the acquire family, permit
//! management, close. The algorithm lives in `raw`; the waiter queue in
//! `waitlist`.

mod acquire;
mod error;
mod permit;
pub(crate) mod raw;
mod waitlist;
mod wake_list;

#[cfg(all(test, weir_loom))]
mod loom_tests;

use core::fmt;
use std::borrow::Cow;
use std::sync::Arc;

pub use acquire::{Acquire, AcquireOwned};
pub use error::{AcquireError, PermitOverflow, TryAcquireError};
pub use permit::{OwnedPermit, Permit};

use crate::obs::{Name, semaphore::SemaphoreObs};
use crate::{ConfigError, Rule};
use raw::{MAX_PERMITS, RawSemaphore, TakeError};

/// A fair, weighted, closeable async semaphore. See the [module
/// docs](crate::sync) for the fairness rule and memory ordering.
///
/// ```
/// use weir_core::Semaphore;
///
/// let sem = Semaphore::new(2);
/// futures_lite::future::block_on(async {
///     let a = sem.acquire().await.unwrap();
///     let b = sem.acquire().await.unwrap();
///     assert!(sem.try_acquire().is_err());
///     drop((a, b));
///     assert_eq!(sem.available_permits(), 2);
/// });
/// ```
pub struct Semaphore {
    pub(crate) raw: RawSemaphore,
    obs: SemaphoreObs,
}

/// Who gets released permits first.
///
/// ```
/// use weir_core::{Semaphore, sync::Fairness};
///
/// let sem = Semaphore::builder(4).fairness(Fairness::Barging).build().unwrap();
/// assert_eq!(sem.fairness(), Fairness::Barging);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fairness {
    /// Strict FIFO: permits go to the oldest waiter, in part if that is all
    /// there is, and nobody overtakes a waiter. The default.
    #[default]
    Fair,
    /// Any acquirer may take free permits, even while others wait; waiters
    /// are served in FIFO order among themselves, whole requests only. More
    /// throughput under contention; a large request can starve behind a
    /// stream of small ones.
    Barging,
}

/// Configures a [`Semaphore`]; made by [`Semaphore::builder`].
///
/// ```
/// use weir_core::{Semaphore, sync::Fairness};
///
/// let sem = Semaphore::builder(8)
///     .fairness(Fairness::Fair)
///     .spin(false)
///     .build()?;
/// assert_eq!(sem.available_permits(), 8);
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing itself, use .build() to build the semaphore"]
pub struct SemaphoreBuilder {
    permits: usize,
    fairness: Fairness,
    spin: bool,
    name: Name,
}

impl SemaphoreBuilder {
    /// Fair (the default) or barging.
    ///
    /// ```
    /// # use weir_core::{Semaphore, sync::Fairness};
    /// let b = Semaphore::builder(1).fairness(Fairness::Barging);
    /// assert_eq!(b.build().unwrap().fairness(), Fairness::Barging);
    /// ```
    pub fn fairness(mut self, fairness: Fairness) -> Self {
        self.fairness = fairness;
        self
    }

    /// Whether a waiter at the head of the queue briefly re-checks for its
    /// grant before it parks its task (default on). The spin is short and
    /// bounded; it saves a wake-up per hand-off when holders release
    /// quickly on other threads. Turn it off on a single-threaded executor,
    /// where the holder cannot run while the waiter spins.
    ///
    /// ```
    /// let sem = weir_core::Semaphore::builder(1).spin(false).build().unwrap();
    /// # drop(sem);
    /// ```
    pub fn spin(mut self, spin: bool) -> Self {
        self.spin = spin;
        self
    }

    /// Names the semaphore in its tracing events and metric labels (the
    /// `name` label; see [`obs`](crate::obs)). Default: `"default"`.
    ///
    /// ```
    /// let sem = weir_core::Semaphore::builder(4).name("uploads").build().unwrap();
    /// # drop(sem);
    /// ```
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Name::new(name);
        self
    }

    /// Builds the semaphore.
    ///
    /// # Errors
    ///
    /// `permits` above [`Semaphore::MAX_PERMITS`] ([`Rule::TooLarge`]).
    ///
    /// ```
    /// use weir_core::{Rule, Semaphore};
    ///
    /// let err = Semaphore::builder(usize::MAX).build().unwrap_err();
    /// assert_eq!((err.field(), err.rule()), ("permits", &Rule::TooLarge));
    /// ```
    pub fn build(self) -> Result<Semaphore, ConfigError> {
        if self.permits > MAX_PERMITS {
            return Err(ConfigError::new("Semaphore", "permits", Rule::TooLarge));
        }
        Ok(Semaphore {
            raw: RawSemaphore::new(self.permits, self.fairness == Fairness::Barging, self.spin),
            obs: SemaphoreObs::new(self.name),
        })
    }
}

impl Semaphore {
    /// The most permits a semaphore can hold (`usize::MAX / 4`).
    ///
    /// ```
    /// assert_eq!(weir_core::Semaphore::MAX_PERMITS, usize::MAX >> 2);
    /// ```
    pub const MAX_PERMITS: usize = MAX_PERMITS;

    /// A fair semaphore with `permits` permits.
    ///
    /// # Panics
    ///
    /// When `permits` exceeds [`Semaphore::MAX_PERMITS`]; use
    /// [`Semaphore::builder`] to get an error instead.
    ///
    /// ```
    /// let sem = weir_core::Semaphore::new(3);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn new(permits: usize) -> Self {
        match Semaphore::builder(permits).build() {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    /// A builder for a semaphore with `permits` permits: choose
    /// [`Fairness`] and spinning.
    ///
    /// ```
    /// let sem = weir_core::Semaphore::builder(2).build().unwrap();
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    pub fn builder(permits: usize) -> SemaphoreBuilder {
        SemaphoreBuilder {
            permits,
            fairness: Fairness::Fair,
            spin: true,
            name: Name::default(),
        }
    }

    /// Waits for one permit: [`Semaphore::acquire_many`] with `n == 1`.
    /// The future is cancel-safe.
    ///
    /// # Errors
    ///
    /// [`AcquireError::Closed`] once the semaphore is closed;
    /// [`AcquireError::ExceedsTotal`] when no permit is left in existence
    /// (all were forgotten).
    ///
    /// ```
    /// let sem = weir_core::Semaphore::new(1);
    /// futures_lite::future::block_on(async {
    ///     let p = sem.acquire().await.unwrap();
    ///     assert_eq!(p.num_permits(), 1);
    ///     assert_eq!(sem.available_permits(), 0);
    /// });
    /// ```
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits. `n == 0` completes at once. The future is
    /// cancel-safe: dropping it returns whatever it was granted so far.
    ///
    /// # Errors
    ///
    /// [`AcquireError::Closed`] once the semaphore is closed (a waiting
    /// acquire fails as soon as [`Semaphore::close`] runs);
    /// [`AcquireError::TooLarge`] when `n > MAX_PERMITS`;
    /// [`AcquireError::ExceedsTotal`] when `n` is more than the permits in
    /// existence, at once, or while waiting as soon as forgetting permits
    /// makes it so (see the [module docs](crate::sync)).
    ///
    /// ```
    /// let sem = weir_core::Semaphore::new(3);
    /// futures_lite::future::block_on(async {
    ///     let p = sem.acquire_many(3).await.unwrap();
    ///     assert_eq!(p.num_permits(), 3);
    /// });
    /// ```
    pub fn acquire_many(&self, n: usize) -> Acquire<'_> {
        Acquire::new(self, n)
    }

    /// [`Semaphore::acquire`] for an `Arc<Semaphore>`: the permit borrows
    /// nothing and can be moved into a spawned task.
    ///
    /// # Errors
    ///
    /// As for [`Semaphore::acquire`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(weir_core::Semaphore::new(1));
    /// let p = futures_lite::future::block_on(sem.clone().acquire_owned()).unwrap();
    /// std::thread::spawn(move || drop(p)).join().unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn acquire_owned(self: Arc<Self>) -> AcquireOwned {
        self.acquire_many_owned(1)
    }

    /// [`Semaphore::acquire_many`] for an `Arc<Semaphore>`.
    ///
    /// # Errors
    ///
    /// As for [`Semaphore::acquire_many`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(weir_core::Semaphore::new(3));
    /// let p = futures_lite::future::block_on(sem.clone().acquire_many_owned(2)).unwrap();
    /// assert_eq!(p.num_permits(), 2);
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn acquire_many_owned(self: Arc<Self>, n: usize) -> AcquireOwned {
        AcquireOwned::new(self, n)
    }

    /// Takes one permit now, or fails without waiting:
    /// [`Semaphore::try_acquire_many`] with `n == 1`.
    ///
    /// # Errors
    ///
    /// As for [`Semaphore::try_acquire_many`].
    ///
    /// ```
    /// use weir_core::{Semaphore, sync::TryAcquireError};
    /// let sem = Semaphore::new(1);
    /// let p = sem.try_acquire().unwrap();
    /// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    /// drop(p);
    /// assert!(sem.try_acquire().is_ok());
    /// ```
    pub fn try_acquire(&self) -> Result<Permit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits now, or fails without waiting. In fair mode it
    /// fails while anyone waits, even if enough permits are free, so it
    /// never overtakes a waiter.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`], [`TryAcquireError::Closed`],
    /// [`TryAcquireError::TooLarge`] when `n > MAX_PERMITS`, or
    /// [`TryAcquireError::ExceedsTotal`] when `n` is more than the permits
    /// in existence.
    ///
    /// ```
    /// use weir_core::{Semaphore, sync::TryAcquireError};
    /// let sem = Semaphore::new(3);
    /// let p = sem.try_acquire_many(2).unwrap();
    /// assert_eq!(sem.try_acquire_many(2).unwrap_err(), TryAcquireError::NoPermits);
    /// drop(p);
    /// assert_eq!(sem.try_acquire_many(3).unwrap().num_permits(), 3);
    /// ```
    pub fn try_acquire_many(&self, n: usize) -> Result<Permit<'_>, TryAcquireError> {
        self.try_take(n).map(|()| Permit::new(self, n))
    }

    /// [`Semaphore::try_acquire`] for an `Arc<Semaphore>`.
    ///
    /// # Errors
    ///
    /// As for [`Semaphore::try_acquire`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(weir_core::Semaphore::new(1));
    /// let p = sem.clone().try_acquire_owned().unwrap();
    /// assert!(sem.clone().try_acquire_owned().is_err());
    /// # drop(p);
    /// ```
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedPermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// [`Semaphore::try_acquire_many`] for an `Arc<Semaphore>`.
    ///
    /// # Errors
    ///
    /// As for [`Semaphore::try_acquire_many`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(weir_core::Semaphore::new(3));
    /// let p = sem.clone().try_acquire_many_owned(3).unwrap();
    /// assert!(sem.clone().try_acquire_many_owned(1).is_err());
    /// # drop(p);
    /// ```
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: usize,
    ) -> Result<OwnedPermit, TryAcquireError> {
        self.try_take(n).map(|()| OwnedPermit::new(self, n))
    }

    fn try_take(&self, n: usize) -> Result<(), TryAcquireError> {
        let taken = self.try_take_inner(n);
        if let Err(e) = &taken {
            self.obs.refused(n, e);
        }
        taken
    }

    #[inline]
    fn try_take_inner(&self, n: usize) -> Result<(), TryAcquireError> {
        if n > MAX_PERMITS {
            return Err(TryAcquireError::TooLarge { requested: n });
        }
        if n == 0 {
            return if self.raw.is_closed() {
                Err(TryAcquireError::Closed)
            } else {
                Ok(())
            };
        }
        self.raw.try_take(n).map_err(|e| match e {
            TakeError::NoPermits => match self.raw.total() {
                total if n > total => TryAcquireError::ExceedsTotal {
                    requested: n,
                    total,
                },
                _ => TryAcquireError::NoPermits,
            },
            TakeError::Closed => TryAcquireError::Closed,
            TakeError::ExceedsTotal(total) => TryAcquireError::ExceedsTotal {
                requested: n,
                total,
            },
        })
    }

    /// Adds `n` permits, serving waiters first in fair mode. A request
    /// that already failed with [`AcquireError::ExceedsTotal`] is not
    /// brought back; later requests are measured against the new total.
    ///
    /// # Errors
    ///
    /// [`PermitOverflow`] when the permits in existence (free, held and
    /// granted) would exceed [`Semaphore::MAX_PERMITS`]; nothing is added.
    ///
    /// ```
    /// let sem = weir_core::Semaphore::new(0);
    /// sem.add_permits(2).unwrap();
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    pub fn add_permits(&self, n: usize) -> Result<(), PermitOverflow> {
        self.raw
            .add_permits(n)
            .map_err(|()| PermitOverflow { rejected: n })?;
        self.obs.added(n);
        Ok(())
    }

    /// Removes up to `n` free permits for good and returns how many it
    /// removed. Held permits are untouched (see [`Permit::forget`]). Every
    /// waiter asking for more than the permits left in existence fails with
    /// [`AcquireError::ExceedsTotal`], and what it was partly granted goes
    /// to the waiters behind it.
    ///
    /// ```
    /// let sem = weir_core::Semaphore::new(3);
    /// assert_eq!(sem.forget_permits(5), 3);
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget_permits(&self, n: usize) -> usize {
        let forgotten = self.raw.forget_free(n);
        self.obs.forgotten(forgotten);
        forgotten
    }

    /// Closes the semaphore: every waiting acquire fails with
    /// [`AcquireError::Closed`] at once (what they were partly granted goes
    /// back), and every later acquire fails. Permits held stay valid and
    /// are still counted back when released.
    ///
    /// ```
    /// let sem = weir_core::Semaphore::new(1);
    /// sem.close();
    /// assert!(sem.is_closed());
    /// assert!(sem.try_acquire().is_err());
    /// ```
    pub fn close(&self) {
        self.raw.close();
        self.obs.closed();
    }

    /// Whether [`Semaphore::close`] was called.
    ///
    /// ```
    /// let sem = weir_core::Semaphore::new(1);
    /// assert!(!sem.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.raw.is_closed()
    }

    /// Free permits now: not held, and not already granted to a waiter
    /// (in fair mode the head waiter may hold a partial grant).
    ///
    /// ```
    /// let sem = weir_core::Semaphore::new(4);
    /// let _p = sem.try_acquire_many(3).unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.raw.available()
    }

    /// The fairness chosen at construction.
    ///
    /// ```
    /// use weir_core::{Semaphore, sync::Fairness};
    /// assert_eq!(Semaphore::new(1).fairness(), Fairness::Fair);
    /// ```
    pub fn fairness(&self) -> Fairness {
        if self.raw.is_barging() {
            Fairness::Barging
        } else {
            Fairness::Fair
        }
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available", &self.available_permits())
            .field("closed", &self.is_closed())
            .field("fairness", &self.fairness())
            .finish()
    }
}
