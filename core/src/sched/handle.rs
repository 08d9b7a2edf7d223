//! The caller's side of a submitted job.

use core::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::cell::Completion;
use super::{TaskError, TaskId};

/// Where a job is in its life.
///
/// ```
/// use weir_core::sched::Status;
/// assert!(Status::Completed.is_finished());
/// assert!(!Status::Delayed.is_finished());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// Waiting for its start time.
    Delayed,
    /// Ready, waiting for a free slot.
    Pending,
    /// Its future is running.
    Running,
    /// Its future ran to its end.
    Completed,
    /// Its future panicked.
    Panicked,
    /// Cancelled through its handle.
    Cancelled,
    /// Its deadline passed before it started.
    Expired,
    /// Aborted by [`Shutdown::Abort`](crate::Shutdown::Abort).
    Shutdown,
}

impl Status {
    /// Whether the job has reached its final state.
    ///
    /// ```
    /// assert!(weir_core::sched::Status::Expired.is_finished());
    /// assert!(!weir_core::sched::Status::Running.is_finished());
    /// ```
    pub fn is_finished(self) -> bool {
        !matches!(self, Status::Delayed | Status::Pending | Status::Running)
    }
}

/// A submitted job: await it for the job's output, or cancel it.
///
/// Resolves to `Ok(output)` or to a [`TaskError`] saying why there is none.
///
/// **Dropping a handle does not cancel the job** (it detaches, as tokio's
/// `JoinHandle` does: the handle is not the work, only a view of work the
/// scheduler already owns): a queued job still starts in its turn, a
/// running one runs on, and its output is discarded. Call
/// [`cancel_on_drop`](TaskHandle::cancel_on_drop) to tie the job's life to
/// the handle instead, or [`cancel`](TaskHandle::cancel). See the
/// [drop rules](super#drop-rules).
///
/// # Panics
///
/// Polling the handle again after it resolved panics, as with most join
/// handles.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use weir_core::test_util::VirtualRuntime;
/// use weir_core::{Job, Scheduler, sched::Status};
///
/// let rt = VirtualRuntime::new();
/// rt.block_on({
///     let rt = rt.clone();
///     async move {
///         let sched = Scheduler::builder().max_concurrent(1).build(rt).unwrap();
///         let handle = sched.submit(Job::new(async { 2 + 2 })).unwrap();
///         assert_eq!(handle.await.unwrap(), 4);
///     }
/// });
/// # }
/// ```
#[must_use = "dropping a TaskHandle detaches the job; its output is lost"]
pub struct TaskHandle<T> {
    cell: Arc<dyn Completion<T>>,
    cancel_on_drop: bool,
    done: bool,
}

impl<T> TaskHandle<T> {
    pub(crate) fn new(cell: Arc<dyn Completion<T>>) -> Self {
        TaskHandle {
            cell,
            cancel_on_drop: false,
            done: false,
        }
    }

    /// The job's id.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// # use weir_core::{Job, Scheduler, test_util::VirtualRuntime};
    /// let sched = Scheduler::builder().build(VirtualRuntime::new()).unwrap();
    /// let a = sched.submit(Job::new(async {})).unwrap();
    /// let b = sched.submit(Job::new(async {})).unwrap();
    /// assert!(a.id() < b.id());
    /// # }
    /// ```
    pub fn id(&self) -> TaskId {
        self.cell.id()
    }

    /// The job's name, if it was given one.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// # use weir_core::{Job, Scheduler, test_util::VirtualRuntime};
    /// let sched = Scheduler::builder().build(VirtualRuntime::new()).unwrap();
    /// let h = sched.submit(Job::new(async {}).name("report")).unwrap();
    /// assert_eq!(h.name(), Some("report"));
    /// # }
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.cell.name()
    }

    /// Where the job is now.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// # use std::time::Duration;
    /// # use weir_core::{Job, Scheduler, sched::Status, test_util::VirtualRuntime};
    /// let sched = Scheduler::builder().build(VirtualRuntime::new()).unwrap();
    /// let h = sched.submit(Job::new(async {}).delay(Duration::from_secs(1))).unwrap();
    /// assert_eq!(h.status(), Status::Delayed);
    /// # }
    /// ```
    pub fn status(&self) -> Status {
        self.cell.status()
    }

    /// Cancels the job: a job that has not started never runs; a running
    /// job's future is dropped at its next wake-up (or at once if it is
    /// idle). The handle then resolves to [`TaskError::Cancelled`], unless
    /// the job had already finished, in which case nothing changes.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// # use std::time::Duration;
    /// # use weir_core::{Job, Scheduler, sched::TaskError, test_util::VirtualRuntime};
    /// let rt = VirtualRuntime::new();
    /// let sched = Scheduler::builder().build(rt.clone()).unwrap();
    /// let h = sched.submit(Job::new(async { 1 }).delay(Duration::from_secs(1))).unwrap();
    /// h.cancel();
    /// assert!(matches!(rt.block_on(h), Err(TaskError::Cancelled)));
    /// # }
    /// ```
    pub fn cancel(&self) {
        self.cell.cancel();
    }

    /// Makes dropping this handle cancel the job (see
    /// [`cancel`](TaskHandle::cancel)) if it has not finished.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// # use std::time::Duration;
    /// # use weir_core::{Job, Scheduler, test_util::VirtualRuntime};
    /// let sched = Scheduler::builder().build(VirtualRuntime::new()).unwrap();
    /// let h = sched.submit(Job::new(async {}).delay(Duration::from_secs(1))).unwrap();
    /// drop(h.cancel_on_drop());
    /// assert_eq!(sched.stats().cancelled, 1);
    /// # }
    /// ```
    pub fn cancel_on_drop(mut self) -> Self {
        self.cancel_on_drop = true;
        self
    }
}

impl<T> Future for TaskHandle<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        assert!(!self.done, "TaskHandle polled after it resolved");
        let out = self.cell.poll_result(cx);
        if out.is_ready() {
            self.done = true;
        }
        out
    }
}

impl<T> Drop for TaskHandle<T> {
    fn drop(&mut self) {
        if self.cancel_on_drop && !self.done {
            self.cell.cancel();
        }
    }
}

impl<T> fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHandle")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("status", &self.status())
            .finish()
    }
}
