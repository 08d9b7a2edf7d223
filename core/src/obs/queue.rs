//! What a priority queue reports: values pushed and popped, pushes refused
//! (full or closed) and the close. A push that waits for room is not a
//! refusal.

#![cfg_attr(
    not(all(feature = "tracing", feature = "metrics")),
    allow(unused_variables)
)]

use super::Name;

#[cfg(feature = "metrics")]
struct Metrics {
    pushed: metrics::Counter,
    popped: metrics::Counter,
    full: metrics::Counter,
    closed: metrics::Counter,
}

pub(crate) struct PriorityQueueObs {
    #[cfg(feature = "tracing")]
    name: Name,
    #[cfg(feature = "metrics")]
    m: Metrics,
}

impl PriorityQueueObs {
    pub(crate) fn new(name: Name) -> Self {
        PriorityQueueObs {
            #[cfg(feature = "metrics")]
            m: {
                use super::metric::counter;
                const REFUSED: &str = "weir_priority_queue_refused_total";
                Metrics {
                    pushed: counter("weir_priority_queue_pushed_total", &name, &[]),
                    popped: counter("weir_priority_queue_popped_total", &name, &[]),
                    full: counter(REFUSED, &name, &[("reason", "full")]),
                    closed: counter(REFUSED, &name, &[("reason", "closed")]),
                }
            },
            #[cfg(feature = "tracing")]
            name,
        }
    }

    #[inline]
    pub(crate) fn pushed(&self) {
        #[cfg(feature = "metrics")]
        self.m.pushed.increment(1);
    }

    #[inline]
    pub(crate) fn popped(&self) {
        #[cfg(feature = "metrics")]
        self.m.popped.increment(1);
    }

    /// A push onto `lane` refused: `full` (a `try_push` with no free slot)
    /// or closed.
    #[inline]
    pub(crate) fn refused(&self, lane: usize, full: bool) {
        event!(
            "weir::queue", DEBUG,
            name = %self.name, lane = lane, reason = if full { "full" } else { "closed" },
            "priority queue refused a push"
        );
        #[cfg(feature = "metrics")]
        if full {
            self.m.full.increment(1);
        } else {
            self.m.closed.increment(1);
        }
    }

    #[inline]
    pub(crate) fn closed(&self) {
        event!("weir::queue", INFO, name = %self.name, "priority queue closed");
    }
}

opaque_debug!(PriorityQueueObs);
