use core::fmt;
use core::marker::PhantomData;
use std::sync::Arc;

use tower_layer::Layer;
use weir_core::RateLimiter;
use weir_core::Runtime;
use weir_core::limit::Clock;
use weir_core::policy::RateMode;

use crate::RateLimitService;
use crate::shape::{Flat, Wrap};

/// Admits calls to a service through a [`RateLimiter`]; see the
/// [module docs](super).
///
/// Every service the layer makes shares the one limiter.
///
/// ```
/// use std::time::Duration;
/// use tower::ServiceBuilder;
/// use weir_core::RateLimiter;
/// use weir_tower::RateLimitLayer;
/// # let rt = weir_core::test_util::VirtualRuntime::new();
///
/// let limiter = RateLimiter::builder().quota(weir_core::Quota::new(20, Duration::from_secs(1))).build(rt)?;
/// let svc = ServiceBuilder::new()
///     .layer(RateLimitLayer::new(limiter))
///     .service_fn(|x: u32| async move { Ok::<_, std::io::Error>(x) });
/// # let _ = svc;
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
pub struct RateLimitLayer<R: Runtime, C: Clock = R, M = Wrap> {
    limiter: Arc<RateLimiter<R, C>>,
    mode: RateMode,
    shape: PhantomData<fn() -> M>,
}

impl<R: Runtime, C: Clock> RateLimitLayer<R, C> {
    /// A layer whose services wait for each call's slot in `poll_ready`.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::RateLimiter::builder().quota(weir_core::Quota::new(5, std::time::Duration::from_secs(1))).build(rt)?;
    /// let layer = weir_tower::RateLimitLayer::new(l);
    /// assert_eq!(layer.mode(), weir_core::policy::RateMode::Wait);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn new(limiter: RateLimiter<R, C>) -> Self {
        RateLimitLayer {
            limiter: Arc::new(limiter),
            mode: RateMode::Wait,
            shape: PhantomData,
        }
    }

    /// A layer whose services fail a call that does not conform now with
    /// `Error::RateLimited` instead of waiting.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::RateLimiter::builder().quota(weir_core::Quota::new(5, std::time::Duration::from_secs(1))).build(rt)?;
    /// let layer = weir_tower::RateLimitLayer::or_reject(l);
    /// assert_eq!(layer.mode(), weir_core::policy::RateMode::Reject);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn or_reject(limiter: RateLimiter<R, C>) -> Self {
        RateLimitLayer {
            limiter: Arc::new(limiter),
            mode: RateMode::Reject,
            shape: PhantomData,
        }
    }

    /// For an inner service that already answers with weir's `Error<E>`
    /// (a [`PolicyLayer`](crate::PolicyLayer) inside): its errors pass on
    /// as they are; see [`shape`](crate::shape).
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::RateLimiter::builder().quota(weir_core::Quota::new(5, std::time::Duration::from_secs(1))).build(rt)?;
    /// let layer = weir_tower::RateLimitLayer::new(l).flat();
    /// # let _ = layer;
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn flat(self) -> RateLimitLayer<R, C, Flat> {
        RateLimitLayer {
            limiter: self.limiter,
            mode: self.mode,
            shape: PhantomData,
        }
    }
}

impl<R: Runtime, C: Clock, M> RateLimitLayer<R, C, M> {
    /// What the services do with a call that does not conform now.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::RateLimiter::builder().quota(weir_core::Quota::new(5, std::time::Duration::from_secs(1))).build(rt)?;
    /// assert_eq!(weir_tower::RateLimitLayer::new(l).mode(), weir_core::policy::RateMode::Wait);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn mode(&self) -> RateMode {
        self.mode
    }
}

impl<R: Runtime, C: Clock, M> Clone for RateLimitLayer<R, C, M> {
    fn clone(&self) -> Self {
        RateLimitLayer {
            limiter: self.limiter.clone(),
            mode: self.mode,
            shape: PhantomData,
        }
    }
}

impl<R: Runtime, C: Clock, M> fmt::Debug for RateLimitLayer<R, C, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitLayer")
            .field("limiter", &*self.limiter)
            .field("mode", &self.mode)
            .finish()
    }
}

impl<S, R: Runtime, C: Clock, M> Layer<S> for RateLimitLayer<R, C, M> {
    type Service = RateLimitService<S, R, C, M>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimitService::from_shared(inner, self.limiter.clone(), self.mode)
    }
}
