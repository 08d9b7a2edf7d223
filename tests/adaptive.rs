//! Adaptive concurrency: the algorithms' rules, their bounds under random
//! samples, and a simulated service with a knee, on the virtual clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use proptest::prelude::*;
use weir::test_util::VirtualRuntime;
use weir::{
    AdaptiveLimiter, Bulkhead,
    limit::{Aimd, Gradient2, Limit, Sample, Vegas},
};
use weir::{Rule, Runtime};

const MS: Duration = Duration::from_millis(1);

fn ok(ms: u64, in_flight: u32) -> Sample {
    Sample {
        latency: MS * ms as u32,
        in_flight,
        dropped: false,
    }
}

#[test]
fn aimd_grows_by_one_and_backs_off_once_per_congestion_event() {
    let mut aimd = Aimd::builder()
        .initial(10)
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    assert_eq!(aimd.on_sample(ok(5, 10)), 11);
    // Slower than the timeout: a loss, 11 × 0.9 = 9.9.
    assert_eq!(aimd.on_sample(ok(101, 11)), 9);
    // A drop from a call that was in flight then: the same event, no
    // second decrease (and no growth).
    assert_eq!(
        aimd.on_sample(Sample {
            dropped: true,
            ..ok(1, 9)
        }),
        9
    );
    // Exactly the timeout is still a success.
    assert_eq!(aimd.on_sample(ok(100, 9)), 10); // 10.9
    for _ in 0..8 {
        aimd.on_sample(ok(1, 20));
    }
    assert_eq!(aimd.limit(), 18); // 18.9
    // The 11 samples of the old window are done: a new loss backs off.
    assert_eq!(
        aimd.on_sample(Sample {
            dropped: true,
            ..ok(1, 18)
        }),
        17
    ); // 17.01
}

#[test]
fn limits_do_not_grow_while_the_service_is_mostly_idle() {
    let mut aimd = Aimd::builder().initial(10).build().unwrap();
    // 4 in flight of 10: less than half, no growth.
    for _ in 0..100 {
        assert_eq!(aimd.on_sample(ok(5, 4)), 10);
    }
    let mut vegas = Vegas::builder().initial(40).build().unwrap();
    for _ in 0..400 {
        assert_eq!(vegas.on_sample(ok(5, 19)), 40);
    }
}

#[test]
fn small_limits_are_not_held_flat_by_rounding() {
    // AIMD at 2: a drop makes 1.8 (limit 1), later successes 2.8, 3.8.
    let mut aimd = Aimd::builder().initial(2).min(1).build().unwrap();
    assert_eq!(
        aimd.on_sample(Sample {
            dropped: true,
            ..ok(1, 2)
        }),
        1
    );
    assert_eq!(aimd.on_sample(ok(1, 1)), 2);
    assert_eq!(aimd.on_sample(ok(1, 2)), 3);
    // Vegas at 1 with smoothing 0.2: each window moves a fifth of the way
    // to 1 + 6, so the limit climbs instead of truncating back to 1.
    let mut vegas = Vegas::builder().initial(1).smoothing(0.2).build().unwrap();
    let mut limits = Vec::new();
    for _ in 0..4 {
        for _ in 0..10 {
            vegas.on_sample(ok(10, vegas.limit()));
        }
        limits.push(vegas.limit());
    }
    assert_eq!(limits, vec![2, 3, 4, 5]); // 2.2, 3.4, 4.6, 5.8
}

#[test]
fn vegas_shrinks_when_calls_queue_and_on_drops() {
    let mut vegas = Vegas::builder().initial(50).build().unwrap();
    // Unloaded latency 10 ms, learnt from one fast window.
    for _ in 0..50 {
        vegas.on_sample(ok(10, 50));
    }
    assert_eq!(vegas.limit(), 56);
    // 20 ms at 56: about 28 queued, far above β = 6: one step down.
    for _ in 0..56 {
        vegas.on_sample(ok(20, 56));
    }
    assert_eq!(vegas.limit(), 55);
    // A drop anywhere in a window shrinks it too.
    for i in 0..55 {
        vegas.on_sample(Sample {
            dropped: i == 3,
            ..ok(10, 55)
        });
    }
    assert_eq!(vegas.limit(), 54);
    assert_eq!(vegas.rtt_noload(), Some(MS * 10));
}

