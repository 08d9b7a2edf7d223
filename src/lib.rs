//! weir: flow control for async Rust on any executor.
//!
//! An async client that fans out many calls to slow, flaky or rate-limited
//! services needs the same machinery every time: limits, retries, breakers,
//! scheduling and pools. weir provides it with a core that depends on no
//! executor ([`weir_core`]) and thin adapters for smol, tokio and async-std.
//!
//! # Features
//!
//! * `smol` (default): [`Smol`], the smol adapter.
//! * `tokio`: [`Tokio`], the tokio adapter.
//! * `async-std`: [`AsyncStd`], the async-std adapter (async-std is
//!   discontinued upstream; prefer smol for new code).
//! * `test-util`: the virtual-time runtime and the counting allocator.
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

//! The pipeline of DESIGN.md, as a user writes it:
//!
//! ```
//! # #[cfg(feature = "smol")] {
//! use std::time::Duration;
//! use weir::{Bulkhead, CircuitBreaker, Error, Policy, RateLimiter, Retry, Smol};
//!
//! # fn main() -> Result<(), weir::ConfigError> {
//! let rt = Smol;
//! let rate = RateLimiter::builder().rate(50, Duration::from_secs(1)).burst(10).build(rt)?;
//! let bulkhead = Bulkhead::builder().max_concurrent(8).queue_capacity(100).build(rt)?;
//! let breaker = CircuitBreaker::builder().build(rt)?;
//! let retry = Retry::exponential(Duration::from_millis(100)).max_attempts(5).jitter_full().build()?;
//! let policy = Policy::new(rt).timeout(Duration::from_secs(5)).retry(retry)
//!     .breaker(breaker).rate_limit(rate).bulkhead(bulkhead);
//!
//! let reply: Result<&str, Error<std::io::Error>> =
//!     smol::block_on(policy.call(|| async { Ok("pong") }));
//! assert_eq!(reply.unwrap(), "pong");
//! # Ok(())
//! # }
//! # main().unwrap();
//! # }
//! ```

#![warn(missing_docs)]

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
    pub use weir_smol::*;
}

/// The tokio adapter: [`Tokio`] and its TCP connection manager.
#[cfg(feature = "tokio")]
pub mod tokio {
    pub use weir_tokio::*;
}

/// The async-std adapter: [`AsyncStd`] and its TCP connection manager.
#[cfg(feature = "async-std")]
pub mod async_std {
    pub use weir_async_std::*;
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
