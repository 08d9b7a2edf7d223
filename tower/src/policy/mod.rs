//! A whole [`Policy`](weir_core::Policy) as one tower layer.
//!
//! The policy runs inside the response future exactly as
//! [`Policy::call`](weir_core::Policy::call) runs it: each attempt
//! (a retry, a hedge) readies a clone of the inner service and calls it
//! with a clone of the request, so the request type must be `Clone`. The
//! first attempt uses the very service instance that `poll_ready` readied.
//!
//! Readiness is the inner service's. The policy's limiters act inside the
//! call within their own bounds (the bulkhead's queue and `acquire_timeout`, the
//! rate limiter's line) and refuse with weir's error past them; put a
//! [`BulkheadLayer`](crate::BulkheadLayer) or
//! [`RateLimitLayer`](crate::RateLimitLayer) outside when `poll_ready`
//! itself must say "full".
//!
//! The response future is boxed (one allocation per call): a policy's
//! future borrows the policy, and its type cannot be named.
//!
//! One policy alone is a one-layer pipeline; [`PolicyLayer::timeout`](crate::PolicyLayer::timeout),
//! [`PolicyLayer::retry`](crate::PolicyLayer::retry) and [`PolicyLayer::hedge`](crate::PolicyLayer::hedge) build those.

mod future;
pub(crate) mod layer;
pub(crate) mod service;

pub use future::ResponseFuture;
