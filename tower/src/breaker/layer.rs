use core::fmt;
use core::marker::PhantomData;
use std::sync::Arc;

use tower_layer::Layer;
use weir_core::CircuitBreaker;
use weir_core::Runtime;

use crate::BreakerService;
use crate::shape::{Flat, Wrap};

/// Wraps a service in a [`CircuitBreaker`]; see the [module docs](super).
///
/// The runtime measures each call's latency for the breaker's slow-call
/// rule. Every service the layer makes shares the one breaker.
///
/// ```
/// use tower::ServiceBuilder;
/// use weir_core::CircuitBreaker;
/// use weir_tower::BreakerLayer;
/// # let rt = weir_core::test_util::VirtualRuntime::new();
///
/// let breaker = CircuitBreaker::builder().consecutive_failures(5).build(rt.clone())?;
/// let svc = ServiceBuilder::new()
///     .layer(BreakerLayer::new(rt, breaker))
///     .service_fn(|x: u32| async move { Ok::<_, std::io::Error>(x) });
/// # let _ = svc;
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
pub struct BreakerLayer<R: Runtime, C, M = Wrap> {
    rt: R,
    breaker: Arc<CircuitBreaker<R, C>>,
    shape: PhantomData<fn() -> M>,
}

impl<R: Runtime, C: 'static> BreakerLayer<R, C> {
    /// A layer asking `breaker` before each call, timing calls on `rt`.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::CircuitBreaker::builder().build(rt.clone())?;
    /// let layer = weir_tower::BreakerLayer::new(rt, b);
    /// assert_eq!(layer.breaker().state(), weir_core::resilience::State::Closed);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn new(rt: R, breaker: CircuitBreaker<R, C>) -> Self {
        BreakerLayer {
            rt,
            breaker: Arc::new(breaker),
            shape: PhantomData,
        }
    }

    /// For an inner service that already answers with weir's `Error<E>`
    /// (a [`PolicyLayer`](crate::PolicyLayer) inside): its errors pass on
    /// as they are; see [`shape`](crate::shape).
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::CircuitBreaker::builder().build(rt.clone())?;
    /// let layer = weir_tower::BreakerLayer::new(rt, b).flat();
    /// # let _ = layer;
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn flat(self) -> BreakerLayer<R, C, Flat> {
        BreakerLayer {
            rt: self.rt,
            breaker: self.breaker,
            shape: PhantomData,
        }
    }
}

impl<R: Runtime, C: 'static, M> BreakerLayer<R, C, M> {
    /// The breaker the layer's services share.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::CircuitBreaker::builder().build(rt.clone())?;
    /// let layer = weir_tower::BreakerLayer::new(rt, b);
    /// assert_eq!(layer.breaker().stats().calls, 0);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn breaker(&self) -> &CircuitBreaker<R, C> {
        &self.breaker
    }
}

impl<R: Runtime, C, M> Clone for BreakerLayer<R, C, M> {
    fn clone(&self) -> Self {
        BreakerLayer {
            rt: self.rt.clone(),
            breaker: self.breaker.clone(),
            shape: PhantomData,
        }
    }
}

impl<R: Runtime, C, M> fmt::Debug for BreakerLayer<R, C, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BreakerLayer")
            .field("breaker", &*self.breaker)
            .finish()
    }
}

impl<S, R: Runtime, C: 'static, M> Layer<S> for BreakerLayer<R, C, M> {
    type Service = BreakerService<S, R, C, M>;

    fn layer(&self, inner: S) -> Self::Service {
        BreakerService::from_shared(inner, self.rt.clone(), self.breaker.clone())
    }
}
