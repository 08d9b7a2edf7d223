//! A [`CircuitBreaker`](weir_core::CircuitBreaker) in front
//! of a service.
//!
//! `poll_ready` asks the breaker for a call permit and `call` moves it into
//! the response future, which records the inner service's result through
//! the breaker's classifier (so a `503` response can count as a failure,
//! see [`Classify`](weir_core::resilience::Classify)) with its latency. A
//! half-open breaker's probe slots are therefore taken at readiness, never
//! promised to more callers than it admits.
//!
//! An open breaker fails fast, as a breaker should: `poll_ready` is `Ready`
//! and the call returns
//! [`Error::CircuitOpen`](weir_core::Error::CircuitOpen) at once,
//! with the time until the breaker lets a probe through, without touching
//! the inner service. Parking callers until the breaker half-opens would
//! turn an outage into a queue; a retry outside honours `remaining`.

mod future;
pub(crate) mod layer;
pub(crate) mod service;

pub use future::ResponseFuture;
