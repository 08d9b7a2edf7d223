//! What a hedge reports.

#![cfg_attr(
    not(all(feature = "tracing", feature = "metrics")),
    allow(unused_variables)
)]

use std::time::Duration;

use super::Name;

#[cfg(feature = "metrics")]
#[derive(Clone)]
struct Metrics {
    hedges: metrics::Counter,
    denied: metrics::Counter,
}

#[derive(Clone)]
pub(crate) struct HedgeObs {
    #[cfg(feature = "tracing")]
    name: Name,
    #[cfg(feature = "metrics")]
    m: Metrics,
}

impl HedgeObs {
    pub(crate) fn new(name: Name) -> Self {
        HedgeObs {
            #[cfg(feature = "metrics")]
            m: {
                use super::metric::counter;
                Metrics {
                    hedges: counter("weir_hedge_hedges_total", &name, &[]),
                    denied: counter("weir_hedge_budget_denied_total", &name, &[]),
                }
            },
            #[cfg(feature = "tracing")]
            name,
        }
    }

    /// Hedge number `n` is due; `allowed` says whether the budget let it
    /// start. `delay` (the hedge delay now) is read only for an event.
    #[inline]
    pub(crate) fn due(&self, n: u32, allowed: bool, delay: impl FnOnce() -> Duration) {
        if allowed {
            event!(
                "weir::hedge", DEBUG,
                name = %self.name, hedge = n, delay = ?delay(),
                "hedge started"
            );
        } else {
            event!(
                "weir::hedge", DEBUG,
                name = %self.name, hedge = n,
                "hedge refused by the retry budget"
            );
        }
        #[cfg(feature = "metrics")]
        if allowed {
            self.m.hedges.increment(1);
        } else {
            self.m.denied.increment(1);
        }
    }
}

opaque_debug!(HedgeObs);
