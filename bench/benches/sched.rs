//! Scheduler costs, each beside its peer in one group.
//!
//! * `submit_run_tiny_jobs/<runtime>`: 10,000 tiny jobs submitted and
//!   awaited through `weir::Scheduler`, and through the hand-rolled
//!   equivalent (the runtime's own spawn plus a semaphore of the same
//!   concurrency: tokio's on tokio, async-lock's on smol and async-std), on
//!   tokio (current-thread and two workers), smol and async-std.
//! * `sched_backlog/<n>`: the cost of one submission and its cancellation
//!   while `n` jobs wait in the queue, for 10, 10,000 and 1,000,000: it
//!   should not grow with `n`.
//!
//! ```text
//! cargo bench -p weir-bench --bench sched -- submit_run_tiny_jobs
//! cargo bench -p weir-bench --bench sched -- sched_backlog
//! ```
//!
//! `WEIR_SCHED_PROFILE=weir|peer` runs the current-thread tokio case of the
//! first group 20 times and exits, for a profiler
//! (`valgrind --tool=callgrind target/release/deps/sched-* `).

use criterion::{BenchmarkId, Criterion};

const JOBS: u64 = 10_000;
const CONCURRENCY: usize = 64;

mod on_tokio {
    use super::{CONCURRENCY, JOBS};
    use std::hint::black_box;
    use std::sync::Arc;
    use weir::{Job, Scheduler};

    pub(crate) fn runtime(workers: usize) -> tokio::runtime::Runtime {
        if workers == 0 {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
        } else {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .enable_all()
                .build()
                .unwrap()
        }
    }

    pub(crate) fn scheduler(rt: &tokio::runtime::Runtime) -> Scheduler<weir::Tokio> {
        rt.block_on(async {
            Scheduler::builder()
                .max_concurrent(CONCURRENCY)
                .queue_capacity(JOBS as usize)
                .build(weir::Tokio)
                .unwrap()
        })
    }

    pub(crate) async fn weir_jobs(sched: &Scheduler<weir::Tokio>) -> u64 {
        let handles: Vec<_> = (0..JOBS)
            .map(|i| sched.submit(Job::new(async move { black_box(i) })).unwrap())
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    }

    pub(crate) async fn peer_jobs(sem: &Arc<tokio::sync::Semaphore>) -> u64 {
        let handles: Vec<_> = (0..JOBS)
            .map(|i| {
                let sem = sem.clone();
                tokio::spawn(async move {
                    let _permit = sem.acquire_owned().await.unwrap();
                    black_box(i)
                })
            })
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    }
}

fn tiny_jobs_tokio(c: &mut Criterion) {
    use std::sync::Arc;
    let mut g = c.benchmark_group("submit_run_tiny_jobs");
    g.sample_size(20);
    for (label, workers) in [
        ("tokio_current_thread", 0usize),
        ("tokio_multi_thread_2", 2),
    ] {
        let rt = on_tokio::runtime(workers);
        let sched = on_tokio::scheduler(&rt);
        g.bench_function(format!("{label}/weir_scheduler"), |b| {
            b.iter(|| rt.block_on(on_tokio::weir_jobs(&sched)))
        });
        let sem = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
        g.bench_function(format!("{label}/spawn_semaphore"), |b| {
            b.iter(|| rt.block_on(on_tokio::peer_jobs(&sem)))
        });
    }
    g.finish();
}

