//! What a retry loop reports.

#![cfg_attr(
    not(all(feature = "tracing", feature = "metrics")),
    allow(unused_variables)
)]

use std::time::Duration;

use super::Name;
use crate::Error;
use crate::resilience::GiveUp;

#[cfg(feature = "metrics")]
#[derive(Clone)]
struct Metrics {
    retries: metrics::Counter,
    delay: metrics::Histogram,
    gave_up: [metrics::Counter; 4],
}

#[derive(Clone)]
pub(crate) struct RetryObs {
    #[cfg(feature = "tracing")]
    name: Name,
    #[cfg(feature = "metrics")]
    m: Metrics,
}

/// Why an attempt of a policy call is retried: the kind of its failure.
#[inline]
pub(crate) fn why<T, E>(result: &Result<T, Error<E>>) -> &'static str {
    match result {
        Ok(_) => "value",
        Err(Error::Inner(_)) => "error",
        Err(Error::Timeout) => "timeout",
        Err(Error::RateLimited { .. }) => "rate_limited",
        Err(Error::CircuitOpen { .. }) => "circuit_open",
        Err(Error::Rejected(_)) => "rejected",
        Err(Error::Cancelled) => "cancelled",
        Err(Error::Closed) => "closed",
    }
}

/// Why an attempt of [`Retry::run`](crate::Retry::run) is
/// retried.
#[inline]
pub(crate) fn why_plain<T, E>(result: &Result<T, E>) -> &'static str {
    if result.is_ok() { "value" } else { "error" }
}

impl RetryObs {
    pub(crate) fn new(name: Name) -> Self {
        RetryObs {
            #[cfg(feature = "metrics")]
            m: {
                use super::metric::*;
                Metrics {
                    retries: counter("weir_retry_retries_total", &name, &[]),
                    delay: histogram("weir_retry_delay_seconds", &name),
                    gave_up: counters(
                        "weir_retry_gave_up_total",
                        &name,
                        "reason",
                        ["attempts", "deadline", "budget", "retry_after_too_long"],
                    ),
                }
            },
            #[cfg(feature = "tracing")]
            name,
        }
    }

    /// Attempt `attempt` failed for `reason`; the next starts after `delay`.
    #[inline]
    pub(crate) fn scheduled(&self, attempt: u32, delay: Duration, reason: &'static str) {
        event!(
            "weir::retry", DEBUG,
            name = %self.name, attempt, delay = ?delay, reason,
            "retry scheduled"
        );
        #[cfg(feature = "metrics")]
        {
            self.m.retries.increment(1);
            self.m.delay.record(delay.as_secs_f64());
        }
    }

    /// Attempt `attempt` failed for `reason` and is the last, for `why`.
    #[inline]
    pub(crate) fn gave_up(&self, attempt: u32, reason: &'static str, why: GiveUp) {
        event!(
            "weir::retry", DEBUG,
            name = %self.name, attempt, reason, gave_up = %why,
            "retry gave up"
        );
        #[cfg(feature = "metrics")]
        {
            let i = match why {
                GiveUp::Attempts => 0,
                GiveUp::Deadline => 1,
                GiveUp::Budget => 2,
                GiveUp::RetryAfterTooLong => 3,
            };
            self.m.gave_up[i].increment(1);
        }
    }
}

opaque_debug!(RetryObs);
