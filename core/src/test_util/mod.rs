//! What tests of weir, and of code built on it, need (feature `test-util`).
//!
//! Everything behind the `test-util` feature lives here, under one path:
//!
//! * [`VirtualRuntime`]: a [`Runtime`](crate::Runtime) whose clock moves only
//!   when the test advances it. Sleepers fire in deadline order, so a
//!   thirty-second open state is tested in microseconds and at exact
//!   instants.
//! * [`alloc_count`]: a counting global allocator, the evidence for "zero
//!   allocations per operation".
//! * [`census`] (Linux): the process table, the evidence for "no zombie and
//!   no leaked process".
//!
//! Not for production builds: nothing here is tuned for speed.
//!
//! ```
//! use std::time::Duration;
//! use weir_core::Runtime;
//! use weir_core::test_util::VirtualRuntime;
//!
//! let rt = VirtualRuntime::new();
//! let t0 = rt.now();
//! rt.block_on({
//!     let rt = rt.clone();
//!     async move { rt.sleep(Duration::from_secs(30)).await }
//! });
//! // Thirty virtual seconds, exactly, and no real wait.
//! assert_eq!(rt.now() - t0, Duration::from_secs(30));
//! ```

pub mod alloc_count;
#[cfg(target_os = "linux")]
pub mod census;

pub use crate::rt::virtual_time::{Idle, VirtualRuntime, VirtualSleep, VirtualTask};

/// The fuzz targets' bodies, shared by `fuzz/` (cargo-fuzz) and the corpus
/// replays in `cargo test`. Not an API.
#[doc(hidden)]
pub mod fuzz {
    pub use crate::limit::rate::fuzz::rate_gcra;
    pub use crate::queue::fuzz::{queue_bounded, queue_priority};
    pub use crate::resilience::fuzz::{ModelConfig, Op, breaker, check, decode};
    pub use crate::sync::fuzz::semaphore;
}
