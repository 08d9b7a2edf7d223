use core::fmt;
use core::hash::Hash;
use core::marker::PhantomData;
use core::task::{Context, Poll};

use tower_service::Service;
use weir_core::Error;
use weir_core::KeyedRateLimiter;
use weir_core::Runtime;
use weir_core::limit::Clock;
use weir_core::limit::KeyedError;

use super::ResponseFuture;
use crate::response::{Guarded, Refused};
use crate::shape::{IntoWeir, Wrap};

/// A service behind a [`KeyedRateLimiter`]; see the [module docs](super).
///
/// ```
/// use std::time::Duration;
/// use tower::{Service, ServiceExt};
/// use weir_core::KeyedRateLimiter;
/// use weir_core::Error;
/// use weir_tower::KeyedRateLimitService;
/// # let rt = weir_core::test_util::VirtualRuntime::new();
///
/// let l = KeyedRateLimiter::<&str, _>::builder().quota(weir_core::Quota::new(1, Duration::from_secs(1)))
///     .build(rt.clone()).unwrap();
/// let inner = tower::service_fn(|(_, x): (&'static str, u8)| async move { Ok::<_, ()>(x) });
/// let mut svc = KeyedRateLimitService::new(inner, l, |req: &(&'static str, u8)| req.0);
/// rt.block_on(async {
///     assert_eq!(svc.ready().await.unwrap().call(("alice", 1)).await, Ok(1));
///     // Alice's quota is spent; Bob's is not.
///     let again = svc.ready().await.unwrap().call(("alice", 2)).await;
///     assert_eq!(again, Err(Error::RateLimited { retry_after: Duration::from_secs(1) }));
///     assert_eq!(svc.ready().await.unwrap().call(("bob", 3)).await, Ok(3));
/// });
/// ```
pub struct KeyedRateLimitService<S, K, R, F, C: Clock = R, M = Wrap> {
    inner: S,
    shape: PhantomData<fn() -> M>,
    limiter: KeyedRateLimiter<K, R, C>,
    key: F,
}

impl<S, K, R, F, C> KeyedRateLimitService<S, K, R, F, C>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    R: Runtime,
    C: Clock,
{
    /// `inner` behind `limiter`, each request keyed by `key(&request)`.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::KeyedRateLimiter::<u8, _>::builder()
    ///     .quota(weir_core::Quota::new(5, std::time::Duration::from_secs(1))).build(rt)?;
    /// let svc = weir_tower::KeyedRateLimitService::new(7u8, l, |k: &u8| *k);
    /// assert_eq!(*svc.get_ref(), 7);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn new(inner: S, limiter: KeyedRateLimiter<K, R, C>, key: F) -> Self {
        Self::from_parts(inner, limiter, key)
    }
}

impl<S, K, R, F, C: Clock, M> KeyedRateLimitService<S, K, R, F, C, M> {
    pub(crate) fn from_parts(inner: S, limiter: KeyedRateLimiter<K, R, C>, key: F) -> Self {
        KeyedRateLimitService {
            inner,
            shape: PhantomData,
            limiter,
            key,
        }
    }

    /// The inner service.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::KeyedRateLimiter::<u8, _>::builder()
    ///     .quota(weir_core::Quota::new(5, std::time::Duration::from_secs(1))).build(rt)?;
    /// assert_eq!(*weir_tower::KeyedRateLimitService::new(7u8, l, |k: &u8| *k).get_ref(), 7);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: Clone, K, R, F: Clone, C: Clock, M> Clone for KeyedRateLimitService<S, K, R, F, C, M> {
    fn clone(&self) -> Self {
        Self::from_parts(self.inner.clone(), self.limiter.clone(), self.key.clone())
    }
}

impl<S: fmt::Debug, K: Hash + Eq, R, F, C: Clock, M> fmt::Debug
    for KeyedRateLimitService<S, K, R, F, C, M>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedRateLimitService")
            .field("inner", &self.inner)
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

impl<S, K, R, F, C, M, Req> Service<Req> for KeyedRateLimitService<S, K, R, F, C, M>
where
    S: Service<Req>,
    S::Error: IntoWeir<M>,
    K: Hash + Eq + Clone + Send + Sync + 'static,
    R: Runtime,
    C: Clock,
    F: Fn(&Req) -> K,
{
    type Response = S::Response;
    type Error = Error<<S::Error as IntoWeir<M>>::Inner>;
    type Future = ResponseFuture<S::Future, M>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(IntoWeir::into_weir)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let key = (self.key)(&req);
        ResponseFuture::new(match self.limiter.try_acquire(&key) {
            Ok(()) => Guarded::running(self.inner.call(req), ()),
            Err(e) => Guarded::refused(match e {
                KeyedError::RateLimited(limited) => Refused::RateLimited(limited.retry_after),
                // No room for a new key (one unit never exceeds a burst).
                _ => Refused::NoRoom,
            }),
        })
    }
}
