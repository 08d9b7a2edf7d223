//! The circuit-breaker stage.

use core::future::Future;
use std::time::Duration;

use crate::Runtime;
use crate::{
    CircuitBreaker,
    resilience::{Classify, Outcome},
};
use crate::{Error, policy::Stage};

/// Asks a [`CircuitBreaker`] before each attempt and records how it went.
///
/// What counts, inside a pipeline: the caller's results go through the
/// breaker's own classifier; a [`Error::Timeout`] from a stage inside the
/// breaker is a failure (the backend was too slow); rejections by stages
/// inside it (rate limit, bulkhead) and cancellation are ignored, since they
/// say nothing about the backend's health.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::{Error, Policy};
/// use weir_core::CircuitBreaker;
/// use weir_core::test_util::VirtualRuntime;
///
/// let rt = VirtualRuntime::new();
/// let breaker = CircuitBreaker::builder().consecutive_failures(2).build(rt.clone()).unwrap();
/// let policy = Policy::new(rt.clone()).breaker(breaker);
/// for _ in 0..2 {
///     let _ = rt.block_on(policy.call(|| async { Err::<(), _>("down") }));
/// }
/// let out = rt.block_on(policy.call(|| async { Ok::<_, &str>(()) }));
/// assert!(matches!(out, Err(Error::CircuitOpen { .. })));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct BreakerStage<R: Runtime, C> {
    pub(crate) breaker: CircuitBreaker<R, C>,
}

impl<R, T, E, C> Stage<R, T, E> for BreakerStage<R, C>
where
    R: Runtime,
    C: Classify<T, E> + Send + Sync,
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
            let permit = self
                .breaker
                .try_acquire()
                .map_err(|open| Error::CircuitOpen {
                    remaining: open.remaining,
                })?;
            // The clock is read only when latency can change the verdict.
            let start = self.breaker.tracks_slow_calls().then(|| rt.now());
            let result = op().await;
            let latency = start.map_or(Duration::ZERO, |s| rt.now().saturating_duration_since(s));
            // The caller's result is moved into the shape the classifier
            // reads and back out: no copy, no clone.
            let (outcome, result) = match result {
                Ok(v) => {
                    let r = Ok(v);
                    (self.breaker.classify(&r), r.map_err(Error::Inner))
                }
                Err(Error::Inner(e)) => {
                    let r = Err(e);
                    (self.breaker.classify(&r), r.map_err(Error::Inner))
                }
                Err(Error::Timeout) => (Outcome::Failure, Err(Error::Timeout)),
                Err(other) => (Outcome::Ignored, Err(other)),
            };
            permit.record(outcome, latency);
            result
        }
    }
}
