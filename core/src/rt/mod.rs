//! The core's only window to an executor: time, spawning and blocking offload.
//!
//! Every time-dependent primitive in weir is generic over [`Runtime`](crate::Runtime), so one
//! implementation runs unchanged on smol, tokio and async-std (through the
//! adapter crates) and on the `VirtualRuntime` (feature `test-util`,
//! in `test_util`) in tests, where a
//! thirty-second open state takes microseconds.
//!
//! The trait uses associated types instead of boxed futures: a sleep or a
//! join handle is the executor's own type, so waiting on a timer costs what
//! the executor charges for it and nothing more.

#![forbid(unsafe_code)]

pub(crate) mod runtime;
#[cfg(feature = "test-util")]
pub(crate) mod virtual_time;

pub use runtime::{JoinError, JoinHandle, deadline_after};
