//! The one error type of a composed [`Policy`](super::Policy).

use core::fmt;
use std::time::Duration;

use crate::resilience::RetryAfter;

/// Why a call through a [`Policy`](crate::Policy) produced no value: the
/// caller's own error `E`, kept intact, or one of weir's outcomes.
///
/// ```
/// use std::time::Duration;
/// use weir_core::Error;
///
/// let e: Error<std::io::Error> = Error::RateLimited { retry_after: Duration::from_millis(40) };
/// assert!(e.is_weir());
/// assert_eq!(e.to_string(), "rate limited; retry after 40ms");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error<E> {
    /// The operation itself failed; its error, untouched.
    Inner(E),
    /// The attempt (or the whole call) ran past its time and was dropped.
    Timeout,
    /// The rate limiter refused the call; it would conform after
    /// `retry_after`.
    RateLimited {
        /// How long until a call would conform.
        retry_after: Duration,
    },
    /// The circuit breaker is open (or its half-open probes are taken).
    CircuitOpen {
        /// How long until it lets a probe through; `Duration::MAX` when
        /// forced open.
        remaining: Duration,
    },
    /// The bulkhead refused the call.
    Rejected(Rejection),
    /// The call was cancelled before it finished, by the token of
    /// [`Policy::call_with_cancel`](crate::Policy::call_with_cancel) or of a
    /// [`cancel_on`](crate::Policy::cancel_on) stage. Never retried.
    Cancelled,
    /// A component the call needed was closed.
    Closed,
}

/// Why a bulkhead refused a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rejection {
    /// Every slot was busy and the wait queue was full.
    QueueFull,
    /// The call waited `acquire_timeout` without getting a slot.
    WaitTimeout,
}

impl<E> Error<E> {
    /// Whether this is one of weir's outcomes rather than the caller's
    /// error.
    ///
    /// ```
    /// use weir_core::Error;
    /// assert!(!Error::Inner("boom").is_weir());
    /// assert!(Error::<&str>::Timeout.is_weir());
    /// ```
    pub fn is_weir(&self) -> bool {
        !matches!(self, Error::Inner(_))
    }

    /// The caller's error, if that is what this is.
    ///
    /// ```
    /// use weir_core::Error;
    /// assert_eq!(Error::Inner(7).into_inner(), Some(7));
    /// assert_eq!(Error::<i32>::Closed.into_inner(), None);
    /// ```
    pub fn into_inner(self) -> Option<E> {
        match self {
            Error::Inner(e) => Some(e),
            _ => None,
        }
    }

    /// Whether a later attempt may succeed: the caller's errors are the
    /// retry filter's business and count as transient here; cancellation
    /// and closing are final.
    ///
    /// ```
    /// use weir_core::Error;
    /// assert!(Error::<()>::Timeout.is_transient());
    /// assert!(!Error::<()>::Cancelled.is_transient());
    /// ```
    pub fn is_transient(&self) -> bool {
        !matches!(self, Error::Cancelled | Error::Closed)
    }

    /// Whether a retry stage retries this outcome when no filter says
    /// otherwise: the caller's errors (as the default
    /// [`AnyError`](crate::resilience::AnyError) does), a timeout, a
    /// rate-limit refusal, a breaker that will admit a probe (not one forced
    /// open, which only a manual change ends) and a bulkhead refusal: yes.
    /// Cancellation and closing: no, and no filter can change that. See
    /// [the rule in full](super#which-outcomes-a-retry-retries).
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_core::Error;
    /// assert!(Error::<()>::Timeout.retried_by_default());
    /// assert!(!Error::<()>::CircuitOpen { remaining: Duration::MAX }.retried_by_default());
    /// assert!(!Error::<()>::Cancelled.retried_by_default());
    /// ```
    pub fn retried_by_default(&self) -> bool {
        match self {
            Error::Inner(_) | Error::Timeout | Error::RateLimited { .. } | Error::Rejected(_) => {
                true
            }
            Error::CircuitOpen { remaining } => *remaining != Duration::MAX,
            Error::Cancelled | Error::Closed => false,
        }
    }
}

impl<E> RetryAfter for Error<E> {
    /// The wait weir itself knows of: a rate limiter's `retry_after`, an open
    /// breaker's `remaining`. The caller's errors carry none here; the retry
    /// policy's own hint source reads those.
    fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after } => Some(*retry_after),
            Error::CircuitOpen { remaining } if *remaining != Duration::MAX => Some(*remaining),
            _ => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Inner(e) => e.fmt(f),
            Error::Timeout => f.write_str("timed out"),
            Error::RateLimited { retry_after } => {
                write!(f, "rate limited; retry after {retry_after:?}")
            }
            Error::CircuitOpen { remaining } if *remaining == Duration::MAX => {
                f.write_str("circuit open until reset")
            }
            Error::CircuitOpen { remaining } => write!(f, "circuit open for {remaining:?}"),
            Error::Rejected(Rejection::QueueFull) => f.write_str("rejected: bulkhead queue full"),
            Error::Rejected(Rejection::WaitTimeout) => {
                f.write_str("rejected: bulkhead wait timed out")
            }
            Error::Cancelled => f.write_str("cancelled"),
            Error::Closed => f.write_str("closed"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Error<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Inner(e) => Some(e),
            _ => None,
        }
    }
}
