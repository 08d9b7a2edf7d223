//! weir: flow control for async Rust on any executor.
//!
//! An async client that fans out many calls to slow, flaky or rate-limited
//! services needs the same machinery every time: limits, retries, breakers,
//! scheduling and pools. weir provides it with a core that depends on no
//! executor ([`weir_core`]) and thin adapters for smol, tokio and async-std.
//!
//! # Which type for which need
//!
//! | You need to ... | Use |
//! |---|---|
//! | cap calls per second to an API (N per period, with a burst) | [`RateLimiter`] |
//! | the same quota for each user, key or tenant, in bounded memory | [`KeyedRateLimiter`] |
//! | at most N calls at once, with a bounded queue and a wait limit | [`Bulkhead`] |
//! | a concurrency limit that finds itself from observed latency | [`AdaptiveLimiter`] |
//! | stop calling a failing service for a while, then probe it | [`CircuitBreaker`] |
//! | try again after a transient failure, with backoff and jitter | [`Retry`] |
//! | keep retries to a fraction of the traffic, across calls | [`RetryBudget`] |
//! | give up on a call that takes too long | [`Timeout`], [`resilience::timeout`] |
//! | cut tail latency with a second, delayed attempt | [`Hedge`] |
//! | several of the above around one call, in a stated order | [`Policy`], which fails with [`Error`] |
//! | run many jobs with priorities, delays and deadlines under a concurrency bound | [`Scheduler`] and [`Job`] |
//! | run blocking or CPU-heavy work off the async threads | [`WorkerPool`] |
//! | reuse connections (or any costly resource) with health checks | [`ResourcePool`] |
//! | hand out N permits fairly, weighted, closeable | [`Semaphore`] |
//! | a bounded or unbounded MPMC channel | [`queue::bounded`], [`queue::unbounded`] |
//! | items that come out by priority, or once their delay is over | [`PriorityQueue`], [`DelayQueue`] |
//! | cancel a tree of work, or cancel at a deadline | [`CancellationToken`] |
//! | run any of this on your executor | a [`Runtime`]: `Smol`, `Tokio`, `AsyncStd` (features) |
//! | test time-dependent code at exact instants, without sleeping | `test_util::VirtualRuntime` (feature `test-util`) |
//! | call MCP tool servers with all of this under every call | `mcp::Client` (feature `mcp`) |
//! | the same policies as tower layers | `tower::PolicyLayer` (feature `tower`) |
//!
//! # Where things are: one path per type
//!
//! * **The root** holds the headline type of each component, the one a
//!   user names first: [`RateLimiter`], [`Bulkhead`], [`CircuitBreaker`],
//!   [`Retry`], [`Policy`], [`Error`], [`Scheduler`], [`Job`],
//!   [`Priority`], [`WorkerPool`], [`ResourcePool`], [`Semaphore`],
//!   [`CancellationToken`], ... and what every builder and every runtime
//!   shares: [`Runtime`], [`ConfigError`], [`Rule`], the adapters' runtimes.
//! * **Layer modules** hold what comes with those types: builders, errors,
//!   stats, permits, futures, traits to implement. [`limit`] (rate, keyed,
//!   bulkhead, adaptive), [`resilience`] (retry, breaker, timeout, hedge),
//!   [`policy`] (the pipeline's layers), [`sched`], [`pool`], [`sync`],
//!   [`queue`], [`cancel`], [`rt`] (what a runtime hands back), [`io`]
//!   (what adapters supply), [`obs`] (tracing and metrics names),
//!   `test_util` (feature `test-util`), and one module per adapter.
//!   So the builder of [`RateLimiter`] is [`limit::RateLimiterBuilder`],
//!   and never `weir::RateLimiterBuilder`.
//! * Each type has exactly one public path: a layer module never repeats a
//!   root type, and the files inside a layer are private. CI checks it
//!   (`.ci/public-paths.sh`, over the rendered docs).
//!
//! # Features
//!
//! * `smol` (default): [`Smol`], the smol adapter.
//! * `tokio`: [`Tokio`], the tokio adapter.
//! * `async-std`: [`AsyncStd`], the async-std adapter (async-std is
//!   discontinued upstream; prefer smol for new code).
//! * `test-util`: [`test_util`], the virtual-time runtime, the counting
//!   allocator and the process census, under one path.
//! * `tracing`: events at weir's decisions and a span per policy call
//!   ([`obs`]).
//! * `metrics`: metrics for every component through the `metrics` facade
//!   ([`obs`] lists them).
//! * `tower`: [`tower`](mod@tower), weir's policies as tower layers.
//!
//! Features only add: enabling several adapters at once is fine.
//!
//! # Example
//!
//! ```
//! # #[cfg(feature = "smol")] {
//! use std::time::Duration;
//! use weir::{Runtime, Smol};
//!
//! smol::block_on(async {
//!     let rt = Smol;
//!     let t0 = rt.now();
//!     rt.sleep(Duration::from_millis(2)).await;
//!     assert!(rt.now() - t0 >= Duration::from_millis(2));
//! });
//! # }
//! ```

