//! The retry stage.

use core::future::Future;

use crate::Runtime;
use crate::obs;
use crate::{
    Error,
    policy::{OutcomeFilter, Stage},
};
use crate::{
    Retry,
    resilience::{HintSource, RetryAfter, RetryEvent, RetryHook, ValueFilter},
};

/// Runs everything inside it again while the [`Retry`] policy allows.
///
/// Which failures are retried, and after how long, is
/// [the policy's rule](super#which-outcomes-a-retry-retries): the retry's
/// `retry_if` decides, over the caller's errors only (a `Fn(&E) -> bool`,
/// weir's outcomes keeping their default) or over every outcome (an
/// [`OnOutcome`](super::OnOutcome)); cancellation and closing are final.
/// The retry hook sees the caller's error, or `None` for weir's outcomes.
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
                let hint = match &result {
                    Ok(v) if retry.retry_on_value.retry_value(v) => None,
                    Ok(_) => return result,
                    // Final, whatever a filter would say.
                    Err(Error::Cancelled | Error::Closed) => return result,
                    Err(e) if !retry.retry_if.retry_outcome(e) => return result,
                    Err(Error::Inner(e)) => retry.hint.hint(e),
                    Err(weir) => weir.retry_after(),
                };
                let attempt = state.attempts();
                match retry.next_delay(&mut state, rt.now(), hint) {
                    Ok(delay) => {
                        retry
                            .obs
                            .scheduled(attempt, delay, obs::retry::why(&result));
                        let error = match &result {
                            Err(Error::Inner(e)) => Some(e),
                            _ => None,
                        };
                        retry.hook.on_retry(&RetryEvent {
                            attempt,
                            delay,
                            error,
                        });
                        drop(result);
                        rt.sleep(delay).await;
                    }
                    Err(give_up) => {
                        retry
                            .obs
                            .gave_up(attempt, obs::retry::why(&result), give_up);
                        return result;
                    }
                }
            }
        }
    }
}
