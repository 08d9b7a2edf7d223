use core::fmt;
use core::marker::PhantomData;
use std::sync::Arc;

use tower_layer::Layer;
use weir_core::Runtime;
use weir_core::resilience::ErrorIsFailure;
use weir_core::{AdaptiveLimiter, limit::Limit};

use crate::AdaptiveService;
use crate::shape::{Flat, Wrap};

/// Wraps a service in an [`AdaptiveLimiter`]; see the
/// [module docs](super).
///
/// ```
/// use tower::ServiceBuilder;
/// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Vegas};
/// use weir_tower::AdaptiveLayer;
/// # let rt = weir_core::test_util::VirtualRuntime::new();
///
/// let bulkhead = Bulkhead::builder().max_concurrent(100).queue_capacity(100).build(rt)?;
/// let limiter = AdaptiveLimiter::new(bulkhead, Vegas::builder().build()?);
/// let svc = ServiceBuilder::new()
///     .layer(AdaptiveLayer::new(limiter))
///     .service_fn(|x: u32| async move { Ok::<_, std::io::Error>(x) });
/// # let _ = svc;
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
pub struct AdaptiveLayer<R, L, C = ErrorIsFailure, M = Wrap> {
    limiter: Arc<AdaptiveLimiter<R, L>>,
    classify: C,
    shape: PhantomData<fn() -> M>,
}

impl<R: Runtime, L: Limit + 'static> AdaptiveLayer<R, L> {
    /// A layer admitting calls through `limiter`; every error counts as a
    /// loss signal.
    ///
    /// ```
    /// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Aimd};
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = Bulkhead::builder().max_concurrent(100).build(rt)?;
    /// let layer = weir_tower::AdaptiveLayer::new(AdaptiveLimiter::new(b, Aimd::builder().initial(4).build()?));
    /// assert_eq!(layer.limiter().limit(), 4);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn new(limiter: AdaptiveLimiter<R, L>) -> Self {
        Self::shared(Arc::new(limiter))
    }

    /// As [`new`](Self::new), with a limiter shared with other code (to
    /// read its stats, say).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Aimd};
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = Bulkhead::builder().max_concurrent(100).build(rt)?;
    /// let limiter = Arc::new(AdaptiveLimiter::new(b, Aimd::builder().build()?));
    /// let layer = weir_tower::AdaptiveLayer::shared(limiter.clone());
    /// assert_eq!(limiter.stats().samples, 0);
    /// # let _ = layer;
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn shared(limiter: Arc<AdaptiveLimiter<R, L>>) -> Self {
        AdaptiveLayer {
            limiter,
            classify: ErrorIsFailure,
            shape: PhantomData,
        }
    }
}

impl<R: Runtime, L: Limit + 'static, C, M> AdaptiveLayer<R, L, C, M> {
    /// Judges each result with `classify`: `Success` is a latency sample,
    /// `Failure` a loss signal, `Ignored` neither.
    ///
    /// ```
    /// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Aimd};
    /// use weir_core::resilience::Outcome;
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = Bulkhead::builder().max_concurrent(100).build(rt)?;
    /// let layer = weir_tower::AdaptiveLayer::new(AdaptiveLimiter::new(b, Aimd::builder().build()?))
    ///     .classify(|r: &Result<u16, std::io::Error>| match r {
    ///         Ok(503) | Err(_) => Outcome::Failure,
    ///         Ok(_) => Outcome::Success,
    ///     });
    /// # let _ = layer;
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn classify<C2>(self, classify: C2) -> AdaptiveLayer<R, L, C2, M> {
        AdaptiveLayer {
            limiter: self.limiter,
            classify,
            shape: PhantomData,
        }
    }

    /// For an inner service that already answers with weir's `Error<E>`
    /// (a [`PolicyLayer`](crate::PolicyLayer) inside): its errors pass on
    /// as they are; see [`shape`](crate::shape).
    ///
    /// ```
    /// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Aimd};
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = Bulkhead::builder().max_concurrent(100).build(rt)?;
    /// let layer = weir_tower::AdaptiveLayer::new(AdaptiveLimiter::new(b, Aimd::builder().build()?)).flat();
    /// # let _ = layer;
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn flat(self) -> AdaptiveLayer<R, L, C, Flat> {
        AdaptiveLayer {
            limiter: self.limiter,
            classify: self.classify,
            shape: PhantomData,
        }
    }

    /// The limiter the layer's services share.
    ///
    /// ```
    /// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Aimd};
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = Bulkhead::builder().max_concurrent(100).build(rt)?;
    /// let layer = weir_tower::AdaptiveLayer::new(AdaptiveLimiter::new(b, Aimd::builder().initial(7).build()?));
    /// assert_eq!(layer.limiter().limit(), 7);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn limiter(&self) -> &AdaptiveLimiter<R, L> {
        &self.limiter
    }
}

impl<R, L, C: Clone, M> Clone for AdaptiveLayer<R, L, C, M> {
    fn clone(&self) -> Self {
        AdaptiveLayer {
            limiter: self.limiter.clone(),
            classify: self.classify.clone(),
            shape: PhantomData,
        }
    }
}

impl<R, L: fmt::Debug, C, M> fmt::Debug for AdaptiveLayer<R, L, C, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdaptiveLayer")
            .field("limiter", &*self.limiter)
            .finish_non_exhaustive()
    }
}

impl<S, R: Runtime, L: Limit + 'static, C: Clone, M> Layer<S> for AdaptiveLayer<R, L, C, M> {
    type Service = AdaptiveService<S, R, L, C, M>;

    fn layer(&self, inner: S) -> Self::Service {
        AdaptiveService::from_shared(inner, self.limiter.clone(), self.classify.clone())
    }
}