/// One runtime spawned onto through `weir::Runtime` and natively, both
/// driven by `block_on`.
fn tiny_jobs_smol_async_std(c: &mut Criterion) {
    use std::hint::black_box;
    use std::sync::Arc;
    use weir::Runtime;
    use weir::{Job, Scheduler};

    async fn weir_jobs<R: Runtime>(sched: &Scheduler<R>) -> u64 {
        let handles: Vec<_> = (0..JOBS)
            .map(|i| sched.submit(Job::new(async move { black_box(i) })).unwrap())
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    }

    macro_rules! peer_jobs {
        ($sem:expr, $spawn:path) => {{
            let handles: Vec<_> = (0..JOBS)
                .map(|i| {
                    let sem = $sem.clone();
                    $spawn(async move {
                        let _permit = sem.acquire_arc().await;
                        black_box(i)
                    })
                })
                .collect();
            let mut sum = 0;
            for h in handles {
                sum += h.await;
            }
            sum
        }};
    }

    fn scheduler<R: Runtime>(rt: R) -> Scheduler<R> {
        Scheduler::builder()
            .max_concurrent(CONCURRENCY)
            .queue_capacity(JOBS as usize)
            .build(rt)
            .unwrap()
    }

    let mut g = c.benchmark_group("submit_run_tiny_jobs");
    g.sample_size(20);
    let sem = Arc::new(async_lock::Semaphore::new(CONCURRENCY));

    let sched = scheduler(weir::Smol);
    g.bench_function("smol/weir_scheduler", |b| {
        b.iter(|| smol::block_on(weir_jobs(&sched)))
    });
    g.bench_function("smol/spawn_semaphore", |b| {
        b.iter(|| smol::block_on(async { peer_jobs!(sem, smol::spawn) }))
    });

    let sched = scheduler(weir::AsyncStd);
    g.bench_function("async_std/weir_scheduler", |b| {
        b.iter(|| async_std::task::block_on(weir_jobs(&sched)))
    });
    g.bench_function("async_std/spawn_semaphore", |b| {
        b.iter(|| async_std::task::block_on(async { peer_jobs!(sem, async_std::task::spawn) }))
    });
    g.finish();
}

/// One submission and its cancellation while `n` jobs wait: a job that never
/// ends holds the only slot, so nothing starts and the backlog is exactly `n`
/// at every turn. A cancelled entry is dropped lazily when it reaches the head
/// of its lane, so each turn leaves one dead entry at the tail (never
/// touched again by a push); the short measurement bounds their number.
fn backlog(c: &mut Criterion) {
    use std::hint::black_box;
    use std::time::Duration;
    use weir::sched::TaskHandle;
    use weir::{Job, Scheduler, Shutdown};

    let mut g = c.benchmark_group("sched_backlog");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_millis(500));
    for n in [10usize, 10_000, 1_000_000] {
        let rt = on_tokio::runtime(0);
        // The gate starts at once: submitting it spawns, inside the runtime.
        let _in_rt = rt.enter();
        let sched = Scheduler::builder()
            .max_concurrent(1)
            .queue_capacity(n + 1)
            .build(weir::Tokio)
            .unwrap();
        let _gate = sched
            .submit(Job::new(std::future::pending::<u64>()))
            .unwrap();
        let waiting: Vec<TaskHandle<u64>> = (0..n as u64)
            .map(|i| sched.submit(Job::new(async move { black_box(i) })).unwrap())
            .collect();
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                let h = sched.submit(Job::new(async { black_box(1) })).unwrap();
                h.cancel();
            })
        });
        let pending: usize = sched.stats().pending_by_priority.iter().map(|p| p.1).sum();
        assert_eq!(pending, n, "the backlog stayed at n");
        drop(waiting);
        rt.block_on(sched.shutdown(Shutdown::Abort));
    }
    g.finish();
}

fn main() {
    if let Ok(which) = std::env::var("WEIR_SCHED_PROFILE") {
        let rt = on_tokio::runtime(0);
        let sched = on_tokio::scheduler(&rt);
        let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
        for _ in 0..20 {
            let sum = match which.as_str() {
                "weir" => rt.block_on(on_tokio::weir_jobs(&sched)),
                _ => rt.block_on(on_tokio::peer_jobs(&sem)),
            };
            assert_eq!(sum, JOBS * (JOBS - 1) / 2);
        }
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    tiny_jobs_tokio(&mut c);
    tiny_jobs_smol_async_std(&mut c);
    backlog(&mut c);
    c.final_summary();
}
