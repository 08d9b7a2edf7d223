//! What a retry asks of the caller's types: which errors and values to
//! retry, where a delay hint comes from, who hears about each retry. Each is
//! a trait implemented by plain closures and by a zero-sized default, so a
//! `Retry` is fully static: no boxing, no allocation per decision.

use std::time::Duration;

/// An error (or any type) that can say how long to wait before retrying,
/// e.g. from an HTTP `Retry-After` header or a gRPC pushback.
///
/// Used by [`RetryBuilder::honor_retry_after`](super::RetryBuilder::honor_retry_after).
/// The hint replaces the computed backoff delay (`max_delay` does not cap
/// it; [`max_retry_after`](super::RetryBuilder::max_retry_after) does, by
/// giving up, and [`retry_after_jitter`](super::RetryBuilder::retry_after_jitter)
/// adds to it), the backoff schedule restarts after it, and the deadline
/// and budget still apply.
///
/// ```
/// use std::time::Duration;
/// use weir_core::resilience::RetryAfter;
/// struct TooMany { wait_s: u64 }
/// impl RetryAfter for TooMany {
///     fn retry_after(&self) -> Option<Duration> { Some(Duration::from_secs(self.wait_s)) }
/// }
/// assert_eq!(TooMany { wait_s: 2 }.retry_after(), Some(Duration::from_secs(2)));
/// ```
pub trait RetryAfter {
    /// How long to wait before the next attempt, if the error says.
    fn retry_after(&self) -> Option<Duration>;
}

impl RetryAfter for crate::resilience::CircuitOpen {
    /// The breaker's remaining open time (none when forced open).
    fn retry_after(&self) -> Option<Duration> {
        (self.remaining != Duration::MAX).then_some(self.remaining)
    }
}

impl<E: RetryAfter> RetryAfter for crate::resilience::BreakerError<E> {
    fn retry_after(&self) -> Option<Duration> {
        match self {
            crate::resilience::BreakerError::Open(o) => o.retry_after(),
            crate::resilience::BreakerError::Inner(e) => e.retry_after(),
        }
    }
}

/// Which errors to retry. Implemented by `Fn(&E) -> bool` and [`AnyError`].
///
/// ```
/// use weir_core::resilience::{AnyError, ErrorFilter};
/// assert!(AnyError.retry_error(&"anything"));
/// ```
pub trait ErrorFilter<E> {
    /// Whether to retry after `error`.
    fn retry_error(&self, error: &E) -> bool;
}

/// Retries every error (the default).
///
/// ```
/// use weir_core::resilience::{AnyError, ErrorFilter};
/// assert!(AnyError.retry_error(&1));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AnyError;

impl<E> ErrorFilter<E> for AnyError {
    fn retry_error(&self, _: &E) -> bool {
        true
    }
}

impl<E, F: Fn(&E) -> bool> ErrorFilter<E> for F {
    fn retry_error(&self, error: &E) -> bool {
        self(error)
    }
}

/// Which successful values to retry. Implemented by `Fn(&T) -> bool` and
/// [`NoValue`].
///
/// ```
/// use weir_core::resilience::{NoValue, ValueFilter};
/// assert!(!NoValue.retry_value(&503));
/// ```
pub trait ValueFilter<T> {
    /// Whether to retry after the value `value`.
    fn retry_value(&self, value: &T) -> bool;
}

/// Retries no value (the default).
///
/// ```
/// use weir_core::resilience::{NoValue, ValueFilter};
/// assert!(!NoValue.retry_value(&()));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoValue;

impl<T> ValueFilter<T> for NoValue {
    fn retry_value(&self, _: &T) -> bool {
        false
    }
}

impl<T, F: Fn(&T) -> bool> ValueFilter<T> for F {
    fn retry_value(&self, value: &T) -> bool {
        self(value)
    }
}

/// Where a delay hint comes from. Implemented by
/// `Fn(&E) -> Option<Duration>`, [`NoHint`] and [`FromRetryAfter`].
///
/// ```
/// use weir_core::resilience::{HintSource, NoHint};
/// assert_eq!(NoHint.hint(&"err"), None);
/// ```
pub trait HintSource<E> {
    /// The delay `error` asks for, if any.
    fn hint(&self, error: &E) -> Option<std::time::Duration>;
}

/// No hints: always the computed backoff (the default).
///
/// ```
/// use weir_core::resilience::{HintSource, NoHint};
/// assert_eq!(NoHint.hint(&0), None);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHint;

impl<E> HintSource<E> for NoHint {
    fn hint(&self, _: &E) -> Option<Duration> {
        None
    }
}

/// Hints from the error's [`RetryAfter`] implementation.
///
/// ```
/// use std::time::Duration;
/// use weir_core::resilience::{CircuitOpen, FromRetryAfter, HintSource};
/// let e = CircuitOpen { remaining: Duration::from_secs(4) };
/// assert_eq!(FromRetryAfter.hint(&e), Some(Duration::from_secs(4)));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct FromRetryAfter;

impl<E: RetryAfter> HintSource<E> for FromRetryAfter {
    fn hint(&self, error: &E) -> Option<Duration> {
        error.retry_after()
    }
}

