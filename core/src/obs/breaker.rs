//! What a circuit breaker reports.

#![cfg_attr(
    not(all(feature = "tracing", feature = "metrics")),
    allow(unused_variables)
)]

use super::Name;
use crate::resilience::{Outcome, State, Transition};

/// Label values of `to` and the `weir_breaker_state` gauge's codes, by
/// [`index`].
#[cfg(feature = "metrics")]
const STATES: [&str; 6] = [
    "closed",
    "open",
    "half_open",
    "forced_open",
    "disabled",
    "metrics_only",
];

#[cfg(feature = "metrics")]
fn index(s: State) -> usize {
    match s {
        State::Closed => 0,
        State::Open => 1,
        State::HalfOpen => 2,
        State::ForcedOpen => 3,
        State::Disabled => 4,
        State::MetricsOnly => 5,
    }
}

#[cfg(feature = "metrics")]
struct Metrics {
    state: metrics::Gauge,
    transitions: [metrics::Counter; 6],
    calls: [metrics::Counter; 3],
    slow: metrics::Counter,
    rejected: metrics::Counter,
}

pub(crate) struct BreakerObs {
    #[cfg(feature = "tracing")]
    name: Name,
    #[cfg(feature = "metrics")]
    m: Metrics,
}

impl BreakerObs {
    pub(crate) fn new(name: Name, initial: State) -> Self {
        #[cfg(feature = "metrics")]
        let m = {
            use super::metric::*;
            let m = Metrics {
                state: gauge("weir_breaker_state", &name),
                transitions: counters("weir_breaker_transitions_total", &name, "to", STATES),
                calls: counters(
                    "weir_breaker_calls_total",
                    &name,
                    "outcome",
                    ["success", "failure", "ignored"],
                ),
                slow: counter("weir_breaker_slow_calls_total", &name, &[]),
                rejected: counter("weir_breaker_rejected_total", &name, &[]),
            };
            m.state.set(index(initial) as f64);
            m
        };
        BreakerObs {
            #[cfg(feature = "tracing")]
            name,
            #[cfg(feature = "metrics")]
            m,
        }
    }

    /// A change of state, if there was one.
    #[inline]
    pub(crate) fn transition(&self, t: Option<&Transition>) {
        let Some(t) = t else { return };
        event!(
            "weir::breaker",
            INFO,
            name = %self.name, from = ?t.from, to = ?t.to,
            "circuit breaker state changed"
        );
        #[cfg(feature = "metrics")]
        {
            self.m.state.set(index(t.to) as f64);
            self.m.transitions[index(t.to)].increment(1);
        }
    }

    /// A call refused, `remaining` before a probe is let through.
    #[inline]
    pub(crate) fn rejected(&self, remaining: std::time::Duration) {
        event!(
            "weir::breaker", DEBUG,
            name = %self.name, remaining = ?remaining,
            "circuit breaker rejected a call"
        );
        #[cfg(feature = "metrics")]
        self.m.rejected.increment(1);
    }

    /// A call's outcome as recorded.
    #[inline]
    pub(crate) fn recorded(&self, outcome: Outcome, slow: bool) {
        #[cfg(feature = "metrics")]
        {
            let i = match outcome {
                Outcome::Success => 0,
                Outcome::Failure => 1,
                Outcome::Ignored => 2,
            };
            self.m.calls[i].increment(1);
            if slow {
                self.m.slow.increment(1);
            }
        }
    }
}

opaque_debug!(BreakerObs);
