//! The keyed limiter's cost at 10k, 100k and 1M keys (issue 10, item 7):
//! one group per workload, one entry per map size, governor's keyed
//! limiter beside weir where it has the same operation.
//!
//! * `keyed_insert_new_keys`: fill an empty limiter with N keys that stay
//!   charged (one unit per hour each); throughput is per key inserted, so
//!   a flat figure across N is linear insertion.
//! * `keyed_check_existing_keys`: N stored keys checked in rotation, every
//!   check allowed and every key still charged, so none is evicted.
//! * `keyed_refusal_at_max_keys`: `max_keys(N)` with N charged keys; each
//!   iteration asks for an unseen key and is refused.
//!
//! Short runs (10 samples, flat sampling, 2 s): the point is the shape
//! across N, not the last nanosecond. The keyed check beside governor at
//! 10k keys is in `bench/benches/rate.rs`.

use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::Duration;

use criterion::{
    BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use governor::{Quota, RateLimiter as Governor};
use weir::limit::StdClock;
use weir::{KeyedRateLimiter, limit::KeyedError};

const SIZES: [u64; 3] = [10_000, 100_000, 1_000_000];
const HOUR: Duration = Duration::from_secs(3600);

type Weir = KeyedRateLimiter<u64, weir::Smol, StdClock>;

/// One unit per hour per key: every stored key stays charged.
fn one_per_hour(max_keys: usize) -> Weir {
    KeyedRateLimiter::builder()
        .quota(weir::Quota::new(1, HOUR))
        .max_keys(max_keys)
        .build_with_clock(weir::Smol, StdClock)
        .unwrap()
}

fn insert_new_keys(c: &mut Criterion) {
    let mut g = c.benchmark_group("keyed_insert_new_keys");
    g.sampling_mode(SamplingMode::Flat);
    for n in SIZES {
        g.throughput(Throughput::Elements(n));
        g.bench_with_input(BenchmarkId::new("weir", n), &n, |b, &n| {
            b.iter_batched(
                || one_per_hour(usize::MAX),
                |l| {
                    for k in 0..n {
                        black_box(l.try_acquire(&k)).unwrap();
                    }
                    l
                },
                BatchSize::PerIteration,
            )
        });
        let quota = Quota::per_hour(NonZeroU32::MIN);
        g.bench_with_input(BenchmarkId::new("governor", n), &n, |b, &n| {
            b.iter_batched(
                || Governor::dashmap(quota),
                |l| {
                    for k in 0..n {
                        black_box(l.check_key(&k)).unwrap();
                    }
                    l
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

fn check_existing_keys(c: &mut Criterion) {
    let mut g = c.benchmark_group("keyed_check_existing_keys");
    for n in SIZES {
        // A million units per hour (3.6 ms each), and every key charged
        // half an hour at the start: each stays stored, so the checks
        // measure the known-key path. (With a TAT only nanoseconds ahead,
        // a key is full again before its next check, is evicted, and the
        // loop measures insertion instead.) A run charges far less than
        // the half hour left.
        let weir = KeyedRateLimiter::builder()
            .quota(weir::Quota::new(1_000_000, HOUR))
            .build_with_clock(weir::Smol, StdClock)
            .unwrap();
        (0..n).for_each(|k| weir.try_acquire_many(&k, 500_000).unwrap());
        let mut k = 0;
        g.bench_with_input(BenchmarkId::new("weir", n), &n, |b, &n| {
            b.iter(|| {
                k = (k + 1) % n;
                black_box(weir.try_acquire(&k)).is_ok()
            })
        });
        assert_eq!(weir.len(), n as usize, "every key stayed stored");
        drop(weir);
        let quota = Quota::per_hour(NonZeroU32::MAX);
        let governor = Governor::dashmap(quota);
        (0..n).for_each(|k| governor.check_key(&k).unwrap());
        let mut k = 0;
        g.bench_with_input(BenchmarkId::new("governor", n), &n, |b, &n| {
            b.iter(|| {
                k = (k + 1) % n;
                black_box(governor.check_key(&k)).is_ok()
            })
        });
    }
    g.finish();
}

fn refusal_at_max_keys(c: &mut Criterion) {
    let mut g = c.benchmark_group("keyed_refusal_at_max_keys");
    for n in SIZES {
        let weir = one_per_hour(n as usize);
        (0..n).for_each(|k| weir.try_acquire(&k).unwrap());
        let mut k = n;
        g.bench_with_input(BenchmarkId::new("weir", n), &n, |b, _| {
            b.iter(|| {
                k += 1;
                let refused = weir.try_acquire(black_box(&k));
                assert!(matches!(refused, Err(KeyedError::KeyLimitReached { .. })));
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = insert_new_keys, check_existing_keys, refusal_at_max_keys
}
criterion_main!(benches);
