//! What the rate limiters report, so far from a policy's rate-limit layer
//! only (the limiters themselves are not instrumented yet).

#![cfg_attr(not(feature = "tracing"), allow(unused_variables))]

use std::time::Duration;

/// A policy's rate-limit layer (the `rate_limit_or_reject` mode) refused a
/// call that would conform after `retry_after`. The event has no `name`:
/// it is inside the policy's `weir.policy` span, which has one.
#[inline]
pub(crate) fn rejected(retry_after: Duration) {
    event!(
        "weir::rate", DEBUG,
        retry_after = ?retry_after,
        "rate limiter rejected a call"
    );
}
