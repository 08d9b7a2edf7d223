//! What an adaptive concurrency limiter reports (its limit is its
//! bulkhead's: `weir_bulkhead_max_concurrent` and the bulkhead's
//! "limit changed" event).

#![cfg_attr(
    not(all(feature = "tracing", feature = "metrics")),
    allow(unused_variables)
)]

use super::Name;
use crate::limit::Sample;

#[cfg(feature = "metrics")]
struct Metrics {
    samples: metrics::Counter,
    dropped: metrics::Counter,
    ignored: metrics::Counter,
    latency: metrics::Histogram,
}

pub(crate) struct AdaptiveObs {
    #[cfg(feature = "tracing")]
    name: Name,
    #[cfg(feature = "metrics")]
    m: Metrics,
}

impl AdaptiveObs {
    pub(crate) fn new(name: Name) -> Self {
        AdaptiveObs {
            #[cfg(feature = "metrics")]
            m: {
                use super::metric::*;
                Metrics {
                    samples: counter("weir_adaptive_samples_total", &name, &[]),
                    dropped: counter("weir_adaptive_dropped_total", &name, &[]),
                    ignored: counter("weir_adaptive_ignored_total", &name, &[]),
                    latency: histogram("weir_adaptive_latency_seconds", &name),
                }
            },
            #[cfg(feature = "tracing")]
            name,
        }
    }

    /// A finished call given to the algorithm, which answered `limit`.
    #[inline]
    pub(crate) fn sample(&self, s: &Sample, limit: u32) {
        event!(
            "weir::adaptive", TRACE,
            name = %self.name, latency = ?s.latency, in_flight = s.in_flight,
            dropped = s.dropped, limit,
            "adaptive limiter sample"
        );
        #[cfg(feature = "metrics")]
        {
            self.m.samples.increment(1);
            if s.dropped {
                self.m.dropped.increment(1);
            }
            self.m.latency.record(s.latency.as_secs_f64());
        }
    }

    /// A call completed as ignored.
    #[inline]
    pub(crate) fn ignored(&self) {
        #[cfg(feature = "metrics")]
        self.m.ignored.increment(1);
    }
}

opaque_debug!(AdaptiveObs);
