//! WorkerPool: growth, retirement on a virtual clock, panics, rejection,
//! waiting, shutdown, and `run().await` on every runtime.

mod common;

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use futures_lite::future;
use weir::test_util::VirtualRuntime;
use weir::{ConfigError, Rule, Runtime};
use weir::{
    WorkerPool,
    pool::{RejectionPolicy, WorkerError},
};

/// A latch jobs block on until the test opens it.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    cv: Condvar,
}

impl Gate {
    fn wait(&self) {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.cv.wait(open).unwrap();
        }
    }
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.cv.notify_all();
    }
}

/// A counter the test can block on until it reaches a value.
#[derive(Default)]
struct Count {
    n: Mutex<usize>,
    cv: Condvar,
}

impl Count {
    fn bump(&self) {
        *self.n.lock().unwrap() += 1;
        self.cv.notify_all();
    }
    fn wait_for(&self, target: usize) {
        let mut n = self.n.lock().unwrap();
        while *n < target {
            n = self.cv.wait(n).unwrap();
        }
    }
    fn get(&self) -> usize {
        *self.n.lock().unwrap()
    }
}

/// Submits `n` jobs that report they started, then block on `gate`.
fn gated_jobs(pool: &WorkerPool, n: usize, gate: &Arc<Gate>, started: &Arc<Count>) {
    for _ in 0..n {
        let (gate, started) = (gate.clone(), started.clone());
        pool.execute(move || {
            started.bump();
            gate.wait();
        })
        .unwrap();
    }
}

// ---- run().await on every runtime ------------------------------------------

async fn run_returns_output<R: Runtime>(_rt: R) {
    let pool = WorkerPool::builder().max_threads(3).build().unwrap();
    let mut outs = Vec::new();
    for i in 0..20u64 {
        outs.push(pool.run(move || i * i).await.unwrap());
    }
    assert_eq!(outs, (0..20u64).map(|i| i * i).collect::<Vec<_>>());
    let err = pool.run(|| -> u8 { panic!("job boom") }).await.unwrap_err();
    assert_eq!(err.panic_message(), Some("job boom"));
    // The job ran on a pool thread, not on the executor's.
    let name = pool
        .run(|| thread::current().name().map(String::from))
        .await
        .unwrap();
    assert!(name.unwrap().starts_with("weir-worker-"));
    pool.join();
    let s = pool.stats();
    assert_eq!((s.submitted, s.completed, s.panicked), (22, 21, 1));
}

async fn run_many_concurrently<R: Runtime>(rt: R) {
    let pool = Arc::new(WorkerPool::builder().max_threads(4).build().unwrap());
    let handles: Vec<_> = (0..32u64)
        .map(|i| {
            let pool = pool.clone();
            rt.spawn(async move { pool.run(move || i + 1).await.unwrap() })
        })
        .collect();
    let mut sum = 0;
    for h in handles {
        sum += h.await.unwrap();
    }
    assert_eq!(sum, (1..=32).sum::<u64>());
}

on_every_runtime!(run_returns_output, run_many_concurrently);

// ---- growth ------------------------------------------------------------------

#[test]
fn burst_grows_to_max_not_one_thread_per_job() {
    let pool = WorkerPool::builder()
        .max_threads(4)
        .queue_capacity(128)
        .build()
        .unwrap();
    let (gate, started) = (Arc::new(Gate::default()), Arc::new(Count::default()));
    gated_jobs(&pool, 100, &gate, &started);
    started.wait_for(4);
    let s = pool.stats();
    assert_eq!(s.threads, 4);
    assert_eq!(s.busy_threads, 4);
    assert_eq!(s.queued, 96);
    gate.open();
    pool.join();
    let s = pool.stats();
    assert_eq!((s.threads, s.peak_threads), (4, 4));
    assert_eq!((s.completed, s.submitted), (100, 100));
    assert_eq!(started.get(), 100);
}

#[test]
fn a_parked_worker_is_reused_before_a_thread_is_added() {
    let pool = WorkerPool::builder().max_threads(8).build().unwrap();
    for i in 0..50 {
        assert_eq!(pool.run_blocking(move || i).unwrap(), i);
        // Once the worker is parked, the next job wakes it: no new thread.
        pool.join();
    }
    assert_eq!(pool.stats().peak_threads, 1);
}

// ---- retirement on the virtual clock -----------------------------------------

