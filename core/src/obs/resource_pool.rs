//! What a resource pool reports.

#![cfg_attr(
    not(all(feature = "tracing", feature = "metrics")),
    allow(unused_variables)
)]

use super::Name;

#[cfg(feature = "metrics")]
struct Metrics {
    size: metrics::Gauge,
    created: metrics::Counter,
    discarded: metrics::Counter,
    timeouts: metrics::Counter,
    create_errors: metrics::Counter,
}

pub(crate) struct ResourcePoolObs {
    #[cfg(feature = "tracing")]
    name: Name,
    #[cfg(feature = "metrics")]
    m: Metrics,
}

impl ResourcePoolObs {
    pub(crate) fn new(name: Name) -> Self {
        ResourcePoolObs {
            #[cfg(feature = "metrics")]
            m: {
                use super::metric::*;
                Metrics {
                    size: gauge("weir_resource_pool_size", &name),
                    created: counter("weir_resource_pool_created_total", &name, &[]),
                    discarded: counter("weir_resource_pool_discarded_total", &name, &[]),
                    timeouts: counter("weir_resource_pool_timeouts_total", &name, &[]),
                    create_errors: counter("weir_resource_pool_create_errors_total", &name, &[]),
                }
            },
            #[cfg(feature = "tracing")]
            name,
        }
    }

    /// The pool grew: a resource was created; `size` slots are now taken.
    #[inline]
    pub(crate) fn created(&self, size: usize) {
        event!(
            "weir::resource_pool", DEBUG,
            name = %self.name, size,
            "resource pool grew"
        );
        #[cfg(feature = "metrics")]
        {
            self.m.created.increment(1);
            self.m.size.set(size as f64);
        }
    }

    /// The pool shrank: a resource was dropped for good (expired, broken,
    /// idle too long, or the pool closed); `size` slots are now taken.
    #[inline]
    pub(crate) fn discarded(&self, size: usize) {
        event!(
            "weir::resource_pool", DEBUG,
            name = %self.name, size,
            "resource pool shrank"
        );
        #[cfg(feature = "metrics")]
        {
            self.m.discarded.increment(1);
            self.m.size.set(size as f64);
        }
    }

    /// A `get` ran past the acquire timeout.
    #[inline]
    pub(crate) fn timed_out(&self) {
        event!(
            "weir::resource_pool", DEBUG,
            name = %self.name,
            "resource pool get timed out"
        );
        #[cfg(feature = "metrics")]
        self.m.timeouts.increment(1);
    }

    /// The manager failed (or panicked) to create a resource.
    #[inline]
    pub(crate) fn create_failed(&self) {
        event!(
            "weir::resource_pool", WARN,
            name = %self.name,
            "resource pool could not create a resource"
        );
        #[cfg(feature = "metrics")]
        self.m.create_errors.increment(1);
    }
}

opaque_debug!(ResourcePoolObs);
