//! What an acquire can answer instead of permits.

use core::fmt;

/// Why [`Semaphore::acquire`](super::Semaphore::acquire) (or
/// `acquire_many` and their owned twins) gave no permits.
///
/// ```
/// use weir_core::{Semaphore, sync::AcquireError};
///
/// let sem = Semaphore::new(1);
/// sem.close();
/// let err = futures_lite::future::block_on(sem.acquire()).unwrap_err();
/// assert_eq!(err, AcquireError::Closed);
/// assert_eq!(err.to_string(), "semaphore closed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AcquireError {
    /// The semaphore was closed before the permits were granted.
    Closed,
    /// More permits were asked for than a semaphore can ever hold
    /// ([`Semaphore::MAX_PERMITS`](super::Semaphore::MAX_PERMITS)).
    TooLarge {
        /// The number asked for.
        requested: usize,
    },
    /// More permits were asked for than this semaphore holds in all (free,
    /// held and granted), so waiting could never end: either when the
    /// acquire would have started waiting, or while it waited, when
    /// forgetting permits lowered the total below its request. See the
    /// [module docs](crate::sync) for the rule.
    ///
    /// ```
    /// use weir_core::{Semaphore, sync::AcquireError};
    ///
    /// let sem = Semaphore::new(2);
    /// let err = futures_lite::future::block_on(sem.acquire_many(3)).unwrap_err();
    /// assert_eq!(err, AcquireError::ExceedsTotal { requested: 3, total: 2 });
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    ExceedsTotal {
        /// The number asked for.
        requested: usize,
        /// The permits the semaphore held in all when the request failed.
        total: usize,
    },
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AcquireError::Closed => f.write_str("semaphore closed"),
            AcquireError::TooLarge { requested } => write!(
                f,
                "{requested} permits requested, more than a semaphore can hold"
            ),
            AcquireError::ExceedsTotal { requested, total } => write!(
                f,
                "{requested} permits requested, more than the {total} the semaphore holds in all"
            ),
        }
    }
}

impl std::error::Error for AcquireError {}

/// Why [`Semaphore::try_acquire`](super::Semaphore::try_acquire) (or
/// `try_acquire_many` and their owned twins) gave no permits.
///
/// ```
/// use weir_core::{Semaphore, sync::TryAcquireError};
///
/// let sem = Semaphore::new(1);
/// let _held = sem.try_acquire().unwrap();
/// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TryAcquireError {
    /// Not enough free permits now, or (fair mode) earlier waiters come
    /// first.
    NoPermits,
    /// The semaphore is closed.
    Closed,
    /// More permits were asked for than a semaphore can ever hold.
    TooLarge {
        /// The number asked for.
        requested: usize,
    },
    /// More permits were asked for than this semaphore holds in all, so
    /// they will not be free later either (unless permits are added).
    ///
    /// ```
    /// use weir_core::{Semaphore, sync::TryAcquireError};
    ///
    /// let sem = Semaphore::new(2);
    /// assert_eq!(
    ///     sem.try_acquire_many(3).unwrap_err(),
    ///     TryAcquireError::ExceedsTotal { requested: 3, total: 2 }
    /// );
    /// ```
    ExceedsTotal {
        /// The number asked for.
        requested: usize,
        /// The permits the semaphore held in all.
        total: usize,
    },
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::NoPermits => f.write_str("no permits available"),
            TryAcquireError::Closed => f.write_str("semaphore closed"),
            TryAcquireError::TooLarge { requested } => write!(
                f,
                "{requested} permits requested, more than a semaphore can hold"
            ),
            TryAcquireError::ExceedsTotal { requested, total } => write!(
                f,
                "{requested} permits requested, more than the {total} the semaphore holds in all"
            ),
        }
    }
}

impl std::error::Error for TryAcquireError {}

/// [`Semaphore::add_permits`](super::Semaphore::add_permits) would have
/// raised the number of permits past
/// [`Semaphore::MAX_PERMITS`](super::Semaphore::MAX_PERMITS); nothing was
/// added.
///
/// ```
/// use weir_core::Semaphore;
///
/// let sem = Semaphore::new(Semaphore::MAX_PERMITS);
/// let err = sem.add_permits(1).unwrap_err();
/// assert_eq!(err.rejected(), 1);
/// assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PermitOverflow {
    pub(super) rejected: usize,
}

impl PermitOverflow {
    /// The number of permits that was not added.
    ///
    /// ```
    /// # use weir_core::Semaphore;
    /// let sem = Semaphore::new(Semaphore::MAX_PERMITS - 1);
    /// assert_eq!(sem.add_permits(2).unwrap_err().rejected(), 2);
    /// ```
    pub fn rejected(&self) -> usize {
        self.rejected
    }
}

impl fmt::Display for PermitOverflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "adding {} permits would exceed the semaphore's maximum",
            self.rejected
        )
    }
}

impl std::error::Error for PermitOverflow {}