#[test]
fn gradient2_grows_on_flat_latency_and_halves_at_most_on_a_spike() {
    let mut g = Gradient2::builder().min(1).initial(20).build().unwrap();
    let mut last = g.limit();
    // Flat latency: gradient 1, so each call adds queue_size × smoothing =
    // 0.8 before flooring.
    for _ in 0..10 {
        let l = g.on_sample(ok(10, g.limit()));
        assert!(l >= last);
        last = l;
    }
    assert!((27..=28).contains(&last), "{last}");
    // Four times slower than the average: the gradient bottoms out at 0.5,
    // target L/2 + 4, a fifth of the way there: about 28 → 26.
    let spiked = g.on_sample(ok(40, last));
    assert!((25..=26).contains(&spiked), "{spiked}");
    // Mostly idle: no growth.
    assert_eq!(g.on_sample(ok(10, 5)), spiked);
    // A drop: × 0.9.
    let before = g.limit();
    let after = g.on_sample(Sample {
        dropped: true,
        ..ok(10, before)
    });
    assert!(after < before && after + 3 >= before, "{before} → {after}");
}

#[test]
fn builders_reject_bad_bounds_and_factors() {
    let cases = [
        (
            Aimd::builder().min(0).build().unwrap_err(),
            "min",
            Rule::Zero,
        ),
        (
            Aimd::builder().min(30).max(20).build().unwrap_err(),
            "min",
            Rule::Exceeds("max"),
        ),
        (
            Aimd::builder().initial(300).build().unwrap_err(),
            "initial",
            Rule::Exceeds("max"),
        ),
        (
            Aimd::builder().min(25).build().unwrap_err(),
            "initial",
            Rule::Below("min"),
        ),
        (
            Aimd::builder().backoff_ratio(f64::NAN).build().unwrap_err(),
            "backoff_ratio",
            Rule::NotFinite,
        ),
        (
            Aimd::builder().backoff_ratio(1.0).build().unwrap_err(),
            "backoff_ratio",
            Rule::OutOfRange("0.0 < x < 1.0"),
        ),
        (
            Aimd::builder().timeout(Duration::ZERO).build().unwrap_err(),
            "timeout",
            Rule::Zero,
        ),
        (
            Vegas::builder().max(u32::MAX).build().unwrap_err(),
            "max",
            Rule::TooLarge,
        ),
        (
            Vegas::builder()
                .smoothing(f64::INFINITY)
                .build()
                .unwrap_err(),
            "smoothing",
            Rule::NotFinite,
        ),
        (
            Vegas::builder().smoothing(-0.5).build().unwrap_err(),
            "smoothing",
            Rule::OutOfRange("0.0 < x <= 1.0"),
        ),
        (
            Gradient2::builder().tolerance(0.9).build().unwrap_err(),
            "tolerance",
            Rule::OutOfRange("1.0 <= x"),
        ),
        (
            Gradient2::builder().long_window(0).build().unwrap_err(),
            "long_window",
            Rule::Zero,
        ),
        (
            Gradient2::builder().min(30).build().unwrap_err(),
            "initial",
            Rule::Below("min"),
        ),
    ];
    for (e, field, rule) in cases {
        assert_eq!((e.field(), e.rule()), (field, &rule), "{e}");
    }
    assert!(Vegas::builder().smoothing(1.0).build().is_ok());
}

fn sample() -> impl Strategy<Value = Sample> {
    (0u64..2_000_000, 0u32..3000, any::<bool>()).prop_map(|(us, in_flight, dropped)| Sample {
        latency: Duration::from_micros(us),
        in_flight,
        dropped,
    })
}

