//! The semaphore beside its peers, same workload per group:
//!
//! * `uncontended_acquire_release`: one thread, a free permit: poll one
//!   acquire future (ready at once) and drop the permit. No executor: the
//!   futures are polled by hand, so only the semaphore is measured.
//! * `contended_2_threads_1_permit`: two OS threads loop acquire/release on
//!   one shared 1-permit semaphore, each under `futures_lite`'s
//!   `block_on`; the time is per acquire+release pair of both threads.
//!
//! ```text
//! cargo bench -p weir-bench --bench semaphore
//! ```

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use weir::{Semaphore, sync::Fairness};

fn weir_sem(fairness: Fairness, permits: usize) -> Semaphore {
    Semaphore::builder(permits)
        .fairness(fairness)
        .build()
        .unwrap()
}

/// Polls a future that must be ready at once.
fn now<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("uncontended acquire must be ready"),
    }
}

fn uncontended(c: &mut Criterion) {
    let mut g = c.benchmark_group("uncontended_acquire_release");
    for (name, fairness) in [
        ("weir_fair", Fairness::Fair),
        ("weir_barging", Fairness::Barging),
    ] {
        let sem = weir_sem(fairness, 1);
        g.bench_function(name, |b| b.iter(|| drop(black_box(now(sem.acquire())))));
    }
    let sem = tokio::sync::Semaphore::new(1);
    g.bench_function("tokio", |b| b.iter(|| drop(black_box(now(sem.acquire())))));
    let sem = async_lock::Semaphore::new(1);
    g.bench_function("async_lock", |b| {
        b.iter(|| drop(black_box(now(sem.acquire()))))
    });
    let sem = futures_intrusive::sync::Semaphore::new(true, 1);
    g.bench_function("futures_intrusive_fair", |b| {
        b.iter(|| drop(black_box(now(sem.acquire(1)))))
    });
    g.finish();
}

/// Runs `iters` acquire/release pairs on each of two threads; returns the
/// wall time from a common start.
fn two_threads<S: Send + Sync + 'static>(
    iters: u64,
    sem: Arc<S>,
    body: fn(&S, u64) -> (),
) -> Duration {
    let start = Arc::new(Barrier::new(3));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (sem, start) = (sem.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                body(&sem, iters);
            })
        })
        .collect();
    start.wait();
    let t0 = Instant::now();
    for t in threads {
        t.join().unwrap();
    }
    t0.elapsed()
}

fn contended(c: &mut Criterion) {
    let mut g = c.benchmark_group("contended_2_threads_1_permit");
    for (name, fairness) in [
        ("weir_fair", Fairness::Fair),
        ("weir_barging", Fairness::Barging),
    ] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                two_threads(iters, Arc::new(weir_sem(fairness, 1)), |s, n| {
                    futures_lite::future::block_on(async {
                        for _ in 0..n {
                            drop(black_box(s.acquire().await.unwrap()));
                        }
                    })
                })
            })
        });
    }
    g.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, Arc::new(tokio::sync::Semaphore::new(1)), |s, n| {
                futures_lite::future::block_on(async {
                    for _ in 0..n {
                        drop(black_box(s.acquire().await.unwrap()));
                    }
                })
            })
        })
    });
    g.bench_function("async_lock", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, Arc::new(async_lock::Semaphore::new(1)), |s, n| {
                futures_lite::future::block_on(async {
                    for _ in 0..n {
                        drop(black_box(s.acquire().await));
                    }
                })
            })
        })
    });
    g.finish();
}

criterion_group!(benches, uncontended, contended);
criterion_main!(benches);
