//! One submitted job: its future, its result slot and the wakers of the two
//! sides (the running task and the handle), in one allocation.
//!
//! Lock order: the scheduler's state lock may be held while a cell's lock is
//! taken, never the other way round.

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use pin_project_lite::pin_project;

use super::shared::{Outcome, Shared};
use crate::loom::sync::Mutex;
use crate::{
    Priority,
    sched::{Status, TaskError, TaskId},
};
use crate::{Runtime, rt::JoinHandle};

/// What the scheduler sees of a job, whatever its future's type.
pub(crate) trait Queued<R>: Send + Sync + 'static {
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
    /// Starts the future of a claimed job on the runtime.
    fn spawn(self: Arc<Self>, shared: Arc<Shared<R>>, slot: usize);
    /// Ends a job that never started with `err`; `None` if it was not
    /// waiting any more, else the status it left and the handle's waker.
    fn finish_unstarted(&self, err: TaskError) -> Option<(Status, Option<Waker>)>;
    /// Asks a running job to drop its future and end with `err`; false if
    /// it was not running.
    fn abort(&self, err: TaskError) -> bool;
}

/// The typed side, seen by the job's handle.
pub(crate) trait Completion<T>: Send + Sync {
    fn poll_result(&self, cx: &mut Context<'_>) -> Poll<Result<T, TaskError>>;
    fn cancel(&self);
    fn status(&self) -> Status;
    fn id(&self) -> TaskId;
    fn name(&self) -> Option<&str>;
}

pub(crate) struct JobCell<F: Future, R: Runtime> {
    id: TaskId,
    priority: Priority,
    deadline: Option<Instant>,
    name: Option<Cow<'static, str>>,
    shared: Weak<Shared<R>>,
    inner: Mutex<CellState<F>>,
}

pub(crate) struct CellState<F: Future> {
    status: Status,
    /// Present from submission until the job is spawned (or never runs).
    future: Option<F>,
    result: Option<Result<F::Output, TaskError>>,
    /// Set when a running job must stop; the running task reads it.
    abort: Option<TaskError>,
    handle_waker: Option<Waker>,
    run_waker: Option<Waker>,
}

impl<F, R> JobCell<F, R>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    R: Runtime,
{
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        id: TaskId,
        future: F,
        priority: Priority,
        deadline: Option<Instant>,
        name: Option<Cow<'static, str>>,
        shared: Weak<Shared<R>>,
        status: Status,
    ) -> Self {
        JobCell {
            id,
            priority,
            deadline,
            name,
            shared,
            inner: Mutex::new(CellState {
                status,
                future: Some(future),
                result: None,
                abort: None,
                handle_waker: None,
                run_waker: None,
            }),
        }
    }

    /// Takes the future back out of a job that was never queued.
    pub(crate) fn take_future(&self) -> Option<F> {
        self.inner.lock().future.take()
    }

    /// Sets the status of a job accepted straight into running.
    pub(crate) fn set_status(&self, status: Status) {
        self.inner.lock().status = status;
    }

    /// Stores the result; returns the handle's waker, to wake once the
    /// scheduler's counters include this job (a caller that awaited the
    /// handle then sees them up to date).
    fn finish(&self, result: Result<F::Output, TaskError>) -> (Outcome, Option<Waker>) {
        let outcome = match &result {
            Ok(_) => Outcome::Completed,
            Err(TaskError::Panicked(_)) => Outcome::Failed,
            Err(_) => Outcome::Cancelled,
        };
        let waker = {
            let mut st = self.inner.lock();
            st.status = status_of(&result);
            st.result = Some(result);
            st.run_waker = None;
            st.abort = None;
            st.handle_waker.take()
        };
        (outcome, waker)
    }
}

fn status_of<T>(result: &Result<T, TaskError>) -> Status {
    match result {
        Ok(_) => Status::Completed,
        Err(TaskError::Panicked(_)) => Status::Panicked,
        Err(TaskError::Cancelled) => Status::Cancelled,
        Err(TaskError::Expired) => Status::Expired,
        Err(TaskError::Shutdown) => Status::Shutdown,
    }
}

impl<F, R> Queued<R> for JobCell<F, R>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    R: Runtime,
{
    fn id(&self) -> TaskId {
        self.id
    }

    fn name(&self) -> Option<&Cow<'static, str>> {
        self.name.as_ref()
    }

    fn priority(&self) -> Priority {
        self.priority
    }

    fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    fn is_waiting(&self) -> bool {
        matches!(self.inner.lock().status, Status::Delayed | Status::Pending)
    }

    fn make_ready(&self) -> bool {
        let mut st = self.inner.lock();
        if st.status == Status::Delayed {
            st.status = Status::Pending;
            true
        } else {
            false
        }
    }

    fn claim(&self) -> bool {
        let mut st = self.inner.lock();
        if st.status == Status::Pending {
            st.status = Status::Running;
            true
        } else {
            false
        }
    }

    fn spawn(self: Arc<Self>, shared: Arc<Shared<R>>, slot: usize) {
        let future = self.inner.lock().future.take();
        let rt = shared.rt.clone();
        rt.spawn(Run {
            future,
            cell: self,
            shared,
            slot,
            done: false,
        })
        .detach();
    }

    fn finish_unstarted(&self, err: TaskError) -> Option<(Status, Option<Waker>)> {
        let mut st = self.inner.lock();
        let was = st.status;
        if !matches!(was, Status::Delayed | Status::Pending) {
            return None;
        }
        st.status = status_of::<()>(&Err(err.clone_unit()));
        st.result = Some(Err(err));
        // The future never runs: drop it now rather than with the handle.
        let future = st.future.take();
        let waker = st.handle_waker.take();
        drop(st);
        drop(future);
        Some((was, waker))
    }

    fn abort(&self, err: TaskError) -> bool {
        let waker = {
            let mut st = self.inner.lock();
            if st.status != Status::Running || st.result.is_some() {
                return false;
            }
            if st.abort.is_none() {
                st.abort = Some(err);
            }
            st.run_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        true
    }
}