proptest! {
    #[test]
    fn limits_stay_within_bounds(
        min in 1u32..50,
        span in 0u32..300,
        start in 0u32..1000,
        factor in 0.01f64..1.0,
        samples in proptest::collection::vec(sample(), 1..400),
    ) {
        let max = min + span;
        let initial = min + start % (span + 1);
        let mut aimd = Aimd::builder().min(min).max(max).initial(initial)
            .backoff_ratio(factor.min(0.99)).build().unwrap();
        let mut vegas = Vegas::builder().min(min).max(max).initial(initial)
            .smoothing(factor).build().unwrap();
        let mut gradient = Gradient2::builder().min(min).max(max).initial(initial)
            .smoothing(factor).build().unwrap();
        for s in samples {
            for l in [aimd.on_sample(s), vegas.on_sample(s), gradient.on_sample(s)] {
                prop_assert!((min..=max).contains(&l), "{l} outside [{min}, {max}]");
            }
            prop_assert_eq!(aimd.limit(), aimd.limit().clamp(min, max));
            prop_assert_eq!(vegas.limit(), vegas.limit().clamp(min, max));
            prop_assert_eq!(gradient.limit(), gradient.limit().clamp(min, max));
        }
    }
}

/// A service with a knee: flat latency up to `K` concurrent calls, then
/// rising with the square of the overload.
const K: u32 = 50;
const BASE: Duration = Duration::from_millis(10);

fn service_latency(concurrent: u32) -> Duration {
    if concurrent <= K {
        BASE
    } else {
        BASE.mul_f64((f64::from(concurrent) / f64::from(K)).powi(2))
    }
}

/// 200 clients, far more than the service takes, call through a bulkhead
/// whose limit Vegas sets, for 6 virtual seconds.
///
/// Where it should settle: at a limit `L > K`, calls take
/// `BASE · (L/K)²`, so Vegas's queue estimate `⌈L · (1 − (K/L)²)⌉` is 2 at
/// L = 51 (below α = 3: grow), 4 at 52 and 6 at 53 (within [α, β] = [3, 6]:
/// hold) and 8 at 54 (above β: shrink). The limit thus settles at 52–53;
/// allowing one step of overshoot either way for windows that mix calls
/// admitted under the previous limit, the assertion is `K ≤ L ≤ K + 6`
/// (within 12 % of the knee), and the p99 latency stays within
/// `(56/50)² ≈ 1.25 ×` the unloaded latency.
#[test]
fn vegas_settles_near_the_knee_and_keeps_latency_near_unloaded() {
    let rt = VirtualRuntime::new();
    let bulkhead = Bulkhead::builder()
        .max_concurrent(1)
        .queue_capacity(10_000)
        .build(rt.clone())
        .unwrap();
    let vegas = Vegas::builder()
        .initial(10)
        .min(1)
        .max(500)
        .build()
        .unwrap();
    let limiter = Arc::new(AdaptiveLimiter::new(bulkhead, vegas));
    let at_service = Arc::new(AtomicU32::new(0));
    let end = Duration::from_secs(6);
    let log = rt.block_on({
        let rt = rt.clone();
        async move {
            let clients: Vec<_> = (0..200)
                .map(|_| {
                    let (rt2, limiter, at_service) =
                        (rt.clone(), limiter.clone(), at_service.clone());
                    rt.spawn(async move {
                        // (when, latency, limit) of each call
                        let mut log = Vec::new();
                        while rt2.elapsed() < end {
                            let permit = limiter.acquire().await.unwrap();
                            let concurrent = at_service.fetch_add(1, Ordering::SeqCst) + 1;
                            let latency = service_latency(concurrent);
                            rt2.sleep(latency).await;
                            at_service.fetch_sub(1, Ordering::SeqCst);
                            permit.success();
                            log.push((rt2.elapsed(), latency, limiter.limit()));
                        }
                        log
                    })
                })
                .collect();
            let mut all = Vec::new();
            for c in clients {
                all.extend(c.await.unwrap());
            }
            all
        }
    });
    let settled: Vec<_> = log
        .iter()
        .filter(|(t, _, _)| *t >= Duration::from_secs(3))
        .collect();
    assert!(
        settled.len() > 10_000,
        "only {} calls in the last 3 s",
        settled.len()
    );
    let (lo, hi) = settled.iter().fold((u32::MAX, 0), |(lo, hi), &&(_, _, l)| {
        (lo.min(l), hi.max(l))
    });
    assert!(
        K <= lo && hi <= K + 6,
        "limit ranged over [{lo}, {hi}], knee at {K}"
    );
    let mut latencies: Vec<_> = settled.iter().map(|&&(_, l, _)| l).collect();
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100];
    assert!(
        p99 <= BASE.mul_f64(1.25),
        "p99 {p99:?} against unloaded {BASE:?}"
    );
    // Throughput stays near the knee's: at least 90 % of K calls per BASE.
    let per_sec = settled.len() as f64 / 3.0;
    let knee_rate = f64::from(K) / BASE.as_secs_f64();
    assert!(
        per_sec >= 0.9 * knee_rate,
        "{per_sec:.0}/s against {knee_rate:.0}/s at the knee"
    );
}

