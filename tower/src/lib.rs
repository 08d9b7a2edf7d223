//! weir's limiters and resilience policies as [tower] layers, on any
//! executor.
//!
//! A tower user adds a whole weir [`Policy`](weir_core::Policy)
//! with one layer:
//!
//! ```
//! use std::time::Duration;
//! use tower::{Service, ServiceBuilder, ServiceExt};
//! use weir_core::{Bulkhead, RateLimiter};
//! use weir_core::Policy;
//! use weir_core::{CircuitBreaker, Retry};
//! # let rt = weir_core::test_util::VirtualRuntime::new();
//!
//! let retry = Retry::exponential(Duration::from_millis(100)).max_attempts(4).build()?;
//! let breaker = CircuitBreaker::builder().build(rt.clone())?;
//! let rate = RateLimiter::builder().quota(weir_core::Quota::new(50, Duration::from_secs(1))).build(rt.clone())?;
//! let bulkhead = Bulkhead::builder().max_concurrent(8).queue_capacity(64).build(rt.clone())?;
//! let policy = Policy::new(rt.clone())
//!     .timeout(Duration::from_secs(10)) // the whole call, retries included
//!     .retry(retry)
//!     .breaker(breaker)
//!     .rate_limit(rate)
//!     .bulkhead(bulkhead)
//!     .timeout(Duration::from_secs(2)); // each attempt
//!
//! let mut svc = ServiceBuilder::new()
//!     .layer(weir_tower::PolicyLayer::new(policy))
//!     .service_fn(|name: &'static str| async move { Ok::<_, std::io::Error>(name.len()) });
//! let reply = rt.block_on(async { svc.ready().await?.call("search").await });
//! assert_eq!(reply.unwrap(), 6);
//! # Ok::<(), weir_core::ConfigError>(())
//! ```
//!
//! # The layers
//!
//! | layer | `poll_ready` | refused call |
//! |---|---|---|
//! | [`PolicyLayer`] (any pipeline; [`PolicyLayer::timeout`], [`retry`](PolicyLayer::retry), [`hedge`](PolicyLayer::hedge) alone) | the inner service's | fails with the pipeline's outcome |
//! | [`BulkheadLayer`] | takes a permit; `Pending` in the bulkhead's queue, woken when a permit returns | no room to wait: `Ready`, then `Error::Rejected` at once |
//! | [`AdaptiveLayer`] | as the bulkhead it drives | as the bulkhead |
//! | [`RateLimitLayer`] | takes the call's unit; waits (`Pending`, woken by the timer) or, with [`or_reject`](RateLimitLayer::or_reject), `Ready` | `Error::RateLimited { retry_after }` at once |
//! | [`BreakerLayer`] | takes a call permit (a half-open probe slot) | open: `Ready`, then `Error::CircuitOpen { remaining }` at once |
//! | [`KeyedRateLimitLayer`] | the inner service's (the key comes with the request) | `Error::RateLimited { retry_after }` at once |
//!
//! The gating layers (bulkhead, adaptive, rate limit, breaker) take what
//! they grant in `poll_ready` and move it into the response future, as
//! tower's `ConcurrencyLimit` does: a permit goes back when the response
//! future completes or is dropped, and a clone of a service does not share
//! its permit. A call refused by a gate never reaches the inner service.
//!
//! # Errors
//!
//! Every service's error is [`weir_core::Error<E>`], with the inner
//! service's error `E` intact in [`Error::Inner`](weir_core::Error::Inner),
//! and nothing is boxed. Within one [`PolicyLayer`] the layers share that one
//! error. A gating layer over a service that already answers with weir's
//! `Error<E>` (a `PolicyLayer` inside it, for readiness that says "full")
//! takes `.flat()` and passes those errors on as they are, so the stack
//! still answers `Error<E>`; see [`shape`].
//!
//! # Order
//!
//! A `Policy` runs its layers in the order written, the first outermost.
//! The usual order is an overall timeout, retry, breaker, rate limit,
//! bulkhead, then a per-attempt timeout: the retry sees every refusal and
//! waits the `retry_after` it carries; the breaker counts only what reached
//! the backend; the bulkhead holds a slot only while an attempt runs.
//!
//! # Runtimes
//!
//! This crate depends on `tower-service` and `tower-layer` only, not on
//! `tower` or any executor: timers come from weir's
//! [`Runtime`](weir_core::Runtime), so the same layers run on smol,
//! tokio, async-std or weir's virtual clock.
//!
//! [tower]: https://docs.rs/tower
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// unsafe only in the files that allow it (owned.rs and four service.rs), each block with SAFETY.
#![deny(unsafe_code)]

mod owned;
mod response;

pub mod adaptive;
pub mod breaker;
pub mod bulkhead;
pub mod keyed;
pub mod policy;
pub mod rate;
pub mod shape;

pub use adaptive::{layer::AdaptiveLayer, service::AdaptiveService};
pub use breaker::{layer::BreakerLayer, service::BreakerService};
pub use bulkhead::{layer::BulkheadLayer, service::BulkheadService};
pub use keyed::{layer::KeyedRateLimitLayer, service::KeyedRateLimitService};
pub use policy::layer::{HedgeLayer, PolicyLayer, RetryLayer, TimeoutLayer};
pub use policy::service::PolicyService;
pub use rate::{layer::RateLimitLayer, service::RateLimitService};
