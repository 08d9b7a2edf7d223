//! The rate-limit stage.

use core::future::Future;

use crate::RateLimiter;
use crate::Runtime;
use crate::limit::Clock;
use crate::obs;
use crate::{Error, policy::Stage};

/// What the rate-limit stage does with a call that does not conform now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateMode {
    /// Wait for the call's slot (FIFO, cancel-safe): the usual choice in
    /// front of a quota.
    Wait,
    /// Fail at once with [`Error::RateLimited`] and its `retry_after`, for an
    /// outer retry or the caller to schedule.
    Reject,
}

/// Admits each attempt through a [`RateLimiter`].
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::RateLimiter;
/// use weir_core::{Error, Policy};
/// use weir_core::test_util::VirtualRuntime;
///
/// let rt = VirtualRuntime::new();
/// let limiter = RateLimiter::builder().quota(weir_core::Quota::new(1, Duration::from_secs(1))).build(rt.clone()).unwrap();
/// let policy = Policy::new(rt.clone()).rate_limit_or_reject(limiter);
/// assert_eq!(rt.block_on(policy.call(|| async { Ok::<_, ()>(1) })), Ok(1));
/// let second = rt.block_on(policy.call(|| async { Ok::<_, ()>(2) }));
/// assert_eq!(second, Err(Error::RateLimited { retry_after: Duration::from_secs(1) }));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RateLimitStage<R: Runtime, C: Clock> {
    pub(crate) limiter: RateLimiter<R, C>,
    pub(crate) mode: RateMode,
}

impl<R, T, E, C> Stage<R, T, E> for RateLimitStage<R, C>
where
    R: Runtime,
    C: Clock,
{
    fn run<'a, Op, Fut>(
        &'a self,
        _rt: &'a R,
        op: &'a Op,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Fn() -> Fut + Sync + 'a,
        Fut: Future<Output = Result<T, Error<E>>> + Send + 'a,
        T: Send + 'a,
        E: Send + 'a,
    {
        async move {
            match self.mode {
                RateMode::Wait => self.limiter.acquire().await,
                RateMode::Reject => {
                    if let Err(limited) = self.limiter.try_acquire() {
                        obs::rate::rejected(limited.retry_after);
                        return Err(Error::RateLimited {
                            retry_after: limited.retry_after,
                        });
                    }
                }
            }
            op().await
        }
    }
}
