//! A queued job and the slot its result comes back through: one
//! allocation per job, shared by the queue and the caller's handle.
//!
//! A job's `state` decides who owns its closure and its output:
//!
//! * `QUEUED`: the closure is in the cell; whoever moves the state out of
//!   `QUEUED` by CAS (a worker to run it, shutdown to cancel it, the handle
//!   to abandon it, the submitter to withdraw it) takes the closure.
//! * `RUNNING`: the worker owns the closure (moved out) and will write the
//!   output.
//! * `DONE`: the output is written (release) and belongs to the handle.
//! * `CANCELLED`: shutdown left the closure in place for the handle to take
//!   back.
//! * `TAKEN`, `ABANDONED`, `WITHDRAWN`: nothing left in the cell.

#![allow(unsafe_code)]

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use std::panic::{AssertUnwindSafe, catch_unwind};
// std's Arc: a cell is queued as `Arc<dyn Job>`, which loom's Arc cannot be.
use std::sync::Arc;

use crate::loom::cell::UnsafeCell;
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::thread::{self, Thread};

use super::WorkerError;

#[cfg(all(test, weir_loom))]
mod loom_tests;

const QUEUED: usize = 0;
const RUNNING: usize = 1;
const DONE: usize = 2;
const CANCELLED: usize = 3;
const TAKEN: usize = 4;
const ABANDONED: usize = 5;
const WITHDRAWN: usize = 6;

/// What a worker did with a job it popped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ran {
    Completed,
    Panicked,
    /// Its handle was dropped before it started: counted as cancelled.
    Abandoned,
    /// Shutdown-now cancelled it: counted as cancelled.
    Cancelled,
    /// Its submitter withdrew it (the pool closed during submission): it
    /// was never accepted, so it is not counted here.
    Withdrawn,
}

/// A type-erased job as the queue holds it.
pub(crate) trait Job: Send + Sync {
    /// Runs the job unless someone else claimed it first; `finished` is
    /// called with whether it panicked before the caller can see the
    /// output, so stats already count a job whose output was delivered.
    fn run(&self, finished: &mut dyn FnMut(bool)) -> Ran;
    /// Cancels the job unless someone else claimed it first (shutdown-now).
    fn cancel(&self) -> Ran;
}

/// A job whose submitter still holds the typed cell and may take the
/// closure back while it is queued.
pub(crate) trait Withdraw {
    type F;
    fn withdraw(&self) -> Option<Self::F>;
}

fn claimed(state: usize) -> Ran {
    match state {
        ABANDONED => Ran::Abandoned,
        CANCELLED => Ran::Cancelled,
        _ => Ran::Withdrawn,
    }
}

enum Waiter {
    None,
    Task(Waker),
    Thread(Thread),
}

/// A job whose caller waits for its output.
pub(crate) struct RunCell<F, R> {
    state: AtomicUsize,
    /// The submitter's, set again around the closure on the worker.
    ctx: crate::context::Context,
    func: UnsafeCell<Option<F>>,
    out: UnsafeCell<Option<thread::Result<R>>>,
    waiter: Mutex<Waiter>,
}

// SAFETY: `func` and `out` are only touched by the party that owns them by
// the state protocol in the module docs (a CAS out of QUEUED, or the
// release store of DONE / CANCELLED read with acquire by the handle), so the
// cell never gives two threads access to the same value at once; what moves
// between threads is `F` and `R`, which are `Send` (`ctx` is `Send + Sync`
// by its own type).
unsafe impl<F: Send, R: Send> Sync for RunCell<F, R> {}
// SAFETY: as above; the cell owns an `F` and an `R`, both `Send`.
unsafe impl<F: Send, R: Send> Send for RunCell<F, R> {}

impl<F, R> RunCell<F, R>
where
    F: FnOnce() -> R,
{
    pub(crate) fn new(f: F) -> Self {
        RunCell {
            state: AtomicUsize::new(QUEUED),
            ctx: crate::context::Context::current(),
            func: UnsafeCell::new(Some(f)),
            out: UnsafeCell::new(None),
            waiter: Mutex::new(Waiter::None),
        }
    }

    fn claim(&self, to: usize) -> Result<(), usize> {
        self.state
            .compare_exchange(QUEUED, to, Ordering::AcqRel, Ordering::Acquire)
            .map(drop)
    }

    /// Takes the closure; the caller must own it by the state protocol.
    fn take_func(&self) -> Option<F> {
        // SAFETY: called only by the party whose CAS moved the state out of
        // QUEUED (or after acquiring CANCELLED), which owns the closure
        // exclusively from then on.
        self.func.with_mut(|f| unsafe { (*f).take() })
    }

    fn wake(&self) {
        let waiter = core::mem::replace(&mut *self.waiter.lock(), Waiter::None);
        match waiter {
            Waiter::None => {}
            Waiter::Task(w) => w.wake(),
            Waiter::Thread(t) => t.unpark(),
        }
    }

    /// The output, if the job finished (or came back cancelled); `register`
    /// stores how to wake the caller otherwise. Under the waiter lock, so a
    /// worker that finishes after the check finds the waiter stored.
    fn poll_with(&self, register: impl FnOnce(&mut Waiter)) -> Option<Result<R, WorkerError<F>>> {
        let mut w = self.waiter.lock();
        match self.state.load(Ordering::Acquire) {
            DONE => {
                drop(w);
                self.state.store(TAKEN, Ordering::Relaxed);
                // SAFETY: DONE was stored with release after `out` was
                // written and read here with acquire; the handle alone owns
                // the output from DONE on, and moving to TAKEN ends that.
                let out = self.out.with_mut(|o| unsafe { (*o).take() });
                Some(match out.expect("DONE means the output is written") {
                    Ok(r) => Ok(r),
                    Err(p) => Err(WorkerError::Panicked(p)),
                })
            }
            CANCELLED => {
                drop(w);
                let f = self.take_func();
                self.state.store(TAKEN, Ordering::Relaxed);
                Some(Err(WorkerError::Closed(
                    f.expect("CANCELLED leaves the job in place"),
                )))
            }
            TAKEN => panic!("a WorkerPool job handle was polled after it completed"),
            _ => {
                register(&mut w);
                None
            }
        }
    }

    /// Blocks the current thread until the job finished or was cancelled.
    pub(crate) fn wait_blocking(&self) -> Result<R, WorkerError<F>> {
        loop {
            let me = thread::current();
            if let Some(out) = self.poll_with(|w| *w = Waiter::Thread(me)) {
                return out;
            }
            thread::park();
        }
    }
}