impl<E, F: Fn(&E) -> Option<Duration>> HintSource<E> for F {
    fn hint(&self, error: &E) -> Option<Duration> {
        self(error)
    }
}

/// Why an attempt is being retried, as a [`RetryHook`] sees it: the
/// operation's own error, a value the retry was told to retry, or one of
/// weir's own outcomes from a layer inside the retry of a
/// [`Policy`](crate::policy::Policy).
///
/// A hook can thus tell a retry after a per-attempt timeout from one after
/// an open breaker or a rate limit, which a log or a metric usually wants
/// to say. [`Retry::run`](super::Retry::run) alone only ever reports
/// [`Error`](Self::Error) and [`Value`](Self::Value).
///
/// ```
/// use std::time::Duration;
/// use weir_core::resilience::RetryCause;
/// let cause: RetryCause<'_, std::io::Error> = RetryCause::RateLimited { retry_after: Duration::from_millis(40) };
/// assert_eq!(cause.kind(), "rate_limited");
/// assert!(cause.error().is_none());
/// let e = "boom";
/// assert_eq!(RetryCause::Error(&e).error(), Some(&"boom"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum RetryCause<'a, E> {
    /// The operation failed with this error (the caller's own, untouched).
    Error(&'a E),
    /// The operation succeeded with a value that `retry_on_value` asked to
    /// retry.
    Value,
    /// A timeout layer inside the retry ended the attempt.
    Timeout,
    /// A rate limiter inside the retry refused the attempt; it would
    /// conform after `retry_after`.
    RateLimited {
        /// How long until an attempt would conform.
        retry_after: Duration,
    },
    /// A circuit breaker inside the retry was open.
    CircuitOpen {
        /// How long until it lets a probe through.
        remaining: Duration,
    },
    /// A bulkhead inside the retry refused the attempt (its queue was full,
    /// or the attempt waited its longest).
    Rejected,
}

impl<'a, E> RetryCause<'a, E> {
    /// The operation's error, when that is the cause.
    ///
    /// ```
    /// use weir_core::resilience::RetryCause;
    /// assert_eq!(RetryCause::<u8>::Timeout.error(), None);
    /// assert_eq!(RetryCause::Error(&7u8).error(), Some(&7));
    /// ```
    pub fn error(&self) -> Option<&'a E> {
        match self {
            RetryCause::Error(e) => Some(e),
            _ => None,
        }
    }

    /// A short name for the cause, as the `reason` of weir's own retry
    /// events and metrics spells it: `"error"`, `"value"`, `"timeout"`,
    /// `"rate_limited"`, `"circuit_open"` or `"rejected"`.
    ///
    /// ```
    /// use weir_core::resilience::RetryCause;
    /// assert_eq!(RetryCause::<()>::Value.kind(), "value");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            RetryCause::Error(_) => "error",
            RetryCause::Value => "value",
            RetryCause::Timeout => "timeout",
            RetryCause::RateLimited { .. } => "rate_limited",
            RetryCause::CircuitOpen { .. } => "circuit_open",
            RetryCause::Rejected => "rejected",
        }
    }
}

// By hand: a derive would ask `E: Clone`, which a reference does not need.
impl<E> Clone for RetryCause<'_, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for RetryCause<'_, E> {}

/// One retry about to happen, as seen by a [`RetryHook`].
///
/// ```
/// use std::time::Duration;
/// use weir_core::resilience::{RetryCause, RetryEvent};
/// let ev = RetryEvent { attempt: 1, delay: Duration::ZERO, cause: RetryCause::Error(&"boom") };
/// assert_eq!(ev.attempt, 1);
/// assert_eq!(ev.cause.error(), Some(&"boom"));
/// ```
#[derive(Debug)]
pub struct RetryEvent<'a, E> {
    /// The attempt that just failed (1 = the first call).
    pub attempt: u32,
    /// The sleep before the next attempt.
    pub delay: Duration,
    /// Why the attempt is retried.
    pub cause: RetryCause<'a, E>,
}

impl<E> Clone for RetryEvent<'_, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for RetryEvent<'_, E> {}

/// Hears about every retry. Implemented by `Fn(&RetryEvent<E>)` and
/// [`NoHook`].
///
/// ```
/// use weir_core::resilience::{NoHook, RetryCause, RetryEvent, RetryHook};
/// NoHook.on_retry(&RetryEvent::<()> { attempt: 1, delay: Default::default(), cause: RetryCause::Value });
/// ```
pub trait RetryHook<E> {
    /// Called before the sleep of each retry.
    fn on_retry(&self, event: &RetryEvent<'_, E>);
}

/// No hook (the default).
///
/// ```
/// use weir_core::resilience::{NoHook, RetryCause, RetryEvent, RetryHook};
/// NoHook.on_retry(&RetryEvent::<u8> { attempt: 2, delay: Default::default(), cause: RetryCause::Timeout });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHook;

impl<E> RetryHook<E> for NoHook {
    fn on_retry(&self, _: &RetryEvent<'_, E>) {}
}

impl<E, F: Fn(&RetryEvent<'_, E>)> RetryHook<E> for F {
    fn on_retry(&self, event: &RetryEvent<'_, E>) {
        self(event)
    }
}
