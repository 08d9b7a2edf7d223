//! The bulkhead stage.

use core::future::Future;

use crate::Runtime;
use crate::{Bulkhead, limit::BulkheadError};
use crate::{
    Error,
    policy::{Rejection, Stage},
};

/// Holds a [`Bulkhead`] permit while everything inside it runs; a refusal
/// becomes [`Error::Rejected`] with its reason, or [`Error::Closed`].
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use weir_core::Bulkhead;
/// use weir_core::Policy;
/// use weir_core::test_util::VirtualRuntime;
///
/// let rt = VirtualRuntime::new();
/// let bulkhead = Bulkhead::builder().max_concurrent(4).build(rt.clone()).unwrap();
/// let policy = Policy::new(rt.clone()).bulkhead(bulkhead);
/// assert_eq!(rt.block_on(policy.call(|| async { Ok::<_, ()>(3) })), Ok(3));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct BulkheadStage<R> {
    pub(crate) bulkhead: Bulkhead<R>,
}

impl<R: Runtime, T, E> Stage<R, T, E> for BulkheadStage<R> {
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
            let _permit = self.bulkhead.acquire().await.map_err(|e| match e {
                BulkheadError::WaitTimeout => Error::Rejected(Rejection::WaitTimeout),
                BulkheadError::Closed => Error::Closed,
                // Queue full, or a request larger than the limit: both are
                // "no room now" for a one-permit call.
                _ => Error::Rejected(Rejection::QueueFull),
            })?;
            op().await
        }
    }
}
