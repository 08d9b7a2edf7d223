//! The keyed limiter's eviction work is amortised O(1) per operation
//! (issue 10, item 7), and the key limit stays exact: a new key is refused
//! only while every stored key is still charged.
//!
//! Work is counted, not timed: `sweep_work()` (test-util) is the number of
//! stored entries that evictions have examined or moved.

use std::collections::HashMap;
use std::time::Duration;
use weir::Quota;

use proptest::prelude::*;
use weir::limit::{Clock, ManualClock};
use weir::test_util::VirtualRuntime;
use weir::{KeyedRateLimiter, limit::KeyedError};

type Limiter = KeyedRateLimiter<u64, VirtualRuntime, ManualClock>;

fn limiter(clock: &ManualClock, period: Duration, max_keys: usize) -> Limiter {
    KeyedRateLimiter::builder()
        .quota(Quota::new(1, period))
        .max_keys(max_keys)
        .build_with_clock(VirtualRuntime::new(), clock.clone())
        .unwrap()
}

/// The bound the docs prove: each stored entry is moved at most 65 times
/// between its insertion (or re-insertion after a charge) and its eviction.
const WORK_PER_OP: u64 = 65;

#[test]
fn inserting_live_keys_does_not_rescan_them() {
    let clock = ManualClock::default();
    let keys = 100_000;
    let l = limiter(&clock, Duration::from_secs(3600), usize::MAX);
    for k in 0..keys {
        l.try_acquire(&k).unwrap();
    }
    assert_eq!(l.len(), keys as usize);
    // Before: a full sweep every 1024 insertions, 4.9 million visits.
    let work = l.sweep_work();
    println!("{work} entries visited for {keys} insertions");
    assert!(work <= keys, "{work} entries visited for {keys} insertions");
}

#[test]
fn refusals_at_the_key_limit_do_not_rescan() {
    let clock = ManualClock::default();
    let max = 2000;
    let l = limiter(&clock, Duration::from_secs(3600), max as usize);
    for k in 0..max {
        l.try_acquire(&k).unwrap();
    }
    let before = l.sweep_work();
    for k in max..2 * max {
        assert_eq!(
            l.try_acquire(&k),
            Err(KeyedError::KeyLimitReached {
                max_keys: max as usize
            })
        );
    }
    // Before: every refusal swept all 2000 keys, 4 million visits.
    let work = l.sweep_work() - before;
    println!("{work} entries visited for {max} refusals");
    assert!(work <= max, "{work} entries visited for {max} refusals");
}

/// At the limit, keys expire one per millisecond and a new one arrives each
/// millisecond: each is admitted in place of the expired key, a second one at
/// the same instant is refused, and the work per operation stays bounded.
#[test]
fn churn_at_the_key_limit_admits_each_new_key_at_constant_work() {
    let clock = ManualClock::default();
    let max = 1000u64;
    let l = limiter(&clock, Duration::from_millis(max), max as usize);
    for k in 0..max {
        l.try_acquire(&k).unwrap(); // key k is full again at k + 1000 ms
        clock.advance(Duration::from_millis(1));
    }
    let before = l.sweep_work();
    let steps = 3000;
    for step in 0..steps {
        // Now = max + step ms: key `step` has just become full.
        let fresh = max + 2 * step;
        assert_eq!(l.try_acquire(&fresh), Ok(()), "step {step}");
        assert_eq!(
            l.try_acquire(&(fresh + 1)),
            Err(KeyedError::KeyLimitReached {
                max_keys: max as usize
            }),
            "step {step}: every stored key is charged"
        );
        assert_eq!(l.len(), max as usize);
        clock.advance(Duration::from_millis(1));
    }
    // Before: two full sweeps per step, 6 million visits.
    let work = l.sweep_work() - before;
    let ops = 2 * steps;
    println!("{work} entries visited for {ops} operations");
    assert!(
        work <= WORK_PER_OP * ops,
        "{work} entries visited for {ops} operations"
    );
}

