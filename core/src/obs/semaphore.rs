//! What a semaphore reports: refusals of `try_acquire` and changes made by
//! hand (permits added or forgotten, closing). Acquisitions and releases,
//! the hottest path in weir, report nothing.

#![cfg_attr(
    not(all(feature = "tracing", feature = "metrics")),
    allow(unused_variables)
)]

use super::Name;
use crate::sync::TryAcquireError;

#[cfg(feature = "metrics")]
struct Metrics {
    refused: metrics::Counter,
    added: metrics::Counter,
    forgotten: metrics::Counter,
}

pub(crate) struct SemaphoreObs {
    #[cfg(feature = "tracing")]
    name: Name,
    #[cfg(feature = "metrics")]
    m: Metrics,
}

impl SemaphoreObs {
    pub(crate) fn new(name: Name) -> Self {
        SemaphoreObs {
            #[cfg(feature = "metrics")]
            m: {
                use super::metric::counter;
                Metrics {
                    refused: counter("weir_semaphore_refused_total", &name, &[]),
                    added: counter("weir_semaphore_permits_added_total", &name, &[]),
                    forgotten: counter("weir_semaphore_permits_forgotten_total", &name, &[]),
                }
            },
            #[cfg(feature = "tracing")]
            name,
        }
    }

    /// `try_acquire` of `n` permits refused.
    #[inline]
    pub(crate) fn refused(&self, n: usize, why: &TryAcquireError) {
        event!(
            "weir::semaphore", TRACE,
            name = %self.name, permits = n, reason = %why,
            "semaphore refused a try_acquire"
        );
        #[cfg(feature = "metrics")]
        self.m.refused.increment(1);
    }

    /// `n` permits added by hand.
    #[inline]
    pub(crate) fn added(&self, n: usize) {
        event!("weir::semaphore", DEBUG, name = %self.name, permits = n, "semaphore permits added");
        #[cfg(feature = "metrics")]
        self.m.added.increment(n as u64);
    }

    /// `n` free permits forgotten by hand.
    #[inline]
    pub(crate) fn forgotten(&self, n: usize) {
        event!("weir::semaphore", DEBUG, name = %self.name, permits = n, "semaphore permits forgotten");
        #[cfg(feature = "metrics")]
        self.m.forgotten.increment(n as u64);
    }

    #[inline]
    pub(crate) fn closed(&self) {
        event!("weir::semaphore", INFO, name = %self.name, "semaphore closed");
    }
}

opaque_debug!(SemaphoreObs);
