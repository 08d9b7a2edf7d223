use weir_core::Runtime;
use weir_core::{Bulkhead, limit::BulkheadPermit};

use crate::owned::Owned;
use crate::response::{Guard, response_future};

/// A bulkhead permit held by a call; given back when the call ends.
pub(crate) type Permit<R> = Owned<Bulkhead<R>, BulkheadPermit<'static>>;

impl<R, T, E> Guard<T, E> for Permit<R> {
    fn finish(self, _: &Result<T, E>) {
        // Dropping the permit gives it back.
    }
}

response_future! {
    /// The response of a [`BulkheadService`](super::BulkheadService): the
    /// inner call holding its permit, or the bulkhead's refusal.
    ///
    /// ```
    /// use tower::{Service, ServiceExt};
    /// use weir_core::Bulkhead;
    /// use weir_tower::BulkheadService;
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    ///
    /// let b = Bulkhead::builder().max_concurrent(1).build(rt.clone()).unwrap();
    /// let mut svc = BulkheadService::new(tower::service_fn(|x: u8| async move { Ok::<_, ()>(x) }), b);
    /// let reply = rt.block_on(async { svc.ready().await.unwrap().call(7).await });
    /// assert_eq!(reply, Ok(7));
    /// ```
    pub struct ResponseFuture<F, R: Runtime> { guard: Permit<R> }
}
