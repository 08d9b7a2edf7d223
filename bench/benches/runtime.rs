//! What the Runtime abstraction costs over calling the executor directly:
//! spawn + join of a ready task, through `weir::Runtime` and natively, on
//! each runtime in one group.
//!
//! ```text
//! cargo bench -p weir-bench --bench runtime
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use weir::Runtime;

fn spawn_join(c: &mut Criterion) {
    let mut g = c.benchmark_group("spawn_join_ready");

    {
        g.bench_function("weir_smol", |b| {
            b.iter(|| smol::block_on(async { weir::Smol.spawn(async { 1u64 }).await.unwrap() }))
        });
        g.bench_function("smol_native", |b| {
            b.iter(|| smol::block_on(async { smol::spawn(async { 1u64 }).await }))
        });
    }

    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        g.bench_function("weir_tokio", |b| {
            b.iter(|| rt.block_on(async { weir::Tokio.spawn(async { 1u64 }).await.unwrap() }))
        });
        g.bench_function("tokio_native", |b| {
            b.iter(|| rt.block_on(async { tokio::spawn(async { 1u64 }).await.unwrap() }))
        });
    }

    {
        g.bench_function("weir_async_std", |b| {
            b.iter(|| {
                async_std::task::block_on(async {
                    weir::AsyncStd.spawn(async { 1u64 }).await.unwrap()
                })
            })
        });
        g.bench_function("async_std_native", |b| {
            b.iter(|| {
                async_std::task::block_on(async { async_std::task::spawn(async { 1u64 }).await })
            })
        });
    }
    g.finish();
}

criterion_group!(benches, spawn_join);
criterion_main!(benches);
