//! The small pieces several components need alike, written once: the
//! histogram behind every reported percentile, the list of wakers woken
//! after a lock is released, the reading of a panic payload, and the checks
//! builders run on their configuration.
//!
//! Nothing here is public: each piece serves the components' own public
//! types (`WaitStats`, `WorkerPoolStats`, `ConfigError`, ...).

pub(crate) mod check;
pub(crate) mod histogram;
pub(crate) mod panic;
pub(crate) mod wait_queue;
pub(crate) mod wake_list;
