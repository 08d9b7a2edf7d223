//! Rate limiting beside governor and leaky-bucket, one group per workload.
//!
//! * `direct_check_allowed`: one limiter, a quota so large that every check
//!   passes; the cost of the admission path itself (clock read + CAS).
//!   `weir` reads `Instant::now()`, `weir_coarse_clock` the kernel's coarse
//!   clock; governor reads quanta's TSC clock.
//! * `keyed_map_candidates`: the keyed limiter's map choice, measured: a
//!   lookup plus a CAS on the value over 10,000 keys, for each map crate.
//! * `keyed_check_10k_keys`: keyed limiters, 10,000 keys in rotation, all
//!   allowed.
//! * `leaky_bucket_acquire`: awaiting one unit on the allowed path.

use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use governor::{Quota, RateLimiter as Governor};
use weir::KeyedRateLimiter;
use weir::{
    RateLimiter,
    limit::{CoarseClock, StdClock},
};

const KEYS: u64 = 10_000;

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

fn huge_quota() -> Quota {
    Quota::per_second(nz(1_000_000_000)).allow_burst(nz(u32::MAX))
}

fn direct_check_allowed(c: &mut Criterion) {
    let mut g = c.benchmark_group("direct_check_allowed");
    let weir = RateLimiter::builder()
        .quota(weir::Quota::new(1_000_000_000, Duration::from_secs(1)).burst(u32::MAX))
        .build_with_clock(weir::Smol, StdClock)
        .unwrap();
    g.bench_function("weir", |b| b.iter(|| black_box(weir.try_acquire()).is_ok()));
    let coarse = RateLimiter::builder()
        .quota(weir::Quota::new(1_000_000_000, Duration::from_secs(1)).burst(u32::MAX))
        .build_with_clock(weir::Smol, CoarseClock::new().unwrap())
        .unwrap();
    g.bench_function("weir_coarse_clock", |b| {
        b.iter(|| black_box(coarse.try_acquire()).is_ok())
    });
    let governor = Governor::direct(huge_quota());
    g.bench_function("governor", |b| {
        b.iter(|| black_box(governor.check()).is_ok())
    });
    g.finish();
}

/// Each map holds `KEYS` AtomicU64 values; one iteration looks a key up and
/// bumps its value with a CAS, as a keyed check does.
fn keyed_map_candidates(c: &mut Criterion) {
    let mut g = c.benchmark_group("keyed_map_candidates");
    let cas = |v: &AtomicU64| {
        let cur = v.load(Ordering::Relaxed);
        let _ = v.compare_exchange(cur, cur + 1, Ordering::Relaxed, Ordering::Relaxed);
    };

    let dash = dashmap::DashMap::<u64, AtomicU64>::new();
    for k in 0..KEYS {
        dash.insert(k, AtomicU64::new(0));
    }
    let mut k = 0;
    g.bench_function("dashmap", |b| {
        b.iter(|| {
            k = (k + 1) % KEYS;
            cas(&dash.get(&k).unwrap());
        })
    });

    let papaya = papaya::HashMap::<u64, AtomicU64>::new();
    (0..KEYS).for_each(|k| {
        papaya.pin().insert(k, AtomicU64::new(0));
    });
    let mut k = 0;
    g.bench_function("papaya", |b| {
        b.iter(|| {
            k = (k + 1) % KEYS;
            cas(papaya.pin().get(&k).unwrap());
        })
    });

    let scc = scc::HashMap::<u64, AtomicU64>::new();
    for k in 0..KEYS {
        let _ = scc.insert(k, AtomicU64::new(0));
    }
    let mut k = 0;
    g.bench_function("scc", |b| {
        b.iter(|| {
            k = (k + 1) % KEYS;
            scc.read(&k, |_, v| cas(v));
        })
    });
    g.finish();
}

fn keyed_check_10k_keys(c: &mut Criterion) {
    let mut g = c.benchmark_group("keyed_check_10k_keys");
    let weir = KeyedRateLimiter::builder()
        .quota(weir::Quota::new(1_000_000_000, Duration::from_secs(1)).burst(u32::MAX))
        .build_with_clock(weir::Smol, StdClock)
        .unwrap();
    (0..KEYS).for_each(|k| weir.try_acquire(&k).unwrap());
    let mut k = 0;
    g.bench_function("weir", |b| {
        b.iter(|| {
            k = (k + 1) % KEYS;
            black_box(weir.try_acquire(&k)).is_ok()
        })
    });
    let coarse = KeyedRateLimiter::builder()
        .quota(weir::Quota::new(1_000_000_000, Duration::from_secs(1)).burst(u32::MAX))
        .build_with_clock(weir::Smol, CoarseClock::new().unwrap())
        .unwrap();
    (0..KEYS).for_each(|k| coarse.try_acquire(&k).unwrap());
    let mut k = 0;
    g.bench_function("weir_coarse_clock", |b| {
        b.iter(|| {
            k = (k + 1) % KEYS;
            black_box(coarse.try_acquire(&k)).is_ok()
        })
    });
    let governor = Governor::dashmap(huge_quota());
    (0..KEYS).for_each(|k| governor.check_key(&k).unwrap());
    let mut k = 0;
    g.bench_function("governor", |b| {
        b.iter(|| {
            k = (k + 1) % KEYS;
            black_box(governor.check_key(&k)).is_ok()
        })
    });
    g.finish();
}

fn leaky_bucket_acquire(c: &mut Criterion) {
    let mut g = c.benchmark_group("leaky_bucket_acquire");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let weir = RateLimiter::builder()
        .quota(weir::Quota::new(1_000_000_000, Duration::from_secs(1)).burst(u32::MAX))
        .build_with_clock(weir::Tokio, StdClock)
        .unwrap();
    g.bench_function("weir", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let t0 = Instant::now();
                for _ in 0..iters {
                    weir.acquire().await;
                }
                t0.elapsed()
            })
        })
    });
    let leaky = rt.block_on(async {
        leaky_bucket::RateLimiter::builder()
            .max(usize::MAX / 2)
            .initial(usize::MAX / 2)
            .refill(usize::MAX / 4)
            .interval(Duration::from_millis(1))
            .build()
    });
    g.bench_function("leaky-bucket", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let t0 = Instant::now();
                for _ in 0..iters {
                    leaky.acquire_one().await;
                }
                t0.elapsed()
            })
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    direct_check_allowed,
    keyed_map_candidates,
    keyed_check_10k_keys,
    leaky_bucket_acquire
);
criterion_main!(benches);
