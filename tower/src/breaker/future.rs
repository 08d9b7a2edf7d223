use std::time::Instant;

use weir_core::Runtime;
use weir_core::{
    CircuitBreaker,
    resilience::{CallPermit, Classify},
};

use crate::owned::Owned;
use crate::response::{Guard, response_future};

/// A breaker permit held by a call, with the call's start for its latency.
pub(crate) struct Ticket<R: Runtime, C: 'static> {
    pub(crate) permit: Owned<CircuitBreaker<R, C>, CallPermit<'static, R, C>>,
    pub(crate) rt: R,
    pub(crate) start: Instant,
}

impl<R, C, T, E> Guard<T, E> for Ticket<R, C>
where
    R: Runtime,
    C: Classify<T, E> + 'static,
{
    fn finish(self, result: &Result<T, E>) {
        let latency = self.rt.now().saturating_duration_since(self.start);
        self.permit
            .finish(|permit, breaker| permit.record(breaker.classify(result), latency));
    }
}

response_future! {
    /// The response of a [`BreakerService`](super::BreakerService): the
    /// inner call, recorded by the breaker when it ends, or the breaker's
    /// refusal. Dropped before it ends, the call is recorded as ignored.
    ///
    /// ```
    /// use tower::{Service, ServiceExt};
    /// use weir_core::CircuitBreaker;
    /// use weir_tower::BreakerService;
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    ///
    /// let b = CircuitBreaker::builder().build(rt.clone()).unwrap();
    /// let inner = tower::service_fn(|x: u8| async move { Ok::<_, ()>(x) });
    /// let mut svc = BreakerService::new(inner, rt.clone(), b);
    /// let reply = rt.block_on(async { svc.ready().await.unwrap().call(7).await });
    /// assert_eq!(reply, Ok(7));
    /// ```
    pub struct ResponseFuture<F, R: Runtime, C: 'static> { guard: Ticket<R, C> }
}