/// The same service through AIMD, which backs off only on loss: with a
/// timeout of 2× the unloaded latency, calls admitted past √2·K ≈ 71 time
/// out. AIMD grows by one per sample, so within one round trip it
/// overshoots toward its max before the first timeout comes back, then
/// backs off by 10 % per congestion event: the limit swings around the
/// timeout point, well past the knee (which is why Vegas is the one to use
/// for latency), but within its bounds and without collapsing to `min`.
#[test]
fn aimd_swings_around_the_timeout_point_within_bounds() {
    let rt = VirtualRuntime::new();
    let bulkhead = Bulkhead::builder()
        .max_concurrent(1)
        .queue_capacity(10_000)
        .build(rt.clone())
        .unwrap();
    let aimd = Aimd::builder()
        .initial(10)
        .min(5)
        .max(100)
        .timeout(BASE * 2)
        .build()
        .unwrap();
    let limiter = Arc::new(AdaptiveLimiter::new(bulkhead, aimd));
    let at_service = Arc::new(AtomicU32::new(0));
    let end = Duration::from_secs(2);
    let (limits, stats) = rt.block_on({
        let rt = rt.clone();
        async move {
            let clients: Vec<_> = (0..150)
                .map(|_| {
                    let (rt2, limiter, at_service) =
                        (rt.clone(), limiter.clone(), at_service.clone());
                    rt.spawn(async move {
                        let mut limits = Vec::new();
                        while rt2.elapsed() < end {
                            let permit = limiter.acquire().await.unwrap();
                            let concurrent = at_service.fetch_add(1, Ordering::SeqCst) + 1;
                            rt2.sleep(service_latency(concurrent)).await;
                            at_service.fetch_sub(1, Ordering::SeqCst);
                            permit.success();
                            limits.push((rt2.elapsed(), limiter.limit()));
                        }
                        limits
                    })
                })
                .collect();
            let mut all = Vec::new();
            for c in clients {
                all.extend(c.await.unwrap());
            }
            (all, limiter.stats())
        }
    });
    assert!(limits.iter().all(|(_, l)| (5..=100).contains(l)));
    let late: Vec<u32> = limits
        .iter()
        .filter(|(t, _)| *t >= Duration::from_secs(1))
        .map(|&(_, l)| l)
        .collect();
    let (lo, hi) = (late.iter().min().unwrap(), late.iter().max().unwrap());
    assert!(*lo >= K * 4 / 5, "collapsed to {lo}");
    assert!(*hi > 71, "never probed past the timeout point: {hi}");
    let at_max = late.iter().filter(|&&l| l == 100).count();
    assert!(
        at_max * 2 < late.len(),
        "stuck at the max: {at_max} of {}",
        late.len()
    );
    assert_eq!(stats.samples as usize, limits.len());
    assert_eq!(
        stats.dropped, 0,
        "timeouts are judged by the limit, not reported as drops"
    );
}