/// Keys kept alive by charges just before they would become full: the
/// eviction index finds them charged again and re-files them, and refusals
/// in between cost no rescan.
#[test]
fn keys_kept_alive_at_the_limit_cost_constant_work() {
    let clock = ManualClock::default();
    let max = 1000u64;
    let l = limiter(&clock, Duration::from_millis(max), max as usize);
    for k in 0..max {
        l.try_acquire(&k).unwrap();
        clock.advance(Duration::from_millis(1));
    }
    let before = l.sweep_work();
    let steps = 3000;
    for step in 0..steps {
        // Key `step % max` becomes full now; a probe says so, then it is
        // charged again before any new key can take its place.
        let oldest = step % max;
        assert_eq!(l.try_acquire(&oldest), Ok(()), "step {step}");
        assert!(matches!(
            l.try_acquire(&(10 * max + step)),
            Err(KeyedError::KeyLimitReached { .. })
        ));
        clock.advance(Duration::from_millis(1));
    }
    let work = l.sweep_work() - before;
    let ops = 2 * steps;
    println!("{work} entries visited for {ops} operations");
    assert!(
        work <= WORK_PER_OP * ops,
        "{work} entries visited for {ops} operations"
    );
}

#[test]
fn the_key_limit_holds_exactly_under_concurrent_insertions() {
    let clock = ManualClock::default();
    let max = 100;
    let l = limiter(&clock, Duration::from_secs(3600), max);
    let admitted: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4u64)
            .map(|t| {
                let l = &l;
                s.spawn(move || {
                    (0..1000u64)
                        .filter(|i| l.try_acquire(&(t * 1000 + i)).is_ok())
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(admitted, max);
    assert_eq!(l.len(), max);
}

#[derive(Debug, Clone)]
enum Op {
    Check { key: u8, n: u32 },
    Advance(u64),
    Sweep,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..8, 0u32..4).prop_map(|(key, n)| Op::Check { key, n }),
        3 => (0u64..150_000_000).prop_map(Op::Advance),
        1 => Just(Op::Sweep),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Against exact token buckets that remember every key: a new key is
    /// refused exactly when `max_keys` stored keys are still charged (a key
    /// whose bucket is full counts as not stored), and every other decision
    /// matches the model.
    #[test]
    fn the_key_limit_matches_a_model(ops in prop::collection::vec(op(), 1..300)) {
        let clock = ManualClock::default();
        const MAX: usize = 3;
        let l = KeyedRateLimiter::builder()
            .quota(Quota::new(10, Duration::from_secs(1)).burst(3))
            .max_keys(MAX)
            .sweep_every(5)
            .build_with_clock(VirtualRuntime::new(), clock.clone())
            .unwrap();
        const T: u128 = 100_000_000;
        const CAP: u128 = 3 * T;
        // key -> (credit in ns, last update); a key at CAP is not stored.
        let mut model: HashMap<u8, (u128, u128)> = HashMap::new();
        for op in ops {
            match op {
                Op::Advance(d) => clock.advance(Duration::from_nanos(d)),
                Op::Sweep => {
                    l.retain_recent();
                }
                Op::Check { key, n } => {
                    let now = u128::from(clock.now());
                    for (level, last) in model.values_mut() {
                        *level = (*level + (now - *last)).min(CAP);
                        *last = now;
                    }
                    model.retain(|_, (level, _)| *level < CAP);
                    let got = l.try_acquire_many(&u64::from(key), n);
                    let known = model.contains_key(&key);
                    if !known && n > 0 && model.len() >= MAX {
                        prop_assert_eq!(got, Err(KeyedError::KeyLimitReached { max_keys: MAX }));
                        continue;
                    }
                    let (level, _) = model.entry(key).or_insert((CAP, now));
                    let cost = u128::from(n.max(1)) * T;
                    if *level >= cost {
                        if n > 0 {
                            *level -= cost;
                        }
                        prop_assert_eq!(got, Ok(()));
                    } else {
                        prop_assert!(matches!(got, Err(KeyedError::RateLimited(_))));
                    }
                    model.retain(|_, (level, _)| *level < CAP);
                    prop_assert!(l.len() <= MAX);
                }
            }
        }
    }
}
