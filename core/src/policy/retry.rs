//! The retry stage.

use core::future::Future;

use crate::obs;
use crate::{
    Error,
    policy::{OutcomeFilter, Stage},
};
use crate::{
    Retry, Runtime,
    resilience::{HintSource, RetryAfter, RetryCause, RetryEvent, RetryHook, ValueFilter},
};

/// Runs everything inside it again while the [`Retry`] policy allows.
///
/// Which failures are retried, and after how long, is
/// [the policy's rule](super#which-outcomes-a-retry-retries): the retry's
/// `retry_if` decides, over the caller's errors only (a `Fn(&E) -> bool`,
/// weir's outcomes keeping their default) or over every outcome (an
/// [`OnOutcome`](super::OnOutcome)); cancellation and closing are final.
/// The retry hook sees why each attempt is retried as a
/// [`RetryCause`]: the caller's error, a retried value, or which of weir's
/// outcomes (timeout, rate limit, open breaker, bulkhead refusal).
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::time::Duration;
/// use weir_core::Policy;
/// use weir_core::Retry;
/// use weir_core::test_util::VirtualRuntime;
///
/// let rt = VirtualRuntime::new();
/// let retry = Retry::constant(Duration::from_millis(100)).max_attempts(3).build().unwrap();
/// let policy = Policy::new(rt.clone()).retry(retry);
/// let calls = AtomicU32::new(0);
/// let out = rt.block_on(policy.call(|| {
///     let n = calls.fetch_add(1, Ordering::SeqCst);
///     async move { if n < 2 { Err("flaky") } else { Ok(n) } }
/// }));
/// assert_eq!(out, Ok(2));
/// assert_eq!(rt.elapsed(), Duration::from_millis(200));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RetryStage<P, V, H, N> {
    pub(crate) retry: Retry<P, V, H, N>,
}

impl<R, T, E, P, V, H, N> Stage<R, T, E> for RetryStage<P, V, H, N>
where
    R: Runtime,
    P: OutcomeFilter<E> + Sync,
    V: ValueFilter<T> + Sync,
    H: HintSource<E> + Sync,
    N: RetryHook<E> + Sync,
{
    fn run<'a, Op, Fut>(
        &'a self,
        rt: &'a R,
        op: &'a Op,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Fn() -> Fut + Sync + 'a,
        Fut: Future<Output = Result<T, Error<E>>> + Send + 'a,
        T: Send + 'a,
        E: Send + 'a,
    {
        async move {
            let retry = &self.retry;
            let mut state = retry.start_with(|| rt.now());
            loop {
                let result = obs::policy::attempt(op(), state.attempts()).await;
                // The cause borrows the result: kept in this block so that
                // no borrow lives across the sleep (the future stays Send
                // without asking `E: Sync`).
                let delay = {
                    let (hint, cause) = match &result {
                        Ok(v) if retry.retry_on_value.retry_value(v) => (None, RetryCause::Value),
                        Ok(_) => return result,
                        // Final, whatever a filter would say.
                        Err(Error::Cancelled | Error::Closed) => return result,
                        Err(e) if !retry.retry_if.retry_outcome(e) => return result,
                        Err(Error::Inner(e)) => (retry.hint.hint(e), RetryCause::Error(e)),
                        Err(weir) => (weir.retry_after(), cause_of(weir)),
                    };
                    let attempt = state.attempts();
                    match retry.next_delay(&mut state, rt.now(), hint) {
                        Ok(delay) => {
                            retry.obs.scheduled(attempt, delay, cause.kind());
                            retry.hook.on_retry(&RetryEvent {
                                attempt,
                                delay,
                                cause,
                            });
                            delay
                        }
                        Err(give_up) => {
                            retry
                                .obs
                                .gave_up(attempt, obs::retry::why(&result), give_up);
                            return result;
                        }
                    }
                };
                drop(result);
                rt.sleep(delay).await;
            }
        }
    }
}

/// The cause a hook sees for one of weir's own retried outcomes.
fn cause_of<E>(weir: &Error<E>) -> RetryCause<'_, E> {
    match weir {
        Error::Inner(e) => RetryCause::Error(e),
        Error::Timeout => RetryCause::Timeout,
        Error::RateLimited { retry_after } => RetryCause::RateLimited {
            retry_after: *retry_after,
        },
        Error::CircuitOpen { remaining } => RetryCause::CircuitOpen {
            remaining: *remaining,
        },
        // Cancelled and Closed are final and never reach a hook; a bulkhead
        // refusal is the only outcome left.
        Error::Rejected(_) | Error::Cancelled | Error::Closed => RetryCause::Rejected,
    }
}