impl TaskError {
    /// A copy of an error that carries no payload (every variant but
    /// `Panicked`, which never ends an unstarted job).
    fn clone_unit(&self) -> TaskError {
        match self {
            TaskError::Cancelled => TaskError::Cancelled,
            TaskError::Expired => TaskError::Expired,
            TaskError::Shutdown | TaskError::Panicked(_) => TaskError::Shutdown,
        }
    }
}

impl<F, R> Completion<F::Output> for JobCell<F, R>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    R: Runtime,
{
    fn poll_result(&self, cx: &mut Context<'_>) -> Poll<Result<F::Output, TaskError>> {
        let mut st = self.inner.lock();
        if let Some(result) = st.result.take() {
            return Poll::Ready(result);
        }
        if !st
            .handle_waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            st.handle_waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    fn cancel(&self) {
        if let Some(shared) = self.shared.upgrade() {
            if shared.cancel_waiting(self) {
                return;
            }
        }
        self.abort(TaskError::Cancelled);
    }

    fn status(&self) -> Status {
        self.inner.lock().status
    }

    fn id(&self) -> TaskId {
        self.id
    }

    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

pin_project! {
    /// The task the runtime runs for a started job: polls the job's future,
    /// catches its panic, honours an abort, and tells the scheduler when it
    /// ends.
    struct Run<F: Future, R: Runtime> {
        #[pin]
        future: Option<F>,
        cell: Arc<JobCell<F, R>>,
        shared: Arc<Shared<R>>,
        slot: usize,
        done: bool,
    }

    impl<F: Future, R: Runtime> PinnedDrop for Run<F, R> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if !*this.done {
                // The runtime dropped the task (it is shutting down): the
                // job did not finish, and starting others would be futile.
                let mut future = this.future;
                let _ = catch_unwind(AssertUnwindSafe(|| future.set(None)));
                this.cell.finish_dropped(this.shared, *this.slot);
            }
        }
    }
}

impl<F: Future, R: Runtime> JobCell<F, R> {
    fn finish_dropped(&self, shared: &Arc<Shared<R>>, slot: usize) {
        let waker = {
            let mut st = self.inner.lock();
            st.status = Status::Shutdown;
            st.result = Some(Err(TaskError::Shutdown));
            st.handle_waker.take()
        };
        shared.on_finish(slot, Outcome::Cancelled, false);
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<F, R> Future for Run<F, R>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    R: Runtime,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(());
        }
        // The abort flag is checked before every poll; the waker is stored
        // only when the future is about to wait, under the same lock as a
        // second check, so an abort between the two is never missed.
        let mut abort = this.cell.inner.lock().abort.take();
        let result = loop {
            if let Some(err) = abort {
                let mut future = this.future.as_mut();
                // A destructor that panics must not stop the bookkeeping.
                let _ = catch_unwind(AssertUnwindSafe(|| future.set(None)));
                break Err(err);
            }
            let Some(future) = this.future.as_mut().as_pin_mut() else {
                return Poll::Ready(());
            };
            match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
                Ok(Poll::Pending) => {
                    let mut st = this.cell.inner.lock();
                    abort = st.abort.take();
                    if abort.is_none() {
                        if !st
                            .run_waker
                            .as_ref()
                            .is_some_and(|w| w.will_wake(cx.waker()))
                        {
                            st.run_waker = Some(cx.waker().clone());
                        }
                        return Poll::Pending;
                    }
                }
                Ok(Poll::Ready(out)) => {
                    let mut future = this.future.as_mut();
                    let _ = catch_unwind(AssertUnwindSafe(|| future.set(None)));
                    break Ok(out);
                }
                Err(payload) => {
                    let mut future = this.future.as_mut();
                    let _ = catch_unwind(AssertUnwindSafe(|| future.set(None)));
                    break Err(TaskError::Panicked(payload));
                }
            }
        };
        *this.done = true;
        let (outcome, waker) = this.cell.finish(result);
        this.shared.on_finish(*this.slot, outcome, true);
        if let Some(w) = waker {
            w.wake();
        }
        Poll::Ready(())
    }
}

impl<F: Future, R: Runtime> JobCell<F, R> {
    /// The job's settings, to rebuild a rejected job.
    pub(crate) fn into_parts(self) -> (Priority, Option<Instant>, Option<Cow<'static, str>>) {
        (self.priority, self.deadline, self.name)
    }
}
