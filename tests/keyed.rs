//! KeyedRateLimiter: per-key exact semantics, eviction that changes no
//! decision, the key limit policy, and a model-based property test.

use std::collections::HashMap;
use std::time::Duration;
use weir::Quota;

use proptest::prelude::*;
use weir::Rule;
use weir::limit::{Clock, ManualClock, RateLimited};
use weir::test_util::VirtualRuntime;
use weir::{KeyedRateLimiter, limit::KeyedError};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn limiter(clock: &ManualClock) -> KeyedRateLimiter<u32, VirtualRuntime, ManualClock> {
    KeyedRateLimiter::builder()
        .quota(Quota::new(10, Duration::from_secs(1)).burst(5))
        .build_with_clock(VirtualRuntime::new(), clock.clone())
        .unwrap()
}

#[test]
fn each_key_gets_the_exact_quota() {
    let rt = VirtualRuntime::new();
    rt.set_auto_advance(false);
    let l = KeyedRateLimiter::builder()
        .quota(Quota::new(10, Duration::from_secs(1)).burst(5))
        .build(rt.clone())
        .unwrap();
    for key in ["a", "b"] {
        for _ in 0..5 {
            assert_eq!(l.try_acquire(&key), Ok(()));
        }
        assert_eq!(
            l.try_acquire(&key),
            Err(KeyedError::RateLimited(RateLimited {
                retry_after: ms(100)
            }))
        );
    }
    rt.block_on(rt.advance(ms(100)));
    assert_eq!(l.try_acquire(&"a"), Ok(()), "6th of a at 100 ms");
    assert!(l.try_acquire(&"a").is_err());
    assert_eq!(l.try_acquire(&"b"), Ok(()), "6th of b at 100 ms");
    assert_eq!(l.try_acquire(&"c"), Ok(()));
}

#[test]
fn full_bucket_keys_are_evicted_and_charged_ones_kept() {
    let clock = ManualClock::default();
    let l = limiter(&clock);
    l.try_acquire_many(&1, 5).unwrap(); // full again at 500 ms
    l.try_acquire(&2).unwrap(); // full again at 100 ms
    assert_eq!(l.retain_recent(), 2);
    clock.advance(ms(100));
    assert_eq!(l.retain_recent(), 1, "key 2 is full at 100 ms");
    // Key 1 keeps its state: still charged.
    assert_eq!(
        l.try_acquire_many(&1, 2).unwrap_err().retry_after(),
        Some(ms(100))
    );
    clock.advance(ms(500));
    assert_eq!(l.retain_recent(), 0);
    assert!(l.is_empty());
}

#[test]
fn new_keys_trigger_a_sweep_every_n_insertions() {
    let clock = ManualClock::default();
    let l = KeyedRateLimiter::builder()
        .quota(Quota::new(10, Duration::from_secs(1)).burst(5))
        .sweep_every(10)
        .build_with_clock(VirtualRuntime::new(), clock.clone())
        .unwrap();
    for k in 0..10 {
        l.try_acquire(&k).unwrap();
    }
    assert_eq!(l.len(), 10, "the sweep at the 10th key found all charged");
    clock.advance(Duration::from_secs(1));
    for k in 10..19 {
        l.try_acquire(&k).unwrap();
    }
    assert_eq!(l.len(), 19, "no sweep before the 10th new key");
    l.try_acquire(&19).unwrap();
    assert_eq!(l.len(), 10, "the old, full keys were swept");
    // Checks on known keys never count towards the sweep.
    for _ in 0..100 {
        let _ = l.try_acquire(&19);
    }
    assert_eq!(l.len(), 10);
}

#[test]
fn key_limit_evicts_full_keys_first_then_refuses_new_keys() {
    let clock = ManualClock::default();
    let l = KeyedRateLimiter::builder()
        .quota(Quota::new(10, Duration::from_secs(1)).burst(5))
        .max_keys(3)
        .build_with_clock(VirtualRuntime::new(), clock.clone())
        .unwrap();
    for k in 0..3 {
        l.try_acquire(&k).unwrap();
    }
    assert_eq!(
        l.try_acquire(&3),
        Err(KeyedError::KeyLimitReached { max_keys: 3 })
    );
    assert_eq!(l.try_acquire(&0), Ok(()), "known keys are still served");
    assert_eq!(l.try_acquire_many(&3, 0), Ok(()), "a probe needs no room");
    clock.advance(ms(100)); // keys 1 and 2 are full again; key 0 is not
    assert_eq!(l.try_acquire(&3), Ok(()));
    assert_eq!(l.len(), 2, "keys 1 and 2 were evicted to make room");
    let err = KeyedError::KeyLimitReached { max_keys: 3 };
    assert_eq!(err.retry_after(), None);
}

