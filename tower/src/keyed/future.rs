use crate::response::response_future;

response_future! {
    /// The response of a [`KeyedRateLimitService`](super::KeyedRateLimitService): the inner call, or the
    /// key's refusal.
    ///
    /// ```
    /// use tower::{Service, ServiceExt};
    /// use weir_core::KeyedRateLimiter;
    /// use weir_tower::KeyedRateLimitService;
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    ///
    /// let l = KeyedRateLimiter::<u8, _>::builder().quota(weir_core::Quota::new(1, std::time::Duration::from_secs(1)))
    ///     .build(rt.clone()).unwrap();
    /// let inner = tower::service_fn(|x: u8| async move { Ok::<_, ()>(x) });
    /// let mut svc = KeyedRateLimitService::new(inner, l, |x: &u8| *x);
    /// assert_eq!(rt.block_on(async { svc.ready().await.unwrap().call(3).await }), Ok(3));
    /// ```
    pub struct ResponseFuture<F> { guard: () }
}
