//! Why a rate limiter said no.

use core::fmt;
use std::time::Duration;

/// The units do not conform now; they would after `retry_after`.
///
/// `retry_after` is exact for the state the check saw: asking again that
/// much later succeeds unless other callers took the units meanwhile.
///
/// ```
/// use std::time::Duration;
/// use weir_core::limit::RateLimited;
///
/// let e = RateLimited { retry_after: Duration::from_millis(100) };
/// assert_eq!(e.to_string(), "rate limited: retry after 100ms");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimited {
    /// How long until the request would conform.
    pub retry_after: Duration,
}

impl fmt::Display for RateLimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rate limited: retry after {:?}", self.retry_after)
    }
}

impl std::error::Error for RateLimited {}

/// More units were asked for than the bucket holds: the request can never
/// conform, so it fails at once instead of waiting forever.
///
/// ```
/// use weir_core::limit::InsufficientCapacity;
///
/// let e = InsufficientCapacity { requested: 8, burst: 5 };
/// assert_eq!(e.to_string(), "8 units requested but the burst is 5");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InsufficientCapacity {
    /// The units asked for.
    pub requested: u32,
    /// The most units one request can take.
    pub burst: u32,
}

impl fmt::Display for InsufficientCapacity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} units requested but the burst is {}",
            self.requested, self.burst
        )
    }
}

impl std::error::Error for InsufficientCapacity {}

/// Why [`try_acquire_many`](super::RateLimiter::try_acquire_many) refused.
///
/// ```
/// use weir_core::limit::{InsufficientCapacity, TryAcquireError};
///
/// let e = TryAcquireError::from(InsufficientCapacity { requested: 8, burst: 5 });
/// assert_eq!(e.retry_after(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TryAcquireError {
    /// Not now; later.
    RateLimited(RateLimited),
    /// Never: more than the burst was asked for.
    InsufficientCapacity(InsufficientCapacity),
}

impl TryAcquireError {
    /// When to try again, or `None` if trying again cannot help.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_core::limit::{RateLimited, TryAcquireError};
    ///
    /// let e = TryAcquireError::from(RateLimited { retry_after: Duration::from_secs(1) });
    /// assert_eq!(e.retry_after(), Some(Duration::from_secs(1)));
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            TryAcquireError::RateLimited(r) => Some(r.retry_after),
            TryAcquireError::InsufficientCapacity(_) => None,
        }
    }
}

impl From<RateLimited> for TryAcquireError {
    fn from(e: RateLimited) -> Self {
        TryAcquireError::RateLimited(e)
    }
}

impl From<InsufficientCapacity> for TryAcquireError {
    fn from(e: InsufficientCapacity) -> Self {
        TryAcquireError::InsufficientCapacity(e)
    }
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::RateLimited(e) => e.fmt(f),
            TryAcquireError::InsufficientCapacity(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for TryAcquireError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TryAcquireError::RateLimited(e) => Some(e),
            TryAcquireError::InsufficientCapacity(e) => Some(e),
        }
    }
}
