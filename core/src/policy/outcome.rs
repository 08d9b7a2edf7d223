//! Which outcomes the retry stage retries: the caller's errors and weir's
//! own, decided by one filter with one default.

use crate::Error;
use crate::resilience::AnyError;

/// Decides, inside a [`Policy`](crate::Policy), whether a failed attempt is
/// retried; sees the whole outcome, weir's or the caller's.
///
/// Implemented for the default [`AnyError`] and for every `Fn(&E) -> bool`,
/// which decide the caller's errors and leave weir's outcomes to
/// [`Error::retried_by_default`]; and for [`OnOutcome`], which decides
/// everything. A type of one's own implements this trait (an
/// [`ErrorFilter`](crate::resilience::ErrorFilter) is for [`Retry::run`](crate::Retry::run)
/// alone). [`Error::Cancelled`] and [`Error::Closed`] are final and
/// never reach a filter. The rule in full:
/// [the policy docs](super#which-outcomes-a-retry-retries).
///
/// ```
/// use weir_core::{Error, policy::{OnOutcome, OutcomeFilter}};
/// use weir_core::resilience::AnyError;
///
/// assert!(OutcomeFilter::<()>::retry_outcome(&AnyError, &Error::Timeout));
/// let never_timeouts = OnOutcome(|e: &Error<()>| !matches!(e, Error::Timeout));
/// assert!(!never_timeouts.retry_outcome(&Error::Timeout));
/// ```
pub trait OutcomeFilter<E> {
    /// Whether to retry after `outcome`.
    fn retry_outcome(&self, outcome: &Error<E>) -> bool;
}

/// The default: every caller's error, and weir's outcomes by
/// [`Error::retried_by_default`].
impl<E> OutcomeFilter<E> for AnyError {
    fn retry_outcome(&self, outcome: &Error<E>) -> bool {
        outcome.retried_by_default()
    }
}

/// A `retry_if(|e: &E| ..)` closure: it decides the caller's errors, weir's
/// outcomes keep their default.
impl<E, F: Fn(&E) -> bool> OutcomeFilter<E> for F {
    fn retry_outcome(&self, outcome: &Error<E>) -> bool {
        match outcome {
            Error::Inner(e) => self(e),
            weir => weir.retried_by_default(),
        }
    }
}

/// A retry filter over the whole outcome of an attempt, weir's own
/// included: pass it to [`retry_if`](crate::resilience::RetryBuilder::retry_if)
/// for a [`Retry`](crate::Retry) used in a
/// [`Policy`](crate::Policy).
///
/// [`Error::retried_by_default`] is the default to fall back on.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::{Error, Policy, policy::OnOutcome};
/// use weir_core::Retry;
/// use weir_core::{Runtime, test_util::VirtualRuntime};
///
/// // A non-idempotent call: a timed-out attempt may have reached the
/// // server, so it is not retried; the rest keeps the default.
/// let retry = Retry::constant(Duration::from_millis(10))
///     .retry_if(OnOutcome(|e: &Error<std::io::Error>| match e {
///         Error::Timeout => false,
///         other => other.retried_by_default(),
///     }))
///     .build()
///     .unwrap();
/// let rt = VirtualRuntime::new();
/// let policy = Policy::new(rt.clone()).retry(retry).timeout(Duration::from_secs(1));
/// let r2 = rt.clone();
/// let out = rt.block_on(policy.call(|| {
///     let r2 = r2.clone();
///     async move { r2.sleep(Duration::from_secs(5)).await; Ok::<_, std::io::Error>(()) }
/// }));
/// assert!(matches!(out, Err(Error::Timeout)));
/// assert_eq!(rt.elapsed(), Duration::from_secs(1), "one attempt, not retried");
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct OnOutcome<F>(pub F);

impl<E, F: Fn(&Error<E>) -> bool> OutcomeFilter<E> for OnOutcome<F> {
    fn retry_outcome(&self, outcome: &Error<E>) -> bool {
        (self.0)(outcome)
    }
}
