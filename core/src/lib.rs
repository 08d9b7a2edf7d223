//! The executor-independent core of weir.
//!
//! weir is flow control for async Rust: what every client of slow, flaky or
//! rate-limited services needs, on any executor. This crate holds the
//! machinery; it depends on no executor. Time, spawning and blocking offload
//! reach it only through [`rt::Runtime`](crate::Runtime), which the adapter crates
//! (`weir-smol`, `weir-tokio`, `weir-async-std`) implement. Most users depend
//! on the facade crate `weir`, which re-exports this one with the adapter of
//! their choice.
//!
//! # Where things are
//!
//! Each public type has one path. The headline type of each component
//! ([`RateLimiter`], [`Bulkhead`], [`CircuitBreaker`], [`Retry`], [`Policy`],
//! [`Scheduler`], [`WorkerPool`], [`ResourcePool`], [`Semaphore`],
//! [`CancellationToken`], ...) and what every component shares ([`Runtime`],
//! [`ConfigError`], [`Rule`]) live at the root; their builders, errors,
//! stats, permits and futures live in their layer module ([`limit`],
//! [`resilience`], [`policy`], [`sched`], [`pool`], [`sync`], [`queue`],
//! [`cancel`], [`rt`], [`io`], [`obs`]); everything behind the `test-util`
//! feature lives in `test_util`.
//!
//! # Features
//!
//! * `test-util`: [`test_util`], the one home of what tests need: a runtime
//!   with a virtual clock for deterministic tests of time-dependent
//!   behaviour, a counting global allocator for zero-allocation tests, and a
//!   census of processes. Not for production builds.
//! * `tracing`: events at every decision and a span per policy call, through
//!   `tracing`; see [`obs`].
//! * `metrics`: counters, gauges and histograms for every component, through
//!   the `metrics` facade; see [`obs`] for the names.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// unsafe only in the files that allow it, each block with SAFETY; modules without any forbid it.
#![deny(unsafe_code)]

mod error;
mod loom;

pub mod cancel;
pub mod context;
pub mod io;
pub mod limit;
pub mod obs;
pub mod policy;
pub mod pool;
pub mod queue;
pub mod resilience;
pub mod rt;
pub mod sched;
pub mod sync;
#[cfg(feature = "test-util")]
pub mod test_util;

// One path per public type. The headline types, one per component (what
// DESIGN.md writes as `weir::RateLimiter`, `weir::Policy`, `weir::Error<E>`,
// ...), live here at the root and nowhere else; what comes with them
// (builders, errors, stats, permits, futures) lives in its layer module
// and nowhere else. Leaf modules are private. `.ci/public-paths.sh` fails
// the build when a type can be named by two paths.
pub use cancel::token::CancellationToken;
pub use error::{ConfigError, Rule};
pub use limit::adaptive::AdaptiveLimiter;
pub use limit::bulkhead::Bulkhead;
pub use limit::keyed::KeyedRateLimiter;
pub use limit::rate::{Quota, RateLimiter};
pub use policy::error::Error;
pub use policy::pipeline::Policy;
pub use pool::resource::ResourcePool;
pub use pool::worker::WorkerPool;
pub use queue::delay::DelayQueue;
pub use queue::priority::PriorityQueue;
pub use resilience::breaker::CircuitBreaker;
pub use resilience::hedge::Hedge;
pub use resilience::retry::{Retry, RetryBudget};
pub use resilience::timeout::Timeout;
pub use rt::runtime::Runtime;
pub use sched::job::Job;
pub use sched::priority::Priority;
pub use sched::scheduler::{Scheduler, Shutdown};
pub use sync::semaphore::Semaphore;