#[test]
fn more_than_burst_and_probes() {
    let clock = ManualClock::default();
    let l = limiter(&clock);
    assert!(matches!(
        l.try_acquire_many(&1, 6),
        Err(KeyedError::InsufficientCapacity(e)) if e.requested == 6 && e.burst == 5
    ));
    assert_eq!(l.try_acquire_many(&1, 0), Ok(()));
    assert!(l.is_empty());
    l.try_acquire_many(&1, 5).unwrap();
    assert_eq!(
        l.try_acquire_many(&1, 0).unwrap_err().retry_after(),
        Some(ms(100))
    );
}

#[test]
fn concurrent_checks_and_sweeps_never_exceed_the_burst_per_key() {
    let clock = ManualClock::default();
    let l = KeyedRateLimiter::builder()
        .quota(Quota::new(1, Duration::from_secs(3600)).burst(50))
        .sweep_every(1)
        .build_with_clock(VirtualRuntime::new(), clock.clone())
        .unwrap();
    let admitted: Vec<usize> = std::thread::scope(|s| {
        let sweeper = s.spawn(|| {
            for _ in 0..200 {
                l.retain_recent();
            }
        });
        let handles: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    let mut per_key = vec![0usize; 8];
                    for i in 0..4000u32 {
                        if l.try_acquire(&(i % 8)).is_ok() {
                            per_key[(i % 8) as usize] += 1;
                        }
                    }
                    per_key
                })
            })
            .collect();
        sweeper.join().unwrap();
        let mut total = vec![0usize; 8];
        for h in handles {
            for (t, n) in total.iter_mut().zip(h.join().unwrap()) {
                *t += n;
            }
        }
        total
    });
    assert_eq!(admitted, vec![50; 8]);
}

#[test]
fn bad_configuration_names_the_field() {
    let rt = VirtualRuntime::new();
    let sec = Duration::from_secs(1);
    let cases = [
        (KeyedRateLimiter::<u8, _>::builder(), "quota", Rule::Missing),
        (
            KeyedRateLimiter::builder().quota(Quota::new(0, sec)),
            "rate",
            Rule::Zero,
        ),
        (
            KeyedRateLimiter::builder().quota(Quota::new(1, Duration::ZERO)),
            "period",
            Rule::Zero,
        ),
        (
            KeyedRateLimiter::builder().quota(Quota::new(1, sec).burst(0)),
            "burst",
            Rule::Zero,
        ),
        (
            KeyedRateLimiter::builder().quota(Quota::per_second_f64(f64::NAN)),
            "rate",
            Rule::NotFinite,
        ),
        (
            KeyedRateLimiter::builder()
                .quota(Quota::new(1, sec))
                .max_keys(0),
            "max_keys",
            Rule::Zero,
        ),
        (
            KeyedRateLimiter::builder()
                .quota(Quota::new(1, sec))
                .sweep_every(0),
            "sweep_every",
            Rule::Zero,
        ),
    ];
    for (builder, field, rule) in cases {
        let err = builder.build(rt.clone()).unwrap_err();
        assert_eq!(
            (err.component(), err.field(), err.rule()),
            ("KeyedRateLimiter", field, &rule)
        );
    }
}

#[derive(Debug, Clone)]
enum Op {
    Check { key: u8, n: u32 },
    Advance(u64),
    Sweep,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..6, 0u32..7).prop_map(|(key, n)| Op::Check { key, n }),
        2 => (0u64..300_000_000).prop_map(Op::Advance),
        1 => Just(Op::Sweep),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Against a map of exact token buckets that never forgets a key:
    /// eviction (manual and automatic) changes no decision.
    #[test]
    fn matches_a_model_that_never_evicts(ops in prop::collection::vec(op(), 1..200)) {
        let clock = ManualClock::default();
        let l = KeyedRateLimiter::builder()
            .quota(Quota::new(10, Duration::from_secs(1)).burst(5))
            .sweep_every(3)
            .build_with_clock(VirtualRuntime::new(), clock.clone())
            .unwrap();
        const T: u128 = 100_000_000;
        const CAP: u128 = 5 * T;
        // key -> (level in ns of credit, last update)
        let mut model: HashMap<u8, (u128, u128)> = HashMap::new();
        for op in ops {
            match op {
                Op::Advance(d) => clock.advance(Duration::from_nanos(d)),
                Op::Sweep => {
                    l.retain_recent();
                }
                Op::Check { key, n } => {
                    let now = u128::from(clock.now());
                    let got = l.try_acquire_many(&u32::from(key), n);
                    if n > 5 {
                        prop_assert!(matches!(got, Err(KeyedError::InsufficientCapacity(_))));
                        continue;
                    }
                    let (level, last) = model.entry(key).or_insert((CAP, now));
                    *level = (*level + (now - *last)).min(CAP);
                    *last = now;
                    let cost = u128::from(n.max(1)) * T;
                    if *level >= cost {
                        if n > 0 {
                            *level -= cost;
                        }
                        prop_assert_eq!(got, Ok(()));
                    } else {
                        let wait = Duration::from_nanos((cost - *level) as u64);
                        prop_assert_eq!(
                            got,
                            Err(KeyedError::RateLimited(RateLimited { retry_after: wait }))
                        );
                    }
                }
            }
        }
    }
}
