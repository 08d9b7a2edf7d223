use core::fmt;
use core::marker::PhantomData;
use std::sync::Arc;

use tower_layer::Layer;
use weir_core::Bulkhead;
use weir_core::Runtime;

use crate::BulkheadService;
use crate::shape::{Flat, Wrap};

/// Wraps a service in a [`Bulkhead`]; see the [module docs](super).
///
/// Every service the layer makes shares the one bulkhead.
///
/// ```
/// use tower::ServiceBuilder;
/// use weir_core::Bulkhead;
/// use weir_tower::BulkheadLayer;
/// # let rt = weir_core::test_util::VirtualRuntime::new();
///
/// let bulkhead = Bulkhead::builder().max_concurrent(8).queue_capacity(32).build(rt.clone())?;
/// let svc = ServiceBuilder::new()
///     .layer(BulkheadLayer::new(bulkhead))
///     .service_fn(|x: u32| async move { Ok::<_, std::io::Error>(x * 2) });
/// # let _ = svc;
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
pub struct BulkheadLayer<R, M = Wrap> {
    bulkhead: Arc<Bulkhead<R>>,
    shape: PhantomData<fn() -> M>,
}

impl<R: Runtime> BulkheadLayer<R> {
    /// A layer admitting calls through `bulkhead`.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::Bulkhead::builder().max_concurrent(2).build(rt)?;
    /// let layer = weir_tower::BulkheadLayer::new(b);
    /// assert_eq!(layer.bulkhead().max_concurrent(), 2);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn new(bulkhead: Bulkhead<R>) -> Self {
        BulkheadLayer {
            bulkhead: Arc::new(bulkhead),
            shape: PhantomData,
        }
    }

    /// For an inner service that already answers with weir's `Error<E>`
    /// (a [`PolicyLayer`](crate::PolicyLayer) inside): its errors pass on
    /// as they are, so the stack still answers `Error<E>`; see
    /// [`shape`](crate::shape).
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::Bulkhead::builder().max_concurrent(2).build(rt)?;
    /// let layer = weir_tower::BulkheadLayer::new(b).flat();
    /// # let _ = layer;
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn flat(self) -> BulkheadLayer<R, Flat> {
        BulkheadLayer {
            bulkhead: self.bulkhead,
            shape: PhantomData,
        }
    }
}

impl<R: Runtime, M> BulkheadLayer<R, M> {
    /// The bulkhead the layer's services share.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::Bulkhead::builder().max_concurrent(2).build(rt)?;
    /// let layer = weir_tower::BulkheadLayer::new(b);
    /// assert_eq!(layer.bulkhead().stats().in_flight, 0);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn bulkhead(&self) -> &Bulkhead<R> {
        &self.bulkhead
    }
}

impl<R, M> Clone for BulkheadLayer<R, M> {
    fn clone(&self) -> Self {
        BulkheadLayer {
            bulkhead: self.bulkhead.clone(),
            shape: PhantomData,
        }
    }
}

impl<R: Runtime, M> fmt::Debug for BulkheadLayer<R, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkheadLayer")
            .field("bulkhead", &*self.bulkhead)
            .finish()
    }
}

impl<S, R: Runtime, M> Layer<S> for BulkheadLayer<R, M> {
    type Service = BulkheadService<S, R, M>;

    fn layer(&self, inner: S) -> Self::Service {
        BulkheadService::from_shared(inner, self.bulkhead.clone())
    }
}
