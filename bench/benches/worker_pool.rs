//! WorkerPool beside the other ways to run blocking closures, same workload
//! in one group each:
//!
//! * `burst_100k_trivial`: submit 100,000 closures that bump a counter, then
//!   wait until all have run.
//! * `64_jobs_blocking_20ms`: 64 closures that each sleep 20 ms (here the
//!   sleep *is* the workload); a pool must grow to run them side by side.
//!
//! Every pool may use up to 64 threads (`blocking` through
//! `BLOCKING_MAX_THREADS`, tokio through `max_blocking_threads`); the fixed
//! `threadpool` has 64. Pools are built once and reused across iterations,
//! as a program would.
//!
//! ```text
//! cargo bench -p weir-bench --bench worker_pool
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use weir::WorkerPool;

const THREADS: usize = 64;

/// Counts finished jobs; `wait` blocks until `n` have finished.
struct Latch {
    done: AtomicUsize,
    n: usize,
    flag: Mutex<bool>,
    cv: Condvar,
}

impl Latch {
    fn new(n: usize) -> Arc<Self> {
        Arc::new(Latch {
            done: AtomicUsize::new(0),
            n,
            flag: Mutex::new(false),
            cv: Condvar::new(),
        })
    }
    fn hit(&self) {
        if self.done.fetch_add(1, Ordering::AcqRel) + 1 == self.n {
            *self.flag.lock().unwrap() = true;
            self.cv.notify_all();
        }
    }
    fn wait(&self) {
        let mut f = self.flag.lock().unwrap();
        while !*f {
            f = self.cv.wait(f).unwrap();
        }
    }
}

fn pools() -> (WorkerPool, tokio::runtime::Runtime, threadpool::ThreadPool) {
    // SAFETY: set before any thread of this process reads the environment
    // (the first bench has not started and `blocking` reads it lazily).
    unsafe { std::env::set_var("BLOCKING_MAX_THREADS", THREADS.to_string()) };
    let weir = WorkerPool::builder()
        .max_threads(THREADS)
        .queue_capacity(1 << 17)
        .build()
        .unwrap();
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(THREADS)
        .build()
        .unwrap();
    (weir, tokio, threadpool::ThreadPool::new(THREADS))
}

fn run_group(
    c: &mut Criterion,
    name: &str,
    jobs: usize,
    job: fn(),
    pools: &(WorkerPool, tokio::runtime::Runtime, threadpool::ThreadPool),
) {
    let (weir, tokio, tp) = pools;
    let mut g = c.benchmark_group(name);
    g.sample_size(10);
    g.bench_function("weir_worker_pool", |b| {
        b.iter(|| {
            let latch = Latch::new(jobs);
            for _ in 0..jobs {
                let latch = latch.clone();
                weir.execute(move || {
                    job();
                    latch.hit();
                })
                .unwrap();
            }
            latch.wait();
        })
    });
    g.bench_function("blocking_unblock", |b| {
        b.iter(|| {
            let latch = Latch::new(jobs);
            for _ in 0..jobs {
                let latch = latch.clone();
                blocking::unblock(move || {
                    job();
                    latch.hit();
                })
                .detach();
            }
            latch.wait();
        })
    });
    g.bench_function("tokio_spawn_blocking", |b| {
        b.iter(|| {
            let latch = Latch::new(jobs);
            for _ in 0..jobs {
                let latch = latch.clone();
                drop(tokio.spawn_blocking(move || {
                    job();
                    latch.hit();
                }));
            }
            latch.wait();
        })
    });
    g.bench_function("threadpool", |b| {
        b.iter(|| {
            let latch = Latch::new(jobs);
            for _ in 0..jobs {
                let latch = latch.clone();
                tp.execute(move || {
                    job();
                    latch.hit();
                });
            }
            latch.wait();
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let pools = pools();
    run_group(c, "burst_100k_trivial", 100_000, || {}, &pools);
    run_group(
        c,
        "64_jobs_blocking_20ms",
        64,
        || std::thread::sleep(Duration::from_millis(20)),
        &pools,
    );
}

criterion_group!(worker_pool, benches);
criterion_main!(worker_pool);