#[test]
fn idle_threads_above_min_retire_after_idle_timeout_exactly() {
    let rt = VirtualRuntime::new();
    let clock = rt.clone();
    let pool = WorkerPool::builder()
        .min_threads(1)
        .max_threads(4)
        .idle_timeout(Duration::from_secs(10))
        .clock(move || clock.now())
        .build()
        .unwrap();
    let (gate, started) = (Arc::new(Gate::default()), Arc::new(Count::default()));
    gated_jobs(&pool, 4, &gate, &started);
    started.wait_for(4);
    gate.open();
    pool.join();
    assert_eq!(pool.stats().threads, 4);

    rt.block_on(rt.advance(Duration::from_secs(10) - Duration::from_nanos(1)));
    pool.tick();
    assert_eq!(
        pool.stats().threads,
        4,
        "one nanosecond early: nobody retires"
    );

    rt.block_on(rt.advance(Duration::from_nanos(1)));
    pool.tick();
    assert_eq!(rt.elapsed(), Duration::from_secs(10));
    let s = pool.stats();
    assert_eq!((s.threads, s.idle_threads), (1, 1), "min_threads is kept");

    rt.block_on(rt.advance(Duration::from_secs(3600)));
    pool.tick();
    assert_eq!(pool.stats().threads, 1);
    // The survivor still works.
    assert_eq!(pool.run_blocking(|| 3).unwrap(), 3);
}

#[test]
fn work_resets_the_idle_clock() {
    let rt = VirtualRuntime::new();
    let clock = rt.clone();
    let pool = WorkerPool::builder()
        .idle_timeout(Duration::from_secs(10))
        .clock(move || clock.now())
        .build()
        .unwrap();
    pool.run_blocking(|| ()).unwrap();
    pool.join();
    rt.block_on(rt.advance(Duration::from_secs(6)));
    pool.run_blocking(|| ()).unwrap();
    pool.join();
    rt.block_on(rt.advance(Duration::from_secs(6)));
    pool.tick();
    assert_eq!(pool.stats().threads, 1, "idle for 6 s since its last job");
    rt.block_on(rt.advance(Duration::from_secs(4)));
    pool.tick();
    assert_eq!(pool.stats().threads, 0);
    assert_eq!(rt.elapsed(), Duration::from_secs(16));
    // A retired pool grows again on demand.
    assert_eq!(pool.run_blocking(|| 9).unwrap(), 9);
}

#[test]
fn min_threads_start_at_build_and_stay() {
    let rt = VirtualRuntime::new();
    let clock = rt.clone();
    let pool = WorkerPool::builder()
        .min_threads(2)
        .max_threads(2)
        .idle_timeout(Duration::from_secs(1))
        .clock(move || clock.now())
        .build()
        .unwrap();
    pool.join();
    assert_eq!(pool.stats().threads, 2);
    rt.block_on(rt.advance(Duration::from_secs(100)));
    pool.tick();
    assert_eq!(pool.stats().threads, 2);
}

// ---- panics ------------------------------------------------------------------

#[test]
fn panics_are_reported_counted_and_the_thread_survives() {
    let pool = WorkerPool::builder().max_threads(1).build().unwrap();
    let before = pool.run_blocking(|| thread::current().id()).unwrap();
    for i in 0..10 {
        let e = pool
            .run_blocking(move || -> u8 { panic!("boom {i}") })
            .unwrap_err();
        assert!(e.is_panic());
        assert_eq!(e.panic_message(), Some(format!("boom {i}").as_str()));
    }
    pool.execute(|| panic!("fire and forget")).unwrap();
    let after = pool.run_blocking(|| thread::current().id()).unwrap();
    assert_eq!(before, after, "the same thread survived every panic");
    pool.join();
    let s = pool.stats();
    assert_eq!((s.panicked, s.completed, s.threads), (11, 2, 1));
}

// ---- rejection and waiting ---------------------------------------------------

#[test]
fn reject_policy_hands_the_job_back() {
    let pool = WorkerPool::builder()
        .max_threads(1)
        .queue_capacity(1)
        .rejection(RejectionPolicy::Reject)
        .build()
        .unwrap();
    let (gate, started) = (Arc::new(Gate::default()), Arc::new(Count::default()));
    gated_jobs(&pool, 1, &gate, &started);
    started.wait_for(1);
    pool.execute(|| ()).unwrap(); // fills the queue
    let marker = String::from("mine");
    match pool.run_blocking(move || marker) {
        Err(WorkerError::Rejected(job)) => assert_eq!(job(), "mine"),
        other => panic!("{other:?}"),
    }
    match pool.try_execute(|| ()) {
        Err(WorkerError::Rejected(_)) => {}
        other => panic!("{other:?}"),
    }
    let e = future::block_on(pool.run(|| 5)).unwrap_err();
    assert_eq!(e.into_job().map(|job| job()), Some(5));
    gate.open();
    pool.join();
    let s = pool.stats();
    assert_eq!((s.rejected, s.submitted, s.completed), (3, 2, 2));
}

