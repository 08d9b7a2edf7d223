//! A [`RateLimiter`](weir_core::RateLimiter) in front of a service.
//!
//! The call's unit is taken at readiness:
//!
//! * [`RateMode::Wait`](weir_core::policy::RateMode::Wait) (the default):
//!   `poll_ready` is `Pending` until the call conforms, in the limiter's
//!   FIFO line, and the task is woken at that instant by the runtime's
//!   timer (tower's own `RateLimit` also waits in `poll_ready`).
//! * [`RateMode::Reject`](weir_core::policy::RateMode::Reject): `poll_ready`
//!   is `Ready` at once and a call that does not conform fails with
//!   [`Error::RateLimited`](weir_core::Error::RateLimited) and its
//!   `retry_after`, without reaching the inner service.
//!
//! A unit taken by `poll_ready` is spent even if `call` never follows, as
//! with any rate limiter: readiness is a promise to call.

mod future;
pub(crate) mod layer;
pub(crate) mod service;

pub use future::ResponseFuture;
