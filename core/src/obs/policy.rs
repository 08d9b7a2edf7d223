//! What a policy call reports: a span around the call, one around each
//! retried attempt, and the call's outcome.

#![cfg_attr(
    not(all(feature = "tracing", feature = "metrics")),
    allow(unused_variables)
)]

use core::future::Future;

use super::Name;
use crate::Error;

#[cfg(feature = "tracing")]
use tracing::Instrument;

/// Label values of `outcome`, by [`index`].
#[cfg(feature = "metrics")]
const OUTCOMES: [&str; 8] = [
    "ok",
    "error",
    "timeout",
    "rate_limited",
    "circuit_open",
    "rejected",
    "cancelled",
    "closed",
];

#[cfg(feature = "metrics")]
fn index<T, E>(r: &Result<T, Error<E>>) -> usize {
    match r {
        Ok(_) => 0,
        Err(Error::Inner(_)) => 1,
        Err(Error::Timeout) => 2,
        Err(Error::RateLimited { .. }) => 3,
        Err(Error::CircuitOpen { .. }) => 4,
        Err(Error::Rejected(_)) => 5,
        Err(Error::Cancelled) => 6,
        Err(Error::Closed) => 7,
    }
}

#[derive(Clone)]
pub(crate) struct PolicyObs {
    // Kept whatever the features: layers added later take it.
    name: Name,
    // Registered with the first layer, so that `Policy::new(rt).name(..)`
    // never leaves a series labelled "default" behind.
    #[cfg(feature = "metrics")]
    calls: Option<[metrics::Counter; 8]>,
}

impl PolicyObs {
    pub(crate) fn new(name: Name) -> Self {
        PolicyObs {
            #[cfg(feature = "metrics")]
            calls: None,
            name,
        }
    }

    /// Renamed; registered again under the new name if it was registered.
    pub(crate) fn renamed(self, name: Name) -> Self {
        #[cfg(feature = "metrics")]
        let registered = self.calls.is_some();
        let obs = PolicyObs::new(name);
        #[cfg(feature = "metrics")]
        if registered {
            return obs.registered();
        }
        obs
    }

    /// With its metric handles registered (once).
    pub(crate) fn registered(self) -> Self {
        #[cfg(feature = "metrics")]
        if self.calls.is_none() {
            let calls =
                super::metric::counters("weir_policy_calls_total", &self.name, "outcome", OUTCOMES);
            return PolicyObs {
                calls: Some(calls),
                ..self
            };
        }
        self
    }

    pub(crate) fn name(&self) -> &Name {
        &self.name
    }

    /// `call`, in a `weir.policy` span, its outcome counted.
    #[inline]
    pub(crate) fn call<'a, T, E>(
        &'a self,
        call: impl Future<Output = Result<T, Error<E>>> + Send + 'a,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        T: Send + 'a,
        E: Send + 'a,
    {
        #[cfg(feature = "metrics")]
        let call = async move {
            let out = call.await;
            if let Some(calls) = &self.calls {
                calls[index(&out)].increment(1);
            }
            out
        };
        #[cfg(feature = "tracing")]
        let call = {
            let span = tracing::info_span!(
                target: "weir::policy",
                "weir.policy",
                name = %self.name,
                context = tracing::field::Empty
            );
            // The caller's context is read at the first poll, not here: a
            // call is often made before the scope that runs it is entered
            // (`context::scope(id, policy.call(op))`).
            let record = span.clone();
            async move {
                if !record.is_disabled() {
                    let ctx = crate::context::Context::current();
                    if !ctx.is_empty() {
                        record.record("context", tracing::field::display(&ctx));
                    }
                }
                call.await
            }
            .instrument(span)
        };
        call
    }
}

/// Attempt number `n` of a call, in a `weir.attempt` span.
#[inline]
pub(crate) fn attempt<F: Future>(attempt: F, n: u32) -> impl Future<Output = F::Output> {
    #[cfg(feature = "tracing")]
    let attempt = attempt.instrument(tracing::info_span!(
        target: "weir::policy",
        "weir.attempt",
        attempt = n
    ));
    attempt
}

/// Attempt `n` of a hedged call (0: the first, 1: the first hedge, ...),
/// in a `weir.hedge` span.
#[inline]
pub(crate) fn hedge<F: Future>(attempt: F, n: u32) -> impl Future<Output = F::Output> {
    #[cfg(feature = "tracing")]
    let attempt = attempt.instrument(tracing::info_span!(
        target: "weir::policy",
        "weir.hedge",
        hedge = n
    ));
    attempt
}

opaque_debug!(PolicyObs);
