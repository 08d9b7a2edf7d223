//! Pool overhead: get + put of an already-created resource with a trivial
//! manager, through `weir::ResourcePool`, `deadpool::managed` and
//! `bb8`, on the same tokio current-thread runtime, in one group. Each
//! iteration is 1,000 get+put pairs.
//!
//! ```text
//! cargo bench -p weir-bench --bench resource_pool
//! ```

use criterion::{Criterion, criterion_group, criterion_main};

fn get_put(c: &mut Criterion) {
    use std::convert::Infallible;
    use std::hint::black_box;

    const OPS: usize = 1_000;
    const MAX: usize = 16;

    struct WeirM;
    impl weir::pool::Manager for WeirM {
        type Resource = u64;
        type Error = Infallible;
        async fn create(&self) -> Result<u64, Infallible> {
            Ok(7)
        }
        async fn recycle(&self, _: &mut u64) -> Result<(), Infallible> {
            Ok(())
        }
    }

    struct DeadM;
    impl deadpool::managed::Manager for DeadM {
        type Type = u64;
        type Error = Infallible;
        async fn create(&self) -> Result<u64, Infallible> {
            Ok(7)
        }
        async fn recycle(
            &self,
            _: &mut u64,
            _: &deadpool::managed::Metrics,
        ) -> deadpool::managed::RecycleResult<Infallible> {
            Ok(())
        }
    }

    struct Bb8M;
    impl bb8::ManageConnection for Bb8M {
        type Connection = u64;
        type Error = Infallible;
        async fn connect(&self) -> Result<u64, Infallible> {
            Ok(7)
        }
        async fn is_valid(&self, _: &mut u64) -> Result<(), Infallible> {
            Ok(())
        }
        fn has_broken(&self, _: &mut u64) -> bool {
            false
        }
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut g = c.benchmark_group("get_put");
    g.throughput(criterion::Throughput::Elements(OPS as u64));

    let weir_pool = rt.block_on(async {
        weir::ResourcePool::builder(WeirM)
            .max_size(MAX)
            .build(weir::Tokio)
            .unwrap()
    });
    g.bench_function("weir_resource_pool", |b| {
        b.iter(|| {
            rt.block_on(async {
                for _ in 0..OPS {
                    black_box(*weir_pool.get().await.unwrap());
                }
            })
        })
    });

    let dead = deadpool::managed::Pool::<DeadM>::builder(DeadM)
        .max_size(MAX)
        .build()
        .unwrap();
    g.bench_function("deadpool_managed", |b| {
        b.iter(|| {
            rt.block_on(async {
                for _ in 0..OPS {
                    black_box(*dead.get().await.unwrap());
                }
            })
        })
    });

    let bb8_pool = rt.block_on(async {
        bb8::Pool::builder()
            .max_size(MAX as u32)
            .build(Bb8M)
            .await
            .unwrap()
    });
    g.bench_function("bb8", |b| {
        b.iter(|| {
            rt.block_on(async {
                for _ in 0..OPS {
                    black_box(*bb8_pool.get().await.unwrap());
                }
            })
        })
    });
    g.finish();
}

criterion_group!(benches, get_put);
criterion_main!(benches);
