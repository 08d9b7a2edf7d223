//! What a bulkhead reports.

#![cfg_attr(
    not(all(feature = "tracing", feature = "metrics")),
    allow(unused_variables)
)]

use super::Name;
use crate::limit::BulkheadError;

#[cfg(feature = "metrics")]
struct Metrics {
    admitted: metrics::Counter,
    rejected: [metrics::Counter; 4],
    cancelled: metrics::Counter,
    in_flight: metrics::Gauge,
    queued: metrics::Gauge,
    max_concurrent: metrics::Gauge,
}

pub(crate) struct BulkheadObs {
    #[cfg(feature = "tracing")]
    name: Name,
    #[cfg(feature = "metrics")]
    m: Metrics,
}

impl BulkheadObs {
    pub(crate) fn new(name: Name, max_concurrent: u32) -> Self {
        #[cfg(feature = "metrics")]
        let m = {
            use super::metric::*;
            let m = Metrics {
                admitted: counter("weir_bulkhead_admitted_total", &name, &[]),
                rejected: counters(
                    "weir_bulkhead_rejected_total",
                    &name,
                    "reason",
                    ["queue_full", "wait_timeout", "closed", "oversized"],
                ),
                cancelled: counter("weir_bulkhead_cancelled_total", &name, &[]),
                in_flight: gauge("weir_bulkhead_in_flight", &name),
                queued: gauge("weir_bulkhead_queued", &name),
                max_concurrent: gauge("weir_bulkhead_max_concurrent", &name),
            };
            m.max_concurrent.set(f64::from(max_concurrent));
            m
        };
        BulkheadObs {
            #[cfg(feature = "tracing")]
            name,
            #[cfg(feature = "metrics")]
            m,
        }
    }

    /// `n` permits granted.
    #[inline]
    pub(crate) fn admitted(&self, n: u32) {
        #[cfg(feature = "metrics")]
        {
            self.m.admitted.increment(1);
            self.m.in_flight.increment(f64::from(n));
        }
    }

    /// `n` permits given back.
    #[inline]
    pub(crate) fn released(&self, n: u32) {
        #[cfg(feature = "metrics")]
        self.m.in_flight.decrement(f64::from(n));
    }

    /// A call refused for `reason`.
    #[inline]
    pub(crate) fn rejected(&self, reason: BulkheadError) {
        event!(
            "weir::bulkhead", DEBUG,
            name = %self.name, reason = %reason,
            "bulkhead rejected a call"
        );
        #[cfg(feature = "metrics")]
        {
            let i = match reason {
                BulkheadError::QueueFull { .. } => 0,
                BulkheadError::WaitTimeout => 1,
                BulkheadError::Closed => 2,
                BulkheadError::Oversized => 3,
            };
            self.m.rejected[i].increment(1);
        }
    }

    /// A waiting call dropped before its outcome.
    #[inline]
    pub(crate) fn cancelled(&self) {
        #[cfg(feature = "metrics")]
        self.m.cancelled.increment(1);
    }

    /// The line now holds calls asking for `permits`.
    #[inline]
    pub(crate) fn queued(&self, permits: u64) {
        #[cfg(feature = "metrics")]
        self.m.queued.set(permits as f64);
    }

    /// The limit was set from `old` to `limit`.
    #[inline]
    pub(crate) fn limit(&self, old: u64, limit: u32) {
        if old == u64::from(limit) {
            return;
        }
        event!(
            "weir::bulkhead", INFO,
            name = %self.name, from = old, to = limit,
            "bulkhead limit changed"
        );
        #[cfg(feature = "metrics")]
        self.m.max_concurrent.set(f64::from(limit));
    }
}

impl Default for BulkheadObs {
    fn default() -> Self {
        BulkheadObs::new(Name::default(), 0)
    }
}

opaque_debug!(BulkheadObs);
