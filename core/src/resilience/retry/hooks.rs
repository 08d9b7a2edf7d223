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

/// One retry about to happen, as seen by a [`RetryHook`].
///
/// ```
/// use std::time::Duration;
/// use weir_core::resilience::RetryEvent;
/// let ev = RetryEvent { attempt: 1, delay: Duration::ZERO, error: Some(&"boom") };
/// assert_eq!(ev.attempt, 1);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RetryEvent<'a, E> {
    /// The attempt that just failed (1 = the first call).
    pub attempt: u32,
    /// The sleep before the next attempt.
    pub delay: Duration,
    /// The error, or `None` when a value was retried.
    pub error: Option<&'a E>,
}

/// Hears about every retry. Implemented by `Fn(&RetryEvent<E>)` and
/// [`NoHook`].
///
/// ```
/// use weir_core::resilience::{NoHook, RetryEvent, RetryHook};
/// NoHook.on_retry(&RetryEvent::<()> { attempt: 1, delay: Default::default(), error: None });
/// ```
pub trait RetryHook<E> {
    /// Called before the sleep of each retry.
    fn on_retry(&self, event: &RetryEvent<'_, E>);
}

/// No hook (the default).
///
/// ```
/// use weir_core::resilience::{NoHook, RetryEvent, RetryHook};
/// NoHook.on_retry(&RetryEvent::<u8> { attempt: 2, delay: Default::default(), error: None });
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
