use core::fmt;
use core::hash::Hash;
use core::marker::PhantomData;

use tower_layer::Layer;
use weir_core::KeyedRateLimiter;
use weir_core::Runtime;
use weir_core::limit::Clock;

use crate::KeyedRateLimitService;
use crate::shape::{Flat, Wrap};

/// Admits calls through a [`KeyedRateLimiter`], keyed by `key(&request)`;
/// see the [module docs](super).
///
/// ```
/// use std::time::Duration;
/// use tower::ServiceBuilder;
/// use weir_core::KeyedRateLimiter;
/// use weir_tower::KeyedRateLimitLayer;
/// # let rt = weir_core::test_util::VirtualRuntime::new();
///
/// // Two calls per second for each user.
/// let limiter = KeyedRateLimiter::<String, _>::builder().quota(weir_core::Quota::new(2, Duration::from_secs(1))).build(rt)?;
/// let svc = ServiceBuilder::new()
///     .layer(KeyedRateLimitLayer::new(limiter, |(user, _): &(String, u32)| user.clone()))
///     .service_fn(|(_, x): (String, u32)| async move { Ok::<_, std::io::Error>(x) });
/// # let _ = svc;
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
pub struct KeyedRateLimitLayer<K, R, F, C: Clock = R, M = Wrap> {
    limiter: KeyedRateLimiter<K, R, C>,
    key: F,
    shape: PhantomData<fn() -> M>,
}

impl<K, R, F, C> KeyedRateLimitLayer<K, R, F, C>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    R: Runtime,
    C: Clock,
{
    /// A layer checking each request's key, `key(&request)`, against
    /// `limiter`.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::KeyedRateLimiter::<u8, _>::builder()
    ///     .quota(weir_core::Quota::new(5, std::time::Duration::from_secs(1))).build(rt)?;
    /// let layer = weir_tower::KeyedRateLimitLayer::new(l, |req: &(u8, &str)| req.0);
    /// assert!(layer.limiter().is_empty());
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn new(limiter: KeyedRateLimiter<K, R, C>, key: F) -> Self {
        KeyedRateLimitLayer {
            limiter,
            key,
            shape: PhantomData,
        }
    }

    /// For an inner service that already answers with weir's `Error<E>`
    /// (a [`PolicyLayer`](crate::PolicyLayer) inside): its errors pass on
    /// as they are; see [`shape`](crate::shape).
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::KeyedRateLimiter::<u8, _>::builder()
    ///     .quota(weir_core::Quota::new(5, std::time::Duration::from_secs(1))).build(rt)?;
    /// let layer = weir_tower::KeyedRateLimitLayer::new(l, |k: &u8| *k).flat();
    /// # let _ = layer;
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn flat(self) -> KeyedRateLimitLayer<K, R, F, C, Flat> {
        KeyedRateLimitLayer {
            limiter: self.limiter,
            key: self.key,
            shape: PhantomData,
        }
    }

    /// The limiter the layer's services share.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::KeyedRateLimiter::<u8, _>::builder()
    ///     .quota(weir_core::Quota::new(5, std::time::Duration::from_secs(1))).build(rt)?;
    /// let layer = weir_tower::KeyedRateLimitLayer::new(l, |k: &u8| *k);
    /// assert_eq!(layer.limiter().len(), 0);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn limiter(&self) -> &KeyedRateLimiter<K, R, C> {
        &self.limiter
    }
}

impl<K, R, F: Clone, C: Clock, M> Clone for KeyedRateLimitLayer<K, R, F, C, M> {
    fn clone(&self) -> Self {
        KeyedRateLimitLayer {
            limiter: self.limiter.clone(),
            key: self.key.clone(),
            shape: PhantomData,
        }
    }
}

impl<K: Hash + Eq, R, F, C: Clock, M> fmt::Debug for KeyedRateLimitLayer<K, R, F, C, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedRateLimitLayer")
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

impl<S, K, R, F: Clone, C: Clock, M> Layer<S> for KeyedRateLimitLayer<K, R, F, C, M> {
    type Service = KeyedRateLimitService<S, K, R, F, C, M>;

    fn layer(&self, inner: S) -> Self::Service {
        KeyedRateLimitService::from_parts(inner, self.limiter.clone(), self.key.clone())
    }
}
