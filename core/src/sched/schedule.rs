//! The contract between a job's task and the scheduler that runs it, in both
//! directions, so that neither side names the other's type: the task
//! reports to a [`Schedule`] (as a tokio task reports to its `Schedule`), and
//! the scheduler handles every job, whatever its future, as a [`Queued`].
//!
//! The job's cell (`cell.rs`) implements `Queued`; the scheduler's state
//! (`shared.rs`) implements `Schedule`. Both import this file, and nothing
//! here imports either.

use std::borrow::Cow;
use std::sync::Arc;
use std::task::Waker;
use std::time::Instant;

use super::error::TaskError;
use super::priority::{Priority, TaskId};
use super::status::Status;
use crate::rt::runtime::Runtime;

/// How a started job ended, for the counters.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Outcome {
    Completed,
    Failed,
    Cancelled,
}

/// What a job's task reports to: where it runs, when it ends, and how a
/// waiting job is taken out of the queue.
pub(crate) trait Schedule: Send + Sync + Sized + 'static {
    /// The runtime the job's task is spawned on.
    type Rt: Runtime;

    fn runtime(&self) -> &Self::Rt;

    /// A started job ended with `outcome` and gives back `slot`; with
    /// `start_next` the scheduler starts the next ready job (not when the
    /// runtime is dropping the task).
    fn release(self: &Arc<Self>, slot: usize, outcome: Outcome, start_next: bool);

    /// Ends `job` with `Cancelled` if it still waits; false if it already
    /// started or finished (the caller then aborts it if running).
    fn cancel_waiting(&self, job: &dyn Queued<Self>) -> bool;
}

/// What the scheduler sees of a job, whatever its future's type.
pub(crate) trait Queued<S>: Send + Sync + 'static {
    fn id(&self) -> TaskId;
    fn name(&self) -> Option<&Cow<'static, str>>;
    fn priority(&self) -> Priority;
    fn deadline(&self) -> Option<Instant>;
    /// Whether the job still waits to start (delayed or pending).
    fn is_waiting(&self) -> bool;
    /// Delayed -> Pending; false when the job left Delayed already.
    fn make_ready(&self) -> bool;
    /// Pending -> Running; false when the job left Pending already.
    fn claim(&self) -> bool;
    /// Starts the future of a claimed job on the scheduler's runtime, in
    /// `slot`, to be released to `scheduler` when it ends.
    fn spawn(self: Arc<Self>, scheduler: Arc<S>, slot: usize);
    /// Ends a job that never started with `err`; `None` if it was not
    /// waiting any more, else the status it left and the handle's waker.
    fn finish_unstarted(&self, err: TaskError) -> Option<(Status, Option<Waker>)>;
    /// Asks a running job to drop its future and end with `err`; false if
    /// it was not running.
    fn abort(&self, err: TaskError) -> bool;
}
