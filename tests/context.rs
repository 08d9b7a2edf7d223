//! Context that follows a call, on every runtime: many concurrent policy
//! calls (interleaved on one thread, and across threads on the
//! multi-threaded runtimes) each see only their own value, in every retry
//! and every hedged attempt; Scheduler and WorkerPool jobs see the
//! context of the code that submitted them.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use futures_lite::future::yield_now;

use weir::Runtime;
use weir::context::{self, Context};
use weir::{Hedge, Job, Policy, Retry, Scheduler, WorkerPool};

const CALLS: u64 = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RequestId(u64);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Tenant(&'static str);

/// Counts each look at the context that found the wrong value.
#[derive(Default)]
struct Audit {
    looks: AtomicUsize,
    wrong: AtomicUsize,
}

impl Audit {
    /// Checks the current value, yielding to the other tasks between
    /// looks so that calls interleave at await points.
    async fn check_across_yields(&self, expected: u64) {
        for _ in 0..3 {
            self.look(expected);
            yield_now().await;
        }
        self.look(expected);
    }

    fn look(&self, expected: u64) {
        self.looks.fetch_add(1, Ordering::SeqCst);
        if context::get::<RequestId>() != Some(RequestId(expected)) {
            self.wrong.fetch_add(1, Ordering::SeqCst);
        }
    }
}

async fn every_retry_of_concurrent_calls_sees_its_callers_value<R: Runtime>(rt: R) {
    let retry = Retry::constant(Duration::from_millis(1))
        .max_attempts(3)
        .build()
        .unwrap();
    let policy = Arc::new(Policy::new(rt.clone()).retry(retry));
    let audit = Arc::new(Audit::default());
    let attempts = Arc::new(AtomicU32::new(0));
    let tasks: Vec<_> = (0..CALLS)
        .map(|i| {
            let (policy, audit, attempts) = (policy.clone(), audit.clone(), attempts.clone());
            rt.spawn(context::scope(RequestId(i), async move {
                let tries = AtomicU32::new(0);
                let out = policy
                    .call(|| {
                        let n = tries.fetch_add(1, Ordering::SeqCst);
                        attempts.fetch_add(1, Ordering::SeqCst);
                        let audit = audit.clone();
                        async move {
                            audit.check_across_yields(i).await;
                            // Two failures, so every call is retried twice.
                            if n < 2 { Err("flaky") } else { Ok(i) }
                        }
                    })
                    .await;
                (out, context::get::<RequestId>())
            }))
        })
        .collect();
    for (i, t) in tasks.into_iter().enumerate() {
        let (out, after) = t.await.unwrap();
        assert_eq!(out, Ok(i as u64));
        assert_eq!(after, Some(RequestId(i as u64)), "the caller keeps it");
    }
    assert_eq!(attempts.load(Ordering::SeqCst), 3 * CALLS as u32);
    assert_eq!(audit.looks.load(Ordering::SeqCst), 4 * 3 * CALLS as usize);
    assert_eq!(audit.wrong.load(Ordering::SeqCst), 0);
}

async fn every_hedged_attempt_sees_its_callers_value<R: Runtime>(rt: R) {
    let hedge = Hedge::fixed(Duration::from_millis(2))
        .max_hedges(1)
        .build()
        .unwrap();
    let policy = Arc::new(Policy::new(rt.clone()).hedge(hedge));
    let audit = Arc::new(Audit::default());
    let tasks: Vec<_> = (0..CALLS)
        .map(|i| {
            let (policy, audit) = (policy.clone(), audit.clone());
            rt.spawn(context::scope(RequestId(i), async move {
                let started = AtomicU32::new(0);
                let out = policy
                    .call(|| {
                        let n = started.fetch_add(1, Ordering::SeqCst);
                        let audit = audit.clone();
                        async move {
                            audit.check_across_yields(i).await;
                            if n == 0 {
                                // The first attempt never answers: only
                                // the hedge, running beside it, can.
                                std::future::pending::<()>().await;
                            }
                            Ok::<_, ()>((n, i))
                        }
                    })
                    .await;
                (out, started.load(Ordering::SeqCst))
            }))
        })
        .collect();
    for (i, t) in tasks.into_iter().enumerate() {
        let (out, started) = t.await.unwrap();
        assert_eq!(out, Ok((1, i as u64)), "the hedge answers");
        assert_eq!(started, 2);
    }
    assert_eq!(audit.looks.load(Ordering::SeqCst), 2 * 4 * CALLS as usize);
    assert_eq!(audit.wrong.load(Ordering::SeqCst), 0);
}

async fn scheduler_jobs_take_the_context_of_their_submitter<R: Runtime>(rt: R) {
    let sched = Scheduler::builder()
        .max_concurrent(1)
        .queue_capacity(1000)
        .build(rt.clone())
        .unwrap();
    // A blocker keeps the slot, so every job below waits in the queue and
    // runs after its submitter's scope has ended.
    let (open, gate) = async_channel::bounded::<()>(1);
    let blocker = sched
        .submit(Job::new(async move {
            let _ = gate.recv().await;
            context::get::<RequestId>()
        }))
        .unwrap();
    let mut handles = Vec::new();
    for i in 0..CALLS {
        let handle = context::scope(RequestId(i), async {
            sched.submit(Job::new(async {
                let first = context::get::<RequestId>();
                yield_now().await;
                (first, context::get::<RequestId>())
            }))
        })
        .await
        .unwrap();
        handles.push(handle);
    }
    let outside = sched
        .submit(Job::new(async { context::get::<RequestId>() }))
        .unwrap();
    open.send(()).await.unwrap();
    assert_eq!(blocker.await.unwrap(), None);
    for (i, h) in handles.into_iter().enumerate() {
        let id = Some(RequestId(i as u64));
        assert_eq!(h.await.unwrap(), (id, id));
    }
    assert_eq!(outside.await.unwrap(), None, "no scope, no context");
}

async fn periodic_runs_take_the_context_of_their_submitter<R: Runtime>(rt: R) {
    let sched = Scheduler::builder().build(rt.clone()).unwrap();
    let (tx, rx) = async_channel::unbounded();
    let periodic = Context::new().with(Tenant("nightly")).enter(|| {
        sched
            .submit_periodic(
                Duration::from_millis(1),
                weir::sched::MissedTick::Skip,
                move || {
                    let tx = tx.clone();
                    async move {
                        let _ = tx.send(context::get::<Tenant>()).await;
                    }
                },
            )
            .unwrap()
    });
    for _ in 0..3 {
        assert_eq!(rx.recv().await.unwrap(), Some(Tenant("nightly")));
    }
    periodic.cancel();
}

async fn worker_pool_jobs_see_their_submitters_value_on_the_worker<R: Runtime>(rt: R) {
    let pool = Arc::new(WorkerPool::builder().max_threads(4).build().unwrap());
    let tasks: Vec<_> = (0..CALLS)
        .map(|i| {
            let pool = pool.clone();
            rt.spawn(context::scope(RequestId(i), async move {
                let here = std::thread::current().id();
                let (seen, there) = pool
                    .run(|| (context::get::<RequestId>(), std::thread::current().id()))
                    .await
                    .unwrap();
                assert_ne!(here, there, "the job ran on a pool thread");
                seen
            }))
        })
        .collect();
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.await.unwrap(), Some(RequestId(i as u64)));
    }
    // Fire and forget, and with no context at all.
    let (tx, rx) = async_channel::unbounded();
    let tx2 = tx.clone();
    Context::new().with(Tenant("batch")).enter(|| {
        pool.execute(move || tx.send_blocking(context::get::<Tenant>()).unwrap())
            .unwrap();
    });
    pool.execute(move || tx2.send_blocking(context::get::<Tenant>()).unwrap())
        .unwrap();
    let mut seen = vec![rx.recv().await.unwrap(), rx.recv().await.unwrap()];
    seen.sort_by_key(Option::is_some);
    assert_eq!(seen, [None, Some(Tenant("batch"))]);
    let blocking = Context::new()
        .with(Tenant("sync"))
        .enter(|| pool.run_blocking(context::get::<Tenant>).unwrap());
    assert_eq!(blocking, Some(Tenant("sync")));
}

async fn a_panic_inside_a_scope_restores_the_outer_value<R: Runtime>(rt: R) {
    let task = rt.spawn(context::scope(RequestId(1), async {
        let inner = rt_spawnless_panic(RequestId(2));
        let caught = futures_lite::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(inner))
            .await
            .is_err();
        yield_now().await;
        (caught, context::get::<RequestId>())
    }));
    assert_eq!(task.await.unwrap(), (true, Some(RequestId(1))));
}

/// A scope whose future panics after an await.
fn rt_spawnless_panic(id: RequestId) -> impl Future<Output = ()> + Send {
    context::scope(id, async move {
        yield_now().await;
        assert_eq!(context::get::<RequestId>(), Some(id));
        panic!("inside the inner scope");
    })
}

on_every_runtime!(
    every_retry_of_concurrent_calls_sees_its_callers_value,
    every_hedged_attempt_sees_its_callers_value,
    scheduler_jobs_take_the_context_of_their_submitter,
    periodic_runs_take_the_context_of_their_submitter,
    worker_pool_jobs_see_their_submitters_value_on_the_worker,
    a_panic_inside_a_scope_restores_the_outer_value,
);