//! The pipeline of DESIGN.md, as a user writes it, in the order the
//! [`policy`] docs explain: the overall timeout outside the retry, the
//! per-attempt timeout innermost, the breaker before the rate limit, the
//! bulkhead around the request alone.
//!
//! ```
//! # #[cfg(feature = "smol")] {
//! use std::time::Duration;
//! use weir::{Bulkhead, CircuitBreaker, Error, Policy, Quota, RateLimiter, Retry, Smol};
//!
//! # fn main() -> Result<(), weir::ConfigError> {
//! let rt = Smol;
//! // 50 per second; `.strict()` would never exceed 50 in any second.
//! let rate = RateLimiter::builder().quota(Quota::per_second(50).burst(10)).build(rt)?;
//! let bulkhead = Bulkhead::builder().max_concurrent(8).build(rt)?; // 1024 may wait
//! let breaker = CircuitBreaker::builder().build(rt)?;
//! let retry = Retry::exponential(Duration::from_millis(100)).max_attempts(5).jitter_full().build()?;
//! let policy = Policy::new(rt)
//!     .timeout(Duration::from_secs(30)) // the whole call, retries included
//!     .retry(retry)
//!     .breaker(breaker)
//!     .rate_limit(rate)
//!     .bulkhead(bulkhead)
//!     .timeout(Duration::from_secs(5)); // each attempt
//!
//! let reply: Result<&str, Error<std::io::Error>> =
//!     smol::block_on(policy.call(|| async { Ok("pong") }));
//! assert_eq!(reply.unwrap(), "pong");
//! # Ok(())
//! # }
//! # main().unwrap();
//! # }
//! ```
//!
//! On tokio the same pipeline is `examples/tokio_pipeline.rs`
//! (`cargo run --example tokio_pipeline --features tokio`).

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

pub use weir_core::*;

#[cfg(feature = "smol")]
#[doc(inline)]
pub use weir_smol::Smol;

#[cfg(feature = "tokio")]
#[doc(inline)]
pub use weir_tokio::Tokio;

#[cfg(feature = "async-std")]
#[doc(inline)]
pub use weir_async_std::AsyncStd;

/// The smol adapter: [`Smol`] and its TCP connection manager.
#[cfg(feature = "smol")]
pub mod smol {
    pub use weir_smol::{SmolChild, SmolProcess, SmolSleep, SmolTask, SmolTcp, TcpManager};
}

/// The tokio adapter: [`Tokio`] and its TCP connection manager.
#[cfg(feature = "tokio")]
pub mod tokio {
    pub use weir_tokio::{
        Compat, TcpManager, TokioChild, TokioIoTcp, TokioProcess, TokioTask, TokioTcp,
    };
}

/// The async-std adapter: [`AsyncStd`] and its TCP connection manager.
#[cfg(feature = "async-std")]
pub mod async_std {
    pub use weir_async_std::{
        AsyncStdChild, AsyncStdProcess, AsyncStdSleep, AsyncStdTask, AsyncStdTcp, TcpManager,
    };
}

/// weir's policies as tower layers: [`tower::PolicyLayer`] and one layer
/// per limiter and policy (see [`weir_tower`]).
#[cfg(feature = "tower")]
pub mod tower {
    pub use weir_tower::*;
}

/// The MCP client (crate `weir-mcp`): a Model Context Protocol client on any
/// runtime, with weir's flow control under every call. Additive with the
/// adapter features: pick the runtime with `smol`, `tokio` or `async-std`.
///
/// ```
/// # #[cfg(feature = "smol")] {
/// use weir::mcp::{Client, ProtocolMode};
/// let client = Client::builder(weir::Smol)
///     .protocol(ProtocolMode::Auto)
///     .timeout(Some(std::time::Duration::from_secs(30)))
///     .build(|| async { Ok(weir::mcp::memory::pair().0) });
/// # drop(client);
/// # }
/// ```
#[cfg(feature = "mcp")]
pub mod mcp {
    pub use weir_mcp::*;
}

// The README's examples are doc tests too (they need every feature).
#[cfg(all(
    doctest,
    feature = "smol",
    feature = "tokio",
    feature = "async-std",
    feature = "mcp",
    feature = "tower",
    feature = "tracing",
    feature = "metrics"
))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
