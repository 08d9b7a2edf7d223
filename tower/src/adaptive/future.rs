use weir_core::Runtime;
use weir_core::resilience::{Classify, Outcome};
use weir_core::{
    AdaptiveLimiter,
    limit::{AdaptivePermit, Limit},
};

use crate::owned::Owned;
use crate::response::{Guard, response_future};

/// An adaptive permit held by a call, with the classifier that settles it.
pub(crate) struct Sampled<R: Runtime, L: Limit + 'static, C> {
    pub(crate) permit: Owned<AdaptiveLimiter<R, L>, AdaptivePermit<'static, R, L>>,
    pub(crate) classify: C,
}

impl<R, L, C, T, E> Guard<T, E> for Sampled<R, L, C>
where
    R: Runtime,
    L: Limit + 'static,
    C: Classify<T, E>,
{
    fn finish(self, result: &Result<T, E>) {
        let outcome = self.classify.classify(result);
        self.permit.finish(|permit, _| match outcome {
            Outcome::Success => permit.success(),
            Outcome::Failure => permit.dropped(),
            Outcome::Ignored => permit.ignore(),
        });
    }
}

response_future! {
    /// The response of an [`AdaptiveService`](super::AdaptiveService): the
    /// inner call holding its permit (its latency sampled when it ends), or
    /// the limiter's refusal.
    ///
    /// ```
    /// use tower::{Service, ServiceExt};
    /// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Aimd};
    /// use weir_tower::AdaptiveService;
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    ///
    /// let b = Bulkhead::builder().max_concurrent(10).build(rt.clone()).unwrap();
    /// let limiter = AdaptiveLimiter::new(b, Aimd::builder().initial(1).build().unwrap());
    /// let mut svc = AdaptiveService::new(tower::service_fn(|x: u8| async move { Ok::<_, ()>(x) }), limiter);
    /// assert_eq!(rt.block_on(async { svc.ready().await.unwrap().call(3).await }), Ok(3));
    /// ```
    pub struct ResponseFuture<F, R: Runtime, L: Limit, C> where L: 'static { guard: Sampled<R, L, C> }
}
