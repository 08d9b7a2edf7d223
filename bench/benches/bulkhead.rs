//! Bulkhead admission beside tokio's Semaphore, the usual way to bound
//! concurrency in async Rust.
//!
//! Workload `bulkhead_admission_uncontended`: one thread takes a permit and
//! gives it back, over and over, with nobody waiting: the cost every call
//! through a bulkhead pays. Measured as a non-waiting try (`try_acquire` +
//! drop) and as an `acquire().await` that resolves at once, driven by
//! `futures_lite::future::block_on` for both.
//!
//! The weir bulkhead runs on the virtual runtime: with no `acquire_timeout` it
//! never touches its runtime, so the runtime does not matter here.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use futures_lite::future::block_on;
use weir::Bulkhead;
use weir::test_util::VirtualRuntime;

fn uncontended(c: &mut Criterion) {
    let mut group = c.benchmark_group("bulkhead_admission_uncontended");
    let bulkhead = Bulkhead::builder()
        .max_concurrent(64)
        .queue_capacity(64)
        .build(VirtualRuntime::new())
        .unwrap();
    let semaphore = tokio::sync::Semaphore::new(64);

    group.bench_function("weir_bulkhead/try_acquire", |b| {
        b.iter(|| drop(black_box(bulkhead.try_acquire().unwrap())))
    });
    group.bench_function("tokio_semaphore/try_acquire", |b| {
        b.iter(|| drop(black_box(semaphore.try_acquire().unwrap())))
    });
    group.bench_function("weir_bulkhead/acquire_await", |b| {
        b.iter(|| block_on(async { drop(black_box(bulkhead.acquire().await.unwrap())) }))
    });
    group.bench_function("tokio_semaphore/acquire_await", |b| {
        b.iter(|| block_on(async { drop(black_box(semaphore.acquire().await.unwrap())) }))
    });
    group.finish();
}

criterion_group!(benches, uncontended);
criterion_main!(benches);