impl<F, R> Job for RunCell<F, R>
where
    F: FnOnce() -> R + Send,
    R: Send,
{
    fn run(&self, finished: &mut dyn FnMut(bool)) -> Ran {
        if let Err(state) = self.claim(RUNNING) {
            return claimed(state);
        }
        let f = self.take_func().expect("QUEUED holds the job");
        let out = catch_unwind(AssertUnwindSafe(|| self.ctx.enter(f)));
        let ran = if out.is_ok() {
            Ran::Completed
        } else {
            Ran::Panicked
        };
        finished(ran == Ran::Panicked);
        // SAFETY: RUNNING makes this worker the only party touching `out`
        // until the release store of DONE below hands it to the handle.
        self.out.with_mut(|o| unsafe { *o = Some(out) });
        self.state.store(DONE, Ordering::Release);
        self.wake();
        ran
    }

    fn cancel(&self) -> Ran {
        if let Err(state) = self.claim(CANCELLED) {
            return claimed(state);
        }
        self.wake();
        Ran::Cancelled
    }
}

impl<F, R> Withdraw for RunCell<F, R>
where
    F: FnOnce() -> R,
{
    type F = F;
    fn withdraw(&self) -> Option<F> {
        self.claim(WITHDRAWN).ok()?;
        self.take_func()
    }
}

/// The caller's side of a submitted [`RunCell`]: a future of its output.
///
/// Dropping it before the job started withdraws the job: it never runs.
pub(crate) struct Handle<F, R> {
    pub(crate) cell: Arc<RunCell<F, R>>,
}

impl<F, R> Future for Handle<F, R>
where
    F: FnOnce() -> R,
{
    type Output = Result<R, WorkerError<F>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let waker = cx.waker();
        let out = self.cell.poll_with(|w| match w {
            Waiter::Task(old) if old.will_wake(waker) => {}
            _ => *w = Waiter::Task(waker.clone()),
        });
        match out {
            Some(out) => Poll::Ready(out),
            None => Poll::Pending,
        }
    }
}

impl<F, R> Drop for Handle<F, R> {
    fn drop(&mut self) {
        let cell = &*self.cell;
        if cell
            .state
            .compare_exchange(QUEUED, ABANDONED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            // SAFETY: our CAS out of QUEUED made us the owner of the closure.
            let f = cell.func.with_mut(|f| unsafe { (*f).take() });
            drop(f);
        }
    }
}

/// A fire-and-forget job: nobody waits for it, so it has no output slot.
pub(crate) struct ExecCell<F> {
    state: AtomicUsize,
    /// The submitter's, set again around the closure on the worker.
    ctx: crate::context::Context,
    func: UnsafeCell<Option<F>>,
}

// SAFETY: `func` is touched only by the party whose CAS moved the state out
// of QUEUED; `F` is `Send` (`ctx` is `Send + Sync` by its own type).
unsafe impl<F: Send> Sync for ExecCell<F> {}
// SAFETY: as above.
unsafe impl<F: Send> Send for ExecCell<F> {}

impl<F: FnOnce()> ExecCell<F> {
    pub(crate) fn new(f: F) -> Self {
        ExecCell {
            state: AtomicUsize::new(QUEUED),
            ctx: crate::context::Context::current(),
            func: UnsafeCell::new(Some(f)),
        }
    }

    fn claim(&self, to: usize) -> Option<F> {
        self.state
            .compare_exchange(QUEUED, to, Ordering::AcqRel, Ordering::Acquire)
            .ok()?;
        // SAFETY: our CAS out of QUEUED made us the owner of the closure.
        self.func.with_mut(|f| unsafe { (*f).take() })
    }
}

impl<F: FnOnce() + Send> Job for ExecCell<F> {
    fn run(&self, finished: &mut dyn FnMut(bool)) -> Ran {
        let Some(f) = self.claim(RUNNING) else {
            return claimed(self.state.load(Ordering::Acquire));
        };
        let out = catch_unwind(AssertUnwindSafe(|| self.ctx.enter(f)));
        finished(out.is_err());
        match out {
            Ok(()) => Ran::Completed,
            Err(payload) => {
                // Nobody waits for this payload; dropping it may itself
                // panic, which must not take the worker down.
                let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
                Ran::Panicked
            }
        }
    }

    fn cancel(&self) -> Ran {
        match self.claim(CANCELLED) {
            Some(f) => {
                drop(f);
                Ran::Cancelled
            }
            None => claimed(self.state.load(Ordering::Acquire)),
        }
    }
}

impl<F: FnOnce()> Withdraw for ExecCell<F> {
    type F = F;
    fn withdraw(&self) -> Option<F> {
        self.claim(WITHDRAWN)
    }
}
