//! Scheduling: run futures with priorities, delays and deadlines under a
//! concurrency bound and a queue bound, on any runtime.
//!
//! # What
//!
//! A [`Scheduler`](crate::Scheduler) accepts [`Job`](crate::Job)s: a future with a [`Priority`](crate::Priority), an
//! optional start time ([`Job::delay`](crate::Job::delay), [`Job::start_at`](crate::Job::start_at)), an optional
//! [`Job::deadline`](crate::Job::deadline) and an optional name. At most `max_concurrent` jobs run
//! at once (each as a task spawned on the runtime); at most
//! `queue_capacity` wait, and a submission beyond that is [`Rejected`] with
//! the job handed back. Each submission gives a [`TaskHandle`]: await it for
//! the output or a [`TaskError`] (panicked, cancelled, expired, shut down),
//! [`cancel`](TaskHandle::cancel) it, or ask its [`status`](TaskHandle::status).
//!
//! Rules, each tested:
//!
//! * Among ready jobs a higher priority always starts first; equal
//!   priorities start in submission order. A job that finds a free slot and
//!   nothing waiting starts at once.
//! * A delayed job becomes ready at its instant, exactly, on the runtime's
//!   clock. A job that has not started by its deadline never runs; its
//!   handle resolves to [`TaskError::Expired`] at the deadline.
//! * A panic in a job is caught and reported on its handle; the scheduler
//!   keeps going. Dropping a handle does **not** cancel the job, unless it
//!   was made with [`TaskHandle::cancel_on_drop`] (see [Drop
//!   rules](#drop-rules)).
//! * [`Scheduler::submit_periodic`](crate::Scheduler::submit_periodic) runs a job every interval through the
//!   same queue, surviving runs that fail, with a [`MissedTick`] policy.
//! * [`Shutdown::Graceful`](crate::Shutdown::Graceful) runs every accepted job; [`Shutdown::Abort`](crate::Shutdown::Abort)
//!   stops them and reports which ([`ShutdownReport`]).
//!
//! ```
//! # #[cfg(feature = "test-util")] {
//! use weir_core::test_util::VirtualRuntime;
//! use weir_core::{Job, Priority, Scheduler, Shutdown};
//!
//! let rt = VirtualRuntime::new();
//! rt.block_on({
//!     let rt = rt.clone();
//!     async move {
//!         let sched = Scheduler::builder().max_concurrent(1).build(rt).unwrap();
//!         let a = sched.submit(Job::new(async { 1 })).unwrap();
//!         let low = sched.submit(Job::new(async { 2 }).priority(Priority::LOW)).unwrap();
//!         let high = sched.submit(Job::new(async { 3 }).priority(Priority::HIGH)).unwrap();
//!         assert_eq!(a.await.unwrap() + low.await.unwrap() + high.await.unwrap(), 6);
//!         sched.shutdown(Shutdown::Graceful).await;
//!         assert_eq!(sched.stats().completed, 3);
//!     }
//! });
//! # }
//! ```
//!
//! # Drop rules
//!
//! weir follows the ecosystem's rule: **a future you await is cancelled
//! when dropped; a handle to work already handed to a runner detaches when
//! dropped**, as tokio's `JoinHandle` does. Here:
//!
//! * [`TaskHandle`] is a handle: dropped, the job runs on (or stays queued
//!   and starts in its turn) and its output is discarded.
//!   [`TaskHandle::cancel_on_drop`] opts into cancelling instead, and
//!   [`TaskHandle::cancel`] cancels explicitly.
//! * [`PeriodicHandle`] is a handle: dropped, the periodic job keeps
//!   ticking until [`PeriodicHandle::cancel`] or shutdown.
//! * [`Scheduler`](crate::Scheduler) is a handle to the scheduler: dropping every clone
//!   stops nothing; accepted jobs run to their end.
//! * [`Scheduler::shutdown`](crate::Scheduler::shutdown) is a future you await: it does nothing until
//!   first polled, closes the scheduler (and, with [`Shutdown::Abort`](crate::Shutdown::Abort),
//!   aborts the jobs) on that first poll, then waits. Dropped after that,
//!   only the waiting stops; the closing stays.
//!
//! The pools follow the same rule ([`crate::pool`]): dropping a
//! `ResourcePool::get` or `WorkerPool::run` future cancels the request.
//!
//! # When not to use it
//!
//! To bound concurrency of calls the caller awaits itself, a semaphore or a
//! bulkhead costs less: the scheduler spawns a task per job. For blocking or
//! CPU-heavy work use the worker pool.
//!
//! # Cost
//!
//! A submission allocates once for the job (future, result and wakers in one
//! block) plus whatever the runtime's spawn costs. Scheduling decisions take
//! one short lock.

#![forbid(unsafe_code)]

mod cell;
mod error;
mod handle;
pub(crate) mod job;
mod periodic;
pub(crate) mod priority;
mod ready;
pub(crate) mod scheduler;
mod shared;
mod stats;

pub use error::{RejectReason, Rejected, TaskError};
pub use handle::{Status, TaskHandle};
pub use periodic::{MissedTick, PeriodicError, PeriodicHandle, RunOutcome};
pub use priority::TaskId;
pub use scheduler::{AbortedJob, SchedulerBuilder, ShutdownReport};
pub use stats::{SchedStats, WaitStats};
