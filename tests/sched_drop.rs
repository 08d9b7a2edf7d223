//! The scheduler's drop rules, each as its docs state it (issue 10): a
//! handle to work already handed to the scheduler detaches when dropped
//! (as tokio's `JoinHandle` does) unless made `cancel_on_drop`; a future
//! you await (`shutdown`) stops only the waiting when dropped.

mod common;

use std::time::Duration;

use futures_lite::future;
use weir::Runtime;
use weir::{
    Job, Scheduler, Shutdown,
    sched::{MissedTick, RejectReason, Status},
};

/// Says so on a channel when dropped: shows that a job's future was
/// dropped, without polling for it.
struct Dropped(async_channel::Sender<()>);

impl Drop for Dropped {
    fn drop(&mut self) {
        let _ = self.0.try_send(());
    }
}

/// A job that reports it started, waits for `gate`, reports it finished and
/// returns 7.
fn gated(
    started: async_channel::Sender<()>,
    gate: async_channel::Receiver<()>,
    finished: async_channel::Sender<()>,
) -> Job<impl Future<Output = u32> + Send + 'static> {
    Job::new(gated_future(started, gate, finished))
}

async fn gated_future(
    started: async_channel::Sender<()>,
    gate: async_channel::Receiver<()>,
    finished: async_channel::Sender<()>,
) -> u32 {
    started.send(()).await.unwrap();
    let _ = gate.recv().await;
    finished.send(()).await.unwrap();
    7
}

async fn a_dropped_handle_detaches_a_running_job<R: Runtime>(rt: R) {
    let sched = Scheduler::builder().build(rt).unwrap();
    let (started_tx, started) = async_channel::unbounded();
    let (open, gate) = async_channel::bounded(1);
    let (finished_tx, finished) = async_channel::unbounded();
    let h = sched.submit(gated(started_tx, gate, finished_tx)).unwrap();
    started.recv().await.unwrap();
    assert_eq!(h.status(), Status::Running);
    drop(h);
    open.send(()).await.unwrap();
    assert_eq!(finished.recv().await, Ok(()), "the job ran on to its end");
    sched.shutdown(Shutdown::Graceful).await;
    let s = sched.stats();
    assert_eq!((s.completed, s.cancelled), (1, 0));
}

async fn a_cancel_on_drop_handle_cancels_a_running_job<R: Runtime>(rt: R) {
    let sched = Scheduler::builder().build(rt).unwrap();
    let (started_tx, started) = async_channel::unbounded();
    let (_open, gate) = async_channel::bounded::<()>(1);
    let (finished_tx, finished) = async_channel::unbounded();
    let (dropped_tx, dropped) = async_channel::unbounded();
    let job = {
        let guard = Dropped(dropped_tx);
        let inner = gated_future(started_tx, gate, finished_tx);
        Job::new(async move {
            let _guard = guard;
            inner.await
        })
    };
    let h = sched.submit(job).unwrap().cancel_on_drop();
    started.recv().await.unwrap();
    drop(h);
    assert_eq!(dropped.recv().await, Ok(()), "the job's future was dropped");
    sched.shutdown(Shutdown::Graceful).await;
    assert!(finished.try_recv().is_err(), "the job never finished");
    let s = sched.stats();
    assert_eq!((s.completed, s.cancelled), (0, 1));
}

async fn dropping_every_scheduler_handle_lets_accepted_jobs_finish<R: Runtime>(rt: R) {
    let sched = Scheduler::builder().max_concurrent(1).build(rt).unwrap();
    let (started_tx, started) = async_channel::unbounded();
    let (open, gate) = async_channel::bounded(1);
    let (finished_tx, _finished) = async_channel::unbounded();
    let running = sched
        .submit(gated(started_tx, gate, finished_tx.clone()))
        .unwrap();
    let queued = sched.submit(Job::new(async { 8 })).unwrap();
    started.recv().await.unwrap();
    drop(sched);
    open.send(()).await.unwrap();
    assert_eq!(running.await.unwrap(), 7);
    assert_eq!(queued.await.unwrap(), 8, "a queued job still starts");
}

async fn a_dropped_shutdown_future_has_still_closed<R: Runtime>(rt: R) {
    let sched = Scheduler::builder().build(rt).unwrap();
    let (started_tx, started) = async_channel::unbounded();
    let (open, gate) = async_channel::bounded(1);
    let (finished_tx, _finished) = async_channel::unbounded();
    let h = sched.submit(gated(started_tx, gate, finished_tx)).unwrap();
    started.recv().await.unwrap();
    {
        let mut shutdown = Box::pin(sched.shutdown(Shutdown::Graceful));
        assert!(future::poll_once(shutdown.as_mut()).await.is_none());
    }
    // Only the waiting was cancelled: the scheduler stays closed, and the
    // graceful shutdown lets the running job finish.
    let refused = sched.submit(Job::new(async { 0 })).unwrap_err();
    assert_eq!(refused.reason(), RejectReason::Shutdown);
    open.send(()).await.unwrap();
    assert_eq!(h.await.unwrap(), 7);
}

async fn a_dropped_periodic_handle_keeps_the_job_running<R: Runtime>(rt: R) {
    let sched = Scheduler::builder().build(rt).unwrap();
    let (tick_tx, ticks) = async_channel::unbounded();
    let handle = sched
        .submit_periodic(Duration::from_millis(1), MissedTick::Skip, move || {
            let tick = tick_tx.clone();
            async move {
                let _ = tick.try_send(());
            }
        })
        .unwrap();
    drop(handle);
    for _ in 0..3 {
        assert_eq!(ticks.recv().await, Ok(()));
    }
    sched.shutdown(Shutdown::Graceful).await;
}

on_every_runtime!(
    a_dropped_handle_detaches_a_running_job,
    a_cancel_on_drop_handle_cancels_a_running_job,
    dropping_every_scheduler_handle_lets_accepted_jobs_finish,
    a_dropped_shutdown_future_has_still_closed,
    a_dropped_periodic_handle_keeps_the_job_running,
);
