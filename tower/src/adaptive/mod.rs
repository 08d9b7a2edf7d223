//! An [`AdaptiveLimiter`](weir_core::AdaptiveLimiter) in front of a
//! service: a concurrency limit that follows the service's latency (Vegas,
//! AIMD, Gradient2).
//!
//! Readiness works as for the [bulkhead](crate::bulkhead) the limiter
//! drives: `poll_ready` takes a permit (waiting in the bulkhead's queue if
//! it has one, `Pending` and woken when a permit returns; refused at once
//! otherwise, and the call then fails with
//! [`Error::Rejected`](weir_core::Error::Rejected)); `call` moves
//! the permit into the response future. When the call ends, a classifier
//! ([`Classify`](weir_core::resilience::Classify), by default every error
//! is a loss) says whether its latency is a sample, a loss signal or
//! neither.

mod future;
pub(crate) mod layer;
pub(crate) mod service;

pub use future::ResponseFuture;
