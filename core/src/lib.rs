//! The executor-independent core of weir.
//!
//! weir is flow control for async Rust: what every client of slow, flaky or
//! rate-limited services needs, on any executor. This crate holds the
//! machinery; it depends on no executor. Time, spawning and blocking offload
//! reach it only through [`rt::Runtime`], which the adapter crates
//! (`weir-smol`, `weir-tokio`, `weir-async-std`) implement. Most users depend
//! on the facade crate `weir`, which re-exports this one with the adapter of
//! their choice.
//!
//! # Features
//!
//! * `test-util`: [`rt::VirtualRuntime`], a runtime with a virtual clock for
//!   deterministic tests of time-dependent behaviour, and [`alloc_count`], a
//!   counting global allocator for zero-allocation tests. Not for production
//!   builds.
//! * `tracing`: events at every decision and a span per policy call, through
//!   `tracing`; see [`obs`].
//! * `metrics`: counters, gauges and histograms for every component, through
//!   the `metrics` facade; see [`obs`] for the names.

#![warn(missing_docs)]

mod loom;
mod util;

pub mod cancel;
pub mod error;
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
pub mod alloc_count;

pub use error::{ConfigError, Rule};
pub use rt::{JoinError, JoinHandle, Runtime};

// The types a user names most, at the top as DESIGN.md writes them
// (`weir::RateLimiter`, `weir::Policy`, `weir::Error<E>`, ...).
pub use cancel::CancellationToken;
pub use limit::{AdaptiveLimiter, Bulkhead, KeyedRateLimiter, RateLimiter};
pub use policy::{Error, Policy};
pub use pool::{ResourcePool, WorkerPool};
pub use queue::{DelayQueue, PriorityQueue};
pub use resilience::{CircuitBreaker, Hedge, Retry, RetryBudget, Timeout};
pub use sched::{Job, Priority, Scheduler, Shutdown};
pub use sync::Semaphore;
