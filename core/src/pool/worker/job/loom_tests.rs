//! loom models of the job cell's state protocol (module docs of `job.rs`):
//! whoever moves the state out of `QUEUED` owns the closure, and the output
//! reaches a waiting handle exactly once, with no wake-up lost.
//!
//! The parties are the real ones: a worker (`Job::run`), shutdown-now
//! (`Job::cancel`), the submitter taking its job back (`Withdraw`), and the
//! caller's handle, awaited (`Handle`, woken through its `Waker`), blocked
//! on (`wait_blocking`, parked through `crate::loom::thread`) or dropped.
//! A lost wake-up shows as a loom deadlock; a double or missing drop of the
//! closure or the output fails the counts.

use std::sync::Arc as StdArc;
use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering as StdOrdering};

use loom::thread;

use super::{Handle, Job, Ran, RunCell, Withdraw};
use crate::loom::block_on;
use crate::pool::worker::WorkerError;

/// Counts its drops, so a model can assert a value was dropped exactly
/// once (std atomics: the count is read after every thread joined, and is
/// not itself part of the protocol under test).
struct Token(StdArc<StdAtomicUsize>);

impl Drop for Token {
    fn drop(&mut self) {
        self.0.fetch_add(1, StdOrdering::SeqCst);
    }
}

/// How many times a `Token` was dropped.
type Drops = StdArc<StdAtomicUsize>;
/// The job's output: the number 7 and a `Token`.
type Out = (u32, Token);
/// A closure type the models can name.
type Closure = Box<dyn FnOnce() -> Out + Send>;

/// A job whose closure and output each carry a `Token`, and the drop
/// counts of the two.
fn cell() -> (StdArc<RunCell<Closure, Out>>, Drops, Drops) {
    let (closure_drops, output_drops): (Drops, Drops) = (StdArc::default(), StdArc::default());
    let in_closure = Token(StdArc::clone(&closure_drops));
    let out = StdArc::clone(&output_drops);
    let f: Closure = Box::new(move || {
        drop(in_closure);
        (7, Token(out))
    });
    (StdArc::new(RunCell::new(f)), closure_drops, output_drops)
}

fn run(job: &dyn Job) -> Ran {
    job.run(&mut |_panicked| {})
}

/// A worker runs the job while the caller awaits its handle: the caller
/// gets the output (its wake-up is not lost between its check and its
/// registration), and the closure and output are each dropped once.
#[test]
fn loom_run_races_an_awaiting_handle() {
    loom::model(|| {
        let (cell, closure_drops, output_drops) = cell();
        let job = StdArc::clone(&cell);
        let worker = thread::spawn(move || run(&*job));
        let out = block_on(Handle { cell });
        assert_eq!(worker.join().unwrap(), Ran::Completed);
        let Ok((n, token)) = out else {
            panic!("a job that ran delivers its output")
        };
        assert_eq!(n, 7);
        assert_eq!(closure_drops.load(StdOrdering::SeqCst), 1);
        drop(token);
        assert_eq!(output_drops.load(StdOrdering::SeqCst), 1);
    });
}

/// The same race with a thread blocked in `wait_blocking` (park/unpark
/// instead of a waker).
#[test]
fn loom_run_races_a_blocked_caller() {
    loom::model(|| {
        let (cell, closure_drops, output_drops) = cell();
        let job = StdArc::clone(&cell);
        let worker = thread::spawn(move || run(&*job));
        let out = cell.wait_blocking();
        assert_eq!(worker.join().unwrap(), Ran::Completed);
        assert!(matches!(out, Ok((7, _))));
        drop(out);
        assert_eq!(closure_drops.load(StdOrdering::SeqCst), 1);
        assert_eq!(output_drops.load(StdOrdering::SeqCst), 1);
    });
}

/// The handle is dropped while a worker pops the job: either the drop
/// claims it first (the worker sees `Abandoned` and never runs it) or the
/// worker does (and its output is dropped with the cell). Nothing is
/// dropped twice or leaked.
#[test]
fn loom_run_races_a_dropped_handle() {
    loom::model(|| {
        let (cell, closure_drops, output_drops) = cell();
        let job = StdArc::clone(&cell);
        let worker = thread::spawn(move || {
            let ran = run(&*job);
            drop(job);
            ran
        });
        drop(Handle { cell });
        let ran = worker.join().unwrap();
        assert_eq!(closure_drops.load(StdOrdering::SeqCst), 1);
        match ran {
            Ran::Completed => assert_eq!(output_drops.load(StdOrdering::SeqCst), 1),
            Ran::Abandoned => assert_eq!(output_drops.load(StdOrdering::SeqCst), 0),
            other => panic!("neither ran nor abandoned: {other:?}"),
        }
    });
}

/// Shutdown-now cancels the job (the worker that popped it calls
/// `cancel` instead of `run`) while the caller awaits: the caller is woken
/// with its closure back, unrun (`WorkerError::Closed`).
#[test]
fn loom_cancel_races_an_awaiting_handle() {
    loom::model(|| {
        let (cell, closure_drops, output_drops) = cell();
        let job = StdArc::clone(&cell);
        let shutdown = thread::spawn(move || job.cancel());
        let out = block_on(Handle { cell });
        assert_eq!(shutdown.join().unwrap(), Ran::Cancelled);
        let Err(WorkerError::Closed(f)) = out else {
            panic!("a cancelled job comes back to its caller")
        };
        assert_eq!(closure_drops.load(StdOrdering::SeqCst), 0);
        drop(f);
        assert_eq!(closure_drops.load(StdOrdering::SeqCst), 1);
        assert_eq!(output_drops.load(StdOrdering::SeqCst), 0);
    });
}

/// Shutdown-now cancels the job while its handle is dropped: one of them
/// claims it, and the closure is dropped once (by the handle, or with the
/// cell when cancel left it there).
#[test]
fn loom_cancel_races_a_dropped_handle() {
    loom::model(|| {
        let (cell, closure_drops, _) = cell();
        let job = StdArc::clone(&cell);
        let shutdown = thread::spawn(move || {
            let ran = job.cancel();
            drop(job);
            ran
        });
        drop(Handle { cell });
        let ran = shutdown.join().unwrap();
        assert!(matches!(ran, Ran::Cancelled | Ran::Abandoned), "{ran:?}");
        assert_eq!(closure_drops.load(StdOrdering::SeqCst), 1);
    });
}

/// The submitter withdraws the job (the pool closed under it) while a
/// worker pops it: exactly one gets the closure.
#[test]
fn loom_withdraw_races_run() {
    loom::model(|| {
        let (cell, closure_drops, _) = cell();
        let job = StdArc::clone(&cell);
        let worker = thread::spawn(move || run(&*job));
        let back = cell.withdraw();
        let ran = worker.join().unwrap();
        match back {
            Some(f) => {
                assert_eq!(ran, Ran::Withdrawn);
                assert_eq!(closure_drops.load(StdOrdering::SeqCst), 0);
                drop(f);
            }
            None => assert_eq!(ran, Ran::Completed),
        }
        assert_eq!(closure_drops.load(StdOrdering::SeqCst), 1);
    });
}
