//! The fallback stage.

use core::future::Future;

use crate::Runtime;
use crate::{Error, policy::Stage};

/// Turns a failure into a value: `f` gets the error and returns the
/// result to give instead (which may still be an error, e.g. to keep
/// cancellation final).
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use weir_core::{Error, Policy};
/// use weir_core::test_util::VirtualRuntime;
///
/// let rt = VirtualRuntime::new();
/// let policy = Policy::new(rt.clone()).fallback(|_e: Error<&str>| Ok("cached answer"));
/// let out = rt.block_on(policy.call(|| async { Err::<&str, _>("backend down") }));
/// assert_eq!(out, Ok("cached answer"));
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FallbackStage<F> {
    pub(crate) f: F,
}

impl<R, T, E, F> Stage<R, T, E> for FallbackStage<F>
where
    R: Runtime,
    F: Fn(Error<E>) -> Result<T, Error<E>> + Sync,
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
        async move { op().await.or_else(&self.f) }
    }
}
