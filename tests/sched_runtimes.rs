//! The scheduler on every runtime: bounds, priorities, panics, cancellation
//! and graceful shutdown, with every count adding up.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use weir::Runtime;
use weir::{Job, Priority, Scheduler, Shutdown, sched::TaskError};

async fn many_jobs_stay_within_the_bound<R: Runtime>(rt: R) {
    const MAX: usize = 4;
    let sched = Scheduler::builder()
        .max_concurrent(MAX)
        .queue_capacity(1000)
        .build(rt.clone())
        .unwrap();
    let now_running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..200u64)
        .map(|i| {
            let (rt, now_running, peak) = (rt.clone(), now_running.clone(), peak.clone());
            sched
                .submit(Job::new(async move {
                    let n = now_running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    rt.sleep(Duration::from_millis(i % 2)).await;
                    now_running.fetch_sub(1, Ordering::SeqCst);
                    i * 3
                }))
                .unwrap()
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.await.unwrap(), i as u64 * 3);
    }
    assert!(
        peak.load(Ordering::SeqCst) <= MAX,
        "peak {}",
        peak.load(Ordering::SeqCst)
    );
    let s = sched.stats();
    assert_eq!(
        (s.accepted, s.completed, s.running, s.pending()),
        (200, 200, 0, 0)
    );
    assert_eq!(s.queue_wait.count, 200);
}

async fn priorities_order_ready_jobs<R: Runtime>(rt: R) {
    let sched = Scheduler::builder()
        .max_concurrent(1)
        .build(rt.clone())
        .unwrap();
    let (open, gate) = async_channel::bounded::<()>(1);
    let blocker = sched
        .submit(Job::new(async move {
            let _ = gate.recv().await;
        }))
        .unwrap();
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..30u8)
        .map(|i| {
            let order = order.clone();
            let p = Priority::new(i % 3 * 50);
            sched
                .submit(Job::new(async move { order.lock().unwrap().push(i) }).priority(p))
                .unwrap()
        })
        .collect();
    open.send(()).await.unwrap();
    blocker.await.unwrap();
    for h in handles {
        h.await.unwrap();
    }
    let mut expected: Vec<u8> = (0..30).collect();
    expected.sort_by_key(|&i| (std::cmp::Reverse(i % 3), i));
    assert_eq!(*order.lock().unwrap(), expected);
}

async fn panics_cancels_and_shutdown_add_up<R: Runtime>(rt: R) {
    // One slot, held by the blocker: every job waits until the gate opens.
    let sched = Scheduler::builder()
        .max_concurrent(1)
        .build(rt.clone())
        .unwrap();
    let (open, gate) = async_channel::bounded::<()>(1);
    let blocker = sched
        .submit(Job::new(async move {
            let _ = gate.recv().await;
        }))
        .unwrap();
    let mut handles = Vec::new();
    for i in 0..60u32 {
        let rt = rt.clone();
        let h = sched
            .submit(Job::new(async move {
                rt.sleep(Duration::from_millis(1)).await;
                if i % 5 == 0 {
                    panic!("job {i} fails");
                }
                i
            }))
            .unwrap();
        handles.push(h);
    }
    // Every fourth job is cancelled while it waits.
    for h in handles.iter().step_by(4) {
        h.cancel();
    }
    open.send(()).await.unwrap();
    sched.shutdown(Shutdown::Graceful).await;
    blocker.await.unwrap();
    let (mut ok, mut panicked, mut cancelled) = (0u64, 0u64, 0u64);
    for (i, h) in handles.into_iter().enumerate() {
        match h.await {
            Ok(v) => {
                assert_eq!(v as usize, i);
                ok += 1;
            }
            Err(TaskError::Panicked(_)) => panicked += 1,
            Err(TaskError::Cancelled) => cancelled += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    let s = sched.stats();
    assert_eq!(s.accepted, 61);
    assert_eq!(s.completed, ok + 1);
    assert_eq!(s.failed, panicked);
    assert_eq!(s.cancelled, cancelled);
    assert_eq!(s.accepted, s.completed + s.failed + s.cancelled + s.expired);
    assert_eq!(
        cancelled, 15,
        "all cancelled jobs were still waiting behind the gate"
    );
    assert_eq!((s.running, s.pending()), (0, 0));
}

async fn abort_resolves_every_handle<R: Runtime>(rt: R) {
    let sched = Scheduler::builder()
        .max_concurrent(2)
        .build(rt.clone())
        .unwrap();
    let handles: Vec<_> = (0..20)
        .map(|_| {
            let rt = rt.clone();
            sched
                .submit(Job::new(async move {
                    rt.sleep(Duration::from_secs(3600)).await
                }))
                .unwrap()
        })
        .collect();
    let report = sched.shutdown(Shutdown::Abort).await;
    assert_eq!(report.aborted().len(), 20);
    for h in handles {
        assert!(matches!(h.await, Err(TaskError::Shutdown)));
    }
    assert_eq!(sched.stats().cancelled, 20);
}

on_every_runtime!(
    many_jobs_stay_within_the_bound,
    priorities_order_ready_jobs,
    panics_cancels_and_shutdown_add_up,
    abort_resolves_every_handle,
);
