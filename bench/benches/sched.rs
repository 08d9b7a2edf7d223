//! Scheduler overhead: 10,000 tiny jobs submitted and awaited, through
//! `weir::Scheduler` and through the hand-rolled equivalent
//! (`tokio::spawn` + a tokio `Semaphore` with the same concurrency), on the
//! same tokio runtime, in one group.
//!
//! ```text
//! cargo bench -p weir-bench --bench sched
//! ```

use criterion::{Criterion, criterion_group, criterion_main};

fn submit_run_tiny_jobs(c: &mut Criterion) {
    use std::hint::black_box;
    use std::sync::Arc;
    use weir::{Job, Scheduler};

    const JOBS: u64 = 10_000;
    const CONCURRENCY: usize = 64;

    let mut g = c.benchmark_group("submit_run_tiny_jobs");
    g.sample_size(20);
    for (label, workers) in [("current_thread", 0usize), ("multi_thread_2", 2)] {
        let rt = if workers == 0 {
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
        };
        let sched = rt.block_on(async {
            Scheduler::builder()
                .max_concurrent(CONCURRENCY)
                .queue_capacity(JOBS as usize)
                .build(weir::Tokio)
                .unwrap()
        });
        g.bench_function(format!("weir_scheduler/{label}"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let handles: Vec<_> = (0..JOBS)
                        .map(|i| sched.submit(Job::new(async move { black_box(i) })).unwrap())
                        .collect();
                    let mut sum = 0;
                    for h in handles {
                        sum += h.await.unwrap();
                    }
                    sum
                })
            })
        });
        g.bench_function(format!("tokio_spawn_semaphore/{label}"), |b| {
            let sem = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
            b.iter(|| {
                rt.block_on(async {
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
                })
            })
        });
    }
    g.finish();
}

criterion_group!(benches, submit_run_tiny_jobs);
criterion_main!(benches);
