//! Dropping a `WorkerPool` never blocks (issue 10): the last handle dropped
//! inside an async task closes the pool and detaches its threads, which
//! finish the queued jobs and exit on their own; `close` + `terminated`
//! is the way to wait, without blocking an executor thread.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use futures_lite::future;
use weir::Runtime;
use weir::{WorkerPool, pool::WorkerError};

/// Only a failure detector: reached only if dropping the pool blocks, when
/// the test would otherwise hang for ever.
const WATCHDOG: Duration = Duration::from_secs(30);

/// A job that tells `started` it runs, then waits for `release`, then says
/// `name` on `done`.
fn gated_job(
    started: async_channel::Sender<()>,
    release: mpsc::Receiver<()>,
    done: async_channel::Sender<&'static str>,
    name: &'static str,
) -> impl FnOnce() + Send + 'static {
    move || {
        started.try_send(()).unwrap();
        let _ = release.recv();
        done.try_send(name).unwrap();
    }
}

/// The last `Arc<WorkerPool>`, dropped in a spawned task while a job still
/// runs, returns at once: the job only finishes after the drop returned,
/// so a blocking drop would deadlock (on a current-thread runtime, the
/// whole executor). The queued job behind it still runs afterwards.
/// Before the fix the drop waited for the job, the watchdog fired and
/// the first assertion failed.
async fn dropping_the_last_handle_in_a_task_returns_at_once<R: Runtime>(rt: R) {
    let pool = Arc::new(WorkerPool::builder().max_threads(1).build().unwrap());
    let (started_tx, started) = async_channel::unbounded();
    let (release, release_rx) = mpsc::channel();
    let (done_tx, done) = async_channel::unbounded();
    pool.execute(gated_job(
        started_tx,
        release_rx,
        done_tx.clone(),
        "running",
    ))
    .unwrap();
    pool.execute(move || done_tx.try_send("queued").unwrap())
        .unwrap();
    started.recv().await.unwrap();

    let (returned, returned_rx) = mpsc::channel::<()>();
    let timed_out = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let (release, timed_out) = (release.clone(), timed_out.clone());
        thread::spawn(move || {
            if returned_rx.recv_timeout(WATCHDOG).is_err() {
                timed_out.store(true, Ordering::SeqCst);
                let _ = release.send(());
            }
        })
    };
    rt.spawn(async move { drop(pool) }).await.unwrap();
    returned.send(()).unwrap();
    watchdog.join().unwrap();
    assert!(
        !timed_out.load(Ordering::SeqCst),
        "dropping the last WorkerPool blocked its task until the job ended"
    );

    let _ = release.send(());
    assert_eq!(done.recv().await, Ok("running"));
    assert_eq!(done.recv().await, Ok("queued"), "queued jobs still run");
}

/// `close` returns at once and refuses new jobs; `terminated` resolves only
/// once the queued jobs ran and every thread has exited, and waiting for it
/// parks the task, not the thread.
async fn terminated_waits_for_the_queue_and_the_threads<R: Runtime>(_rt: R) {
    let pool = WorkerPool::builder()
        .min_threads(1)
        .max_threads(1)
        .build()
        .unwrap();
    let (started_tx, started) = async_channel::unbounded();
    let (release, release_rx) = mpsc::channel();
    let (done_tx, done) = async_channel::unbounded();
    pool.execute(gated_job(
        started_tx,
        release_rx,
        done_tx.clone(),
        "running",
    ))
    .unwrap();
    pool.execute(move || done_tx.try_send("queued").unwrap())
        .unwrap();
    started.recv().await.unwrap();

    pool.close();
    assert!(pool.is_closed());
    assert!(matches!(pool.execute(|| ()), Err(WorkerError::Closed(_))));
    let mut wait = Box::pin(pool.terminated());
    assert!(
        future::poll_once(wait.as_mut()).await.is_none(),
        "a job still runs"
    );
    assert_eq!(pool.stats().threads, 1);

    release.send(()).unwrap();
    wait.await;
    assert_eq!(pool.stats().threads, 0);
    assert_eq!(done.try_recv(), Ok("running"));
    assert_eq!(done.try_recv(), Ok("queued"));
    // Already terminated: resolves at once.
    assert!(future::poll_once(pool.terminated()).await.is_some());
}

/// The output of a job, reporting on which thread it is dropped.
struct Output(async_channel::Sender<Option<String>>);

impl Drop for Output {
    fn drop(&mut self) {
        let _ = self.0.try_send(thread::current().name().map(str::to_owned));
    }
}

/// The drop rule of `run`: dropped while its job runs, the future cancels
/// only the waiting; the job (which no one can stop) runs to its end, its
/// output is dropped on the pool's thread and it counts as completed.
/// (Dropped before the job starts, the job is withdrawn:
/// `dropping_a_queued_run_future_withdraws_the_job` in `worker_pool.rs`.)
async fn a_run_future_dropped_while_running_lets_the_job_finish<R: Runtime>(_rt: R) {
    let pool = WorkerPool::builder()
        .max_threads(1)
        .thread_name_prefix("drop-rule")
        .build()
        .unwrap();
    let (started_tx, started) = async_channel::unbounded();
    let (release, release_rx) = mpsc::channel::<()>();
    let (dropped_tx, dropped) = async_channel::unbounded();
    let mut run = Box::pin(pool.run(move || {
        started_tx.try_send(()).unwrap();
        let _ = release_rx.recv();
        Output(dropped_tx)
    }));
    assert!(future::poll_once(run.as_mut()).await.is_none());
    started.recv().await.unwrap();
    drop(run);
    release.send(()).unwrap();
    let on = dropped.recv().await.unwrap().unwrap_or_default();
    assert!(on.starts_with("drop-rule"), "output dropped on {on:?}");
    pool.close();
    pool.terminated().await;
    let s = pool.stats();
    assert_eq!((s.completed, s.cancelled), (1, 0));
}

on_every_runtime!(
    a_run_future_dropped_while_running_lets_the_job_finish,
    dropping_the_last_handle_in_a_task_returns_at_once,
    terminated_waits_for_the_queue_and_the_threads,
);
