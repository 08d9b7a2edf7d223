//! The retry layer.

use core::future::Future;

use super::{Error, Layer};
use crate::resilience::{
    ErrorFilter, HintSource, Retry, RetryAfter, RetryEvent, RetryHook, ValueFilter,
};
use crate::rt::Runtime;

/// Runs everything inside it again while the [`Retry`] policy allows.
///
/// Which failures are retried, inside a pipeline: the caller's errors when
/// the retry's `retry_if` says so (with its hint source for `retry_after`);
/// values when `retry_on_value` says so; weir's own transient outcomes
/// always — a timeout after the back-off delay, a rate-limit rejection after
/// its `retry_after`, an open breaker after its remaining open time, a
/// bulkhead rejection after the back-off delay — as long as the attempts,
/// the deadline and the budget allow. Cancellation and closing are final.
/// The retry hook sees the caller's error, or `None` for weir's outcomes.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::time::Duration;
/// use weir_core::policy::Policy;
/// use weir_core::resilience::Retry;
/// use weir_core::rt::VirtualRuntime;
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
pub struct RetryLayer<P, V, H, N> {
    pub(crate) retry: Retry<P, V, H, N>,
}

impl<R, T, E, P, V, H, N> Layer<R, T, E> for RetryLayer<P, V, H, N>
where
    R: Runtime,
    P: ErrorFilter<E> + Sync,
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
                let result = op().await;
                let hint = match &result {
                    Ok(v) if retry.retry_on_value.retry_value(v) => None,
                    Err(Error::Inner(e)) if retry.retry_if.retry_error(e) => retry.hint.hint(e),
                    Err(e @ Error::Timeout)
                    | Err(e @ Error::RateLimited { .. })
                    | Err(e @ Error::CircuitOpen { .. })
                    | Err(e @ Error::Rejected(_)) => e.retry_after(),
                    _ => return result,
                };
                let attempt = state.attempts();
                match retry.next_delay(&mut state, rt.now(), hint) {
                    Ok(delay) => {
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
                    Err(_) => return result,
                }
            }
        }
    }
}