#[test]
fn wait_policy_waits_for_space() {
    let pool = WorkerPool::builder()
        .max_threads(1)
        .queue_capacity(1)
        .rejection(RejectionPolicy::Wait)
        .build()
        .unwrap();
    let (gate, started) = (Arc::new(Gate::default()), Arc::new(Count::default()));
    gated_jobs(&pool, 1, &gate, &started);
    started.wait_for(1);
    pool.execute(|| ()).unwrap();
    let mut waiting = Box::pin(pool.run(|| 7));
    assert!(future::block_on(future::poll_once(waiting.as_mut())).is_none());
    assert!(future::block_on(future::poll_once(waiting.as_mut())).is_none());
    assert_eq!(pool.stats().submitted, 2, "the third job is not queued yet");
    assert!(matches!(
        pool.try_execute(|| ()),
        Err(WorkerError::Rejected(_))
    ));
    gate.open();
    assert_eq!(future::block_on(waiting).unwrap(), 7);
    let s = pool.stats();
    assert_eq!((s.submitted, s.rejected), (3, 1));
}

#[test]
fn blocking_submitters_wait_for_space() {
    let pool = Arc::new(
        WorkerPool::builder()
            .max_threads(2)
            .queue_capacity(2)
            .build()
            .unwrap(),
    );
    let done = Arc::new(AtomicUsize::new(0));
    let submitters: Vec<_> = (0..4)
        .map(|_| {
            let (pool, done) = (pool.clone(), done.clone());
            thread::spawn(move || {
                for _ in 0..250 {
                    let done = done.clone();
                    pool.execute(move || {
                        done.fetch_add(1, Ordering::Relaxed);
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for s in submitters {
        s.join().unwrap();
    }
    pool.join();
    assert_eq!(done.load(Ordering::Relaxed), 1000);
    assert_eq!(pool.stats().rejected, 0);
}

// ---- run_blocking from plain threads -----------------------------------------

#[test]
fn run_blocking_from_many_plain_threads() {
    let pool = Arc::new(WorkerPool::builder().max_threads(3).build().unwrap());
    let callers: Vec<_> = (0..8u64)
        .map(|t| {
            let pool = pool.clone();
            thread::spawn(move || {
                (0..100u64)
                    .map(|i| pool.run_blocking(move || t * 1000 + i).unwrap())
                    .sum::<u64>()
            })
        })
        .collect();
    let total: u64 = callers.into_iter().map(|c| c.join().unwrap()).sum();
    let expected: u64 = (0..8u64)
        .flat_map(|t| (0..100u64).map(move |i| t * 1000 + i))
        .sum();
    assert_eq!(total, expected);
    assert!(pool.stats().peak_threads <= 3);
}

// ---- cancellation ------------------------------------------------------------

#[test]
fn dropping_a_queued_run_future_withdraws_the_job() {
    let pool = WorkerPool::builder().max_threads(1).build().unwrap();
    let (gate, started) = (Arc::new(Gate::default()), Arc::new(Count::default()));
    gated_jobs(&pool, 1, &gate, &started);
    started.wait_for(1);
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    let mut fut = Box::pin(pool.run(move || flag.store(true, Ordering::SeqCst)));
    assert!(future::block_on(future::poll_once(fut.as_mut())).is_none());
    drop(fut);
    gate.open();
    pool.join();
    assert!(!ran.load(Ordering::SeqCst));
    let s = pool.stats();
    assert_eq!((s.submitted, s.completed, s.cancelled), (2, 1, 1));
}

// ---- shutdown ----------------------------------------------------------------

#[test]
fn shutdown_runs_every_accepted_job() {
    let pool = Arc::new(
        WorkerPool::builder()
            .max_threads(3)
            .queue_capacity(64)
            .build()
            .unwrap(),
    );
    let ran = Arc::new(AtomicUsize::new(0));
    // Submitters race with the shutdown: whatever was accepted must run.
    let submitters: Vec<_> = (0..4)
        .map(|_| {
            let (pool, ran) = (pool.clone(), ran.clone());
            thread::spawn(move || {
                let mut accepted = 0;
                for _ in 0..2000 {
                    let ran = ran.clone();
                    match pool.execute(move || {
                        ran.fetch_add(1, Ordering::Relaxed);
                    }) {
                        Ok(()) => accepted += 1,
                        Err(WorkerError::Closed(_)) => break,
                        Err(e) => panic!("{e:?}"),
                    }
                }
                accepted
            })
        })
        .collect();
    while pool.stats().submitted < 500 {
        thread::yield_now();
    }
    pool.shutdown();
    let accepted: usize = submitters.into_iter().map(|s| s.join().unwrap()).sum();
    assert_eq!(ran.load(Ordering::Relaxed), accepted);
    let s = pool.stats();
    assert_eq!(s.threads, 0);
    assert_eq!(s.completed as usize, accepted);
    assert_eq!(s.submitted as usize, accepted);
    assert!(matches!(pool.execute(|| ()), Err(WorkerError::Closed(_))));
}

#[test]
fn shutdown_now_hands_queued_jobs_back() {
    let pool = Arc::new(WorkerPool::builder().max_threads(1).build().unwrap());
    let (gate, started) = (Arc::new(Gate::default()), Arc::new(Count::default()));
    gated_jobs(&pool, 1, &gate, &started);
    started.wait_for(1);
    let mut futs: Vec<_> = (0..5u32).map(|i| Box::pin(pool.run(move || i))).collect();
    for f in &mut futs {
        assert!(future::block_on(future::poll_once(f.as_mut())).is_none());
    }
    let closer = {
        let pool = pool.clone();
        thread::spawn(move || pool.shutdown_now())
    };
    while !pool.is_closed() {
        thread::yield_now();
    }
    gate.open();
    closer.join().unwrap();
    for (i, f) in futs.into_iter().enumerate() {
        match future::block_on(f) {
            Err(WorkerError::Closed(job)) => assert_eq!(job() as usize, i),
            other => panic!("{other:?}"),
        }
    }
    let s = pool.stats();
    assert_eq!((s.completed, s.cancelled, s.threads), (1, 5, 0));
}

thread_local! {
    static EXIT_GUARD: Cell<Option<ExitGuard>> = const { Cell::new(None) };
}

struct ExitGuard(Arc<AtomicUsize>);

impl Drop for ExitGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// `shutdown` joins the threads (dropping the pool no longer does: it
/// detaches them, see `tests/worker_pool_drop.rs`).
#[test]
fn shutdown_joins_every_thread() {
    let exited = Arc::new(AtomicUsize::new(0));
    let pool = WorkerPool::builder().max_threads(4).build().unwrap();
    let (gate, started) = (Arc::new(Gate::default()), Arc::new(Count::default()));
    for _ in 0..4 {
        let (gate, started, exited) = (gate.clone(), started.clone(), exited.clone());
        pool.execute(move || {
            // Runs when this thread exits, after its thread-locals die.
            EXIT_GUARD.with(|g| g.set(Some(ExitGuard(exited))));
            started.bump();
            gate.wait();
        })
        .unwrap();
    }
    started.wait_for(4);
    assert_eq!(pool.stats().threads, 4);
    gate.open();
    pool.shutdown();
    assert_eq!(exited.load(Ordering::SeqCst), 4, "every thread was joined");
}

// ---- stats and configuration -------------------------------------------------

#[test]
fn task_times_come_from_the_pool_clock() {
    let rt = VirtualRuntime::new();
    let clock = rt.clone();
    let pool = WorkerPool::builder()
        .max_threads(1)
        .clock(move || clock.now())
        .build()
        .unwrap();
    // Each job moves the virtual clock by its own duration while it runs.
    for ms in [1u64, 1, 1, 1, 1, 1, 1, 1, 1, 91] {
        let rt = rt.clone();
        pool.run_blocking(move || rt.block_on(rt.advance(Duration::from_millis(ms))))
            .unwrap();
    }
    let s = pool.stats();
    assert_eq!(s.task_time_mean, Duration::from_millis(10));
    let near = |d: Duration, ms: f64| (d.as_secs_f64() * 1e3 - ms).abs() / ms < 0.13;
    assert!(near(s.task_time_p50, 1.0), "{:?}", s.task_time_p50);
    assert!(near(s.task_time_p99, 91.0), "{:?}", s.task_time_p99);
}

#[test]
fn bad_configuration_names_the_field() {
    let cases: Vec<(weir::pool::WorkerPoolBuilder, &str, Rule)> = vec![
        (
            WorkerPool::builder().max_threads(0),
            "max_threads",
            Rule::Zero,
        ),
        (
            WorkerPool::builder().max_threads(1 << 20),
            "max_threads",
            Rule::TooLarge,
        ),
        (
            WorkerPool::builder().min_threads(3).max_threads(2),
            "min_threads",
            Rule::Exceeds("max_threads"),
        ),
        (
            WorkerPool::builder().queue_capacity(0),
            "queue_capacity",
            Rule::Zero,
        ),
        (
            WorkerPool::builder().idle_timeout(Duration::ZERO),
            "idle_timeout",
            Rule::Zero,
        ),
        (
            WorkerPool::builder().stack_size(0),
            "stack_size",
            Rule::Zero,
        ),
    ];
    for (builder, field, rule) in cases {
        let e: ConfigError = builder.build().unwrap_err();
        assert_eq!(
            (e.component(), e.field(), e.rule()),
            ("WorkerPool", field, &rule)
        );
    }
}
