//! What the rate limiters report: a check refused (with its retry_after),
//! a unit admitted, a wait for a reservation; and a policy's rate-limit
//! layer refusing a call.

#![cfg_attr(
    not(all(feature = "tracing", feature = "metrics")),
    allow(unused_variables)
)]

use std::time::Duration;

use super::Name;
use crate::limit::KeyedError;

/// A policy's rate-limit layer (the `rate_limit_or_reject` mode) refused a
/// call that would conform after `retry_after`. The event has no `name`:
/// it is inside the policy's `weir.policy` span, which has one.
#[inline]
pub(crate) fn rejected(retry_after: Duration) {
    event!(
        "weir::rate", DEBUG,
        retry_after = ?retry_after,
        "policy refused a call over its rate limit"
    );
}

#[cfg(feature = "metrics")]
struct Metrics {
    admitted: metrics::Counter,
    limited: metrics::Counter,
    // Limiters that wait only (the keyed limiter does not, yet).
    delayed: Option<(metrics::Counter, metrics::Histogram)>,
    // Keyed limiters only.
    key_limit: Option<metrics::Counter>,
}

/// The hook of a [`RateLimiter`](crate::RateLimiter) or, with
/// [`keyed`](Self::keyed), a
/// [`KeyedRateLimiter`](crate::KeyedRateLimiter).
pub(crate) struct RateObs {
    #[cfg(feature = "tracing")]
    name: Name,
    #[cfg(feature = "tracing")]
    keyed: bool,
    #[cfg(feature = "metrics")]
    m: Metrics,
}

impl RateObs {
    pub(crate) fn rate(name: Name) -> Self {
        #[cfg(feature = "metrics")]
        let m = {
            use super::metric::*;
            Metrics {
                admitted: counter("weir_rate_admitted_total", &name, &[]),
                limited: counter("weir_rate_limited_total", &name, &[]),
                delayed: Some((
                    counter("weir_rate_delayed_total", &name, &[]),
                    histogram("weir_rate_delay_seconds", &name),
                )),
                key_limit: None,
            }
        };
        RateObs {
            #[cfg(feature = "tracing")]
            name,
            #[cfg(feature = "tracing")]
            keyed: false,
            #[cfg(feature = "metrics")]
            m,
        }
    }

    pub(crate) fn keyed(name: Name) -> Self {
        #[cfg(feature = "metrics")]
        let m = {
            use super::metric::*;
            Metrics {
                admitted: counter("weir_keyed_admitted_total", &name, &[]),
                limited: counter("weir_keyed_limited_total", &name, &[]),
                delayed: None,
                key_limit: Some(counter("weir_keyed_key_limit_total", &name, &[])),
            }
        };
        RateObs {
            #[cfg(feature = "tracing")]
            name,
            #[cfg(feature = "tracing")]
            keyed: true,
            #[cfg(feature = "metrics")]
            m,
        }
    }

    /// A check that does not wait: admitted, or refused until
    /// `retry_after`.
    #[inline]
    pub(crate) fn checked(&self, refused: Option<Duration>) {
        let Some(retry_after) = refused else {
            #[cfg(feature = "metrics")]
            self.m.admitted.increment(1);
            return;
        };
        #[cfg(feature = "tracing")]
        if self.keyed {
            event!(
                "weir::keyed", DEBUG,
                name = %self.name, retry_after = ?retry_after,
                "keyed rate limiter refused a call"
            );
        } else {
            event!(
                "weir::rate", DEBUG,
                name = %self.name, retry_after = ?retry_after,
                "rate limiter refused a call"
            );
        }
        #[cfg(feature = "metrics")]
        self.m.limited.increment(1);
    }

    /// A keyed check's outcome (a check of zero units, a probe, is not
    /// reported).
    #[inline]
    pub(crate) fn checked_keyed(&self, out: &Result<(), KeyedError>) {
        match out {
            Ok(()) => self.checked(None),
            Err(KeyedError::RateLimited(r)) => self.checked(Some(r.retry_after)),
            Err(KeyedError::KeyLimitReached { max_keys }) => {
                event!(
                    "weir::keyed", DEBUG,
                    name = %self.name, max_keys,
                    "keyed rate limiter refused a new key: max_keys reached"
                );
                #[cfg(feature = "metrics")]
                if let Some(c) = &self.m.key_limit {
                    c.increment(1);
                }
            }
            Err(KeyedError::InsufficientCapacity(_)) => {}
        }
    }

    /// A waiting acquire reserved its units, to be taken after `wait`
    /// (zero: at once).
    #[inline]
    pub(crate) fn reserved(&self, wait: Duration) {
        #[cfg(feature = "metrics")]
        self.m.admitted.increment(1);
        if wait.is_zero() {
            return;
        }
        event!(
            "weir::rate", DEBUG,
            name = %self.name, wait = ?wait,
            "rate limiter delayed a call"
        );
        #[cfg(feature = "metrics")]
        if let Some((delayed, delay)) = &self.m.delayed {
            delayed.increment(1);
            delay.record(wait.as_secs_f64());
        }
    }
}

opaque_debug!(RateObs);
