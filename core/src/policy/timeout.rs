//! The timeout layer.

use core::future::Future;
use std::time::Duration;

use super::{Error, Layer};
use crate::resilience::timeout;
use crate::rt::Runtime;

/// Drops whatever runs inside it once `duration` has passed and reports
/// [`Error::Timeout`]. Written before a retry, it bounds the whole call;
/// after it, each attempt.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::policy::{Error, Policy};
/// use weir_core::rt::{Runtime, VirtualRuntime};
///
/// let rt = VirtualRuntime::new();
/// let policy = Policy::new(rt.clone()).timeout(Duration::from_secs(2));
/// let r2 = rt.clone();
/// let out = rt.block_on(policy.call(|| {
///     let r2 = r2.clone();
///     async move { r2.sleep(Duration::from_secs(5)).await; Ok::<_, ()>(1) }
/// }));
/// assert_eq!(out, Err(Error::Timeout));
/// assert_eq!(rt.elapsed(), Duration::from_secs(2));
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TimeoutLayer {
    pub(crate) duration: Duration,
}

impl<R: Runtime, T, E> Layer<R, T, E> for TimeoutLayer {
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
        let attempt = timeout(rt, self.duration, op());
        async move { attempt.await.unwrap_or(Err(Error::Timeout)) }
    }
}
