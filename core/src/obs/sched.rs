//! What a scheduler reports.

#![cfg_attr(
    not(all(feature = "tracing", feature = "metrics")),
    allow(unused_variables)
)]

use super::Name;
use crate::Shutdown;

#[derive(Clone)]
pub(crate) struct SchedObs {
    #[cfg(feature = "tracing")]
    name: Name,
    #[cfg(feature = "metrics")]
    aborted: metrics::Counter,
}

impl SchedObs {
    pub(crate) fn new(name: Name) -> Self {
        SchedObs {
            #[cfg(feature = "metrics")]
            aborted: super::metric::counter("weir_scheduler_aborted_total", &name, &[]),
            #[cfg(feature = "tracing")]
            name,
        }
    }

    /// Shutdown began: the scheduler is closed, `aborted` jobs were
    /// withdrawn (only under [`Shutdown::Abort`]).
    #[inline]
    pub(crate) fn shutting_down(&self, mode: Shutdown, aborted: usize) {
        event!(
            "weir::scheduler", INFO,
            name = %self.name, mode = ?mode, aborted,
            "scheduler shutting down"
        );
        #[cfg(feature = "metrics")]
        self.aborted.increment(aborted as u64);
    }

    /// Every accepted job has finished.
    #[inline]
    pub(crate) fn shut_down(&self) {
        event!("weir::scheduler", INFO, name = %self.name, "scheduler shut down");
    }
}

opaque_debug!(SchedObs);
