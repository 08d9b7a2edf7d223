use crate::response::response_future;

response_future! {
    /// The response of a [`RateLimitService`](super::RateLimitService): the inner call, or the
    /// limiter's refusal with its `retry_after`.
    ///
    /// ```
    /// use tower::{Service, ServiceExt};
    /// use weir_core::RateLimiter;
    /// use weir_tower::RateLimitService;
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    ///
    /// let l = RateLimiter::builder().quota(weir_core::Quota::new(1, std::time::Duration::from_secs(1))).build(rt.clone()).unwrap();
    /// let mut svc = RateLimitService::new(tower::service_fn(|x: u8| async move { Ok::<_, ()>(x) }), l);
    /// assert_eq!(rt.block_on(async { svc.ready().await.unwrap().call(3).await }), Ok(3));
    /// ```
    pub struct ResponseFuture<F> { guard: () }
}
