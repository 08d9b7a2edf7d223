//! One pipeline for a call: timeout, retry, circuit breaker, rate limit,
//! bulkhead, hedge, fallback and cancellation, composed in the order
//! written.
//!
//! The stage written first is the outermost: in
//! `Policy::new(rt).timeout(t).retry(r).breaker(b)`, the timeout bounds the
//! whole call with its retries, and every attempt asks the breaker. Written
//! `.retry(r).timeout(t)`, the timeout bounds each attempt instead. Each
//! stage is also usable alone, through its own type in `limit` or
//! `resilience`.
//!
//! A call ends with [`Error::Cancelled`](crate::Error::Cancelled) when a [`CancellationToken`](crate::CancellationToken)
//! fires: one per call with [`Policy::call_with_cancel`](crate::Policy::call_with_cancel), one per policy
//! with [`Policy::cancel_on`](crate::Policy::cancel_on) (see [`CancelStage`]). Dropping a call's
//! future also cancels it, silently.
//!
//! A `Policy` is fully static: its type spells the stages, a call allocates
//! nothing and boxes nothing. Errors come out as one [`Error<E>`](crate::Error) that keeps
//! the caller's `E` intact and names weir's own outcomes.
//!
//! ```
//! # #[cfg(feature = "test-util")] {
//! use std::time::Duration;
//! use weir_core::{Bulkhead, RateLimiter};
//! use weir_core::Policy;
//! use weir_core::{CircuitBreaker, Retry};
//! use weir_core::test_util::VirtualRuntime;
//!
//! let rt = VirtualRuntime::new();
//! let rate = RateLimiter::builder().quota(weir_core::Quota::per_second(50).burst(10)).build(rt.clone()).unwrap();
//! let bulkhead = Bulkhead::builder().max_concurrent(8).queue_capacity(100).build(rt.clone()).unwrap();
//! let breaker = CircuitBreaker::builder().build(rt.clone()).unwrap();
//! let retry = Retry::exponential(Duration::from_millis(100)).max_attempts(5).jitter_full().build().unwrap();
//!
//! let policy = Policy::new(rt.clone())
//!     .timeout(Duration::from_secs(5))
//!     .retry(retry)
//!     .breaker(breaker)
//!     .rate_limit(rate)
//!     .bulkhead(bulkhead);
//! let reply = rt.block_on(policy.call(|| async { Ok::<_, std::io::Error>("pong") }));
//! assert_eq!(reply.unwrap(), "pong");
//! # }
//! ```

// Stage impls spell out `impl Future + Send + 'a` so that every stage's
// signature matches the trait's word for word; `async fn` would hide the
// Send promise the trait makes.
#![forbid(unsafe_code)]
#![allow(clippy::manual_async_fn)]

mod breaker;
mod bulkhead;
mod cancel;
pub(crate) mod error;
mod fallback;
mod hedge;
mod outcome;
pub(crate) mod pipeline;
mod rate;
mod retry;
mod stage;
mod timeout;

pub use breaker::BreakerStage;
pub use bulkhead::BulkheadStage;
pub use cancel::CancelStage;
pub use error::Rejection;
pub use fallback::FallbackStage;
pub use hedge::HedgeStage;
pub use outcome::{OnOutcome, OutcomeFilter};
pub use pipeline::BoxPolicy;
pub use rate::{RateLimitStage, RateMode};
pub use retry::RetryStage;
pub use stage::{Bare, Chain, Stage};
pub use timeout::TimeoutStage;
