//! What a timeout reports.

#![cfg_attr(
    not(all(feature = "tracing", feature = "metrics")),
    allow(unused_variables)
)]

use std::time::Duration;

use super::Name;

#[derive(Clone)]
pub(crate) struct TimeoutObs {
    #[cfg(feature = "tracing")]
    name: Name,
    #[cfg(feature = "metrics")]
    timeouts: metrics::Counter,
}

impl TimeoutObs {
    pub(crate) fn new(name: Name) -> Self {
        TimeoutObs {
            #[cfg(feature = "metrics")]
            timeouts: super::metric::counter("weir_timeout_timeouts_total", &name, &[]),
            #[cfg(feature = "tracing")]
            name,
        }
    }

    /// The work ran `after` and was dropped.
    #[inline]
    pub(crate) fn timed_out(&self, after: Duration) {
        event!(
            "weir::timeout", DEBUG,
            name = %self.name, after = ?after,
            "timed out"
        );
        #[cfg(feature = "metrics")]
        self.timeouts.increment(1);
    }
}

/// A [`timeout`](crate::resilience::timeout) future (or a
/// [`Timeout`](crate::Timeout)'s) reached `deadline` and dropped
/// its work. These have no name and count no metric.
#[inline]
pub(crate) fn elapsed(deadline: std::time::Instant) {
    event!("weir::timeout", DEBUG, deadline = ?deadline, "timed out");
}

opaque_debug!(TimeoutObs);
