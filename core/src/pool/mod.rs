//! Pools: a dynamic worker thread pool for blocking work and a resource
//! (connection) pool.
//!
//! # `WorkerPool`
//!
//! [`WorkerPool`](crate::WorkerPool) runs closures on OS threads: blocking I/O, CPU-heavy work,
//! synchronous libraries. It depends on no async runtime: `run(f).await`
//! works from any executor, `run_blocking` and `execute` from plain threads.
//!
//! **When not to use it:** for async work (use the executor), for work that
//! must run on the executor's own blocking pool (use
//! [`Runtime::spawn_blocking`](crate::Runtime::spawn_blocking)), or for
//! data-parallel loops over a slice (a work-stealing library such as rayon
//! splits them better).
//!
//! ## Growth
//!
//! The pool starts `min_threads` threads at build time and grows on demand
//! up to `max_threads`. The rule: **when a job is queued and no worker is
//! parked, being woken or starting, one thread is started** (if below
//! `max_threads`). A thread that starts and finds more work still waiting
//! applies the same rule, so a burst adds threads one at a time, each as
//! fast as the OS starts them, and never one per queued job: with
//! `max_threads(4)` and 100 jobs blocked on a barrier, exactly 4 threads
//! exist. A parked worker is woken the same way: one at a time, and a woken
//! worker that finds more work wakes the next. A busy worker re-applies the
//! rule every 32 jobs it runs back to back, so a queue that keeps not
//! draining keeps adding threads. A submission while a worker is awake
//! costs no system call.
//!
//! A worker that has just finished a job and not yet parked counts as busy,
//! so a job submitted in that instant may start a thread although the
//! worker was about to become free (as with tokio's and `blocking`'s
//! pools); the extra thread retires after `idle_timeout`.
//!
//! ## Retirement
//!
//! A thread parks when the queue is empty. A parked thread above
//! `min_threads` exits once it has been parked for `idle_timeout` as
//! measured by the pool's clock. The clock is injectable
//! ([`WorkerPoolBuilder::clock`]); after moving an injected clock, call
//! [`WorkerPool::tick`](crate::WorkerPool::tick) so that parked threads re-check it.
//!
//! ## Example
//!
//! ```
//! use std::time::Duration;
//! use weir_core::WorkerPool;
//!
//! let pool = WorkerPool::builder()
//!     .min_threads(1)
//!     .max_threads(8)
//!     .idle_timeout(Duration::from_secs(60))
//!     .build()?;
//! let digest = pool.run_blocking(|| (0..1000u64).fold(0, |h, x| h ^ x.wrapping_mul(31)))
//!     .unwrap();
//! # let _ = digest;
//! # Ok::<(), weir_core::ConfigError>(())
//! ```

//!
//! # Drop rules
//!
//! The rule is the ecosystem's, and the scheduler's ([drop
//! rules](crate::sched#drop-rules)): **a future you await is cancelled when
//! dropped; a handle to work already handed to a runner detaches.**
//!
//! * The future of [`ResourcePool::get`](crate::ResourcePool::get) is cancelled when dropped: it
//!   leaves the waiters' queue, a resource already granted to it goes to
//!   the next waiter (or the idle list), a `create` or `recycle` it was
//!   running is dropped and its slot freed.
//! * A [`Pooled`] guard puts its resource back when dropped (also on
//!   unwind); [`Pooled::detach`] takes it out for good.
//! * Dropping the last [`ResourcePool`](crate::ResourcePool) handle drops the idle resources and
//!   ends the background task; guards still out keep the pool's state alive
//!   until they come back.
//! * The future of [`WorkerPool::run`](crate::WorkerPool::run) is cancelled when dropped: a job that
//!   has not started is withdrawn and never runs. A job already running on
//!   a thread cannot be stopped from outside: it runs to its end and its
//!   output is dropped. [`WorkerPool::execute`](crate::WorkerPool::execute) gives no handle at all.
//! * Dropping a [`WorkerPool`](crate::WorkerPool) never blocks: it closes the pool and
//!   detaches its threads, which run the jobs already accepted and exit.
//!   [`WorkerPool::terminated`](crate::WorkerPool::terminated) (async) or [`WorkerPool::shutdown`](crate::WorkerPool::shutdown)
//!   (blocking) waits for them.

pub(crate) mod resource;
mod tcp;
pub(crate) mod worker;

pub use resource::{
    Hook, Manager, ManagerPanic, PoolError, PoolStats, Pooled, ResourcePoolBuilder,
};
pub use tcp::{TcpConnector, TcpManager, idle_stream_verdict};
pub use worker::{RejectionPolicy, WorkerError, WorkerPoolBuilder, WorkerPoolStats};
