//! Property tests of backoff: every jitter stays within its bounds, for
//! any seed, base, cap and retry number (including huge ones).

use std::time::{Duration, Instant};

use proptest::prelude::*;
use weir::{Retry, resilience::Jitter};

fn delays(base_ms: u64, max_ms: u64, jitter: Jitter, seed: u64, n: usize) -> Vec<Duration> {
    let r = Retry::exponential(Duration::from_millis(base_ms))
        .max_delay(Duration::from_millis(max_ms))
        .jitter(jitter)
        .seed(seed)
        .max_attempts(u32::MAX)
        .build()
        .unwrap();
    let now = Instant::now();
    let mut s = r.start(now);
    (0..n)
        .map(|_| r.next_delay(&mut s, now, None).unwrap())
        .collect()
}

fn nominal(base_ms: u64, max_ms: u64, i: usize) -> Duration {
    let ms = (base_ms as f64 * 2f64.powi(i as i32)).min(max_ms as f64);
    Duration::from_millis(ms as u64)
}

proptest! {
    #[test]
    fn no_jitter_is_exact(base in 1u64..1000, extra in 0u64..100_000, n in 1usize..80) {
        let max = base + extra;
        for (i, d) in delays(base, max, Jitter::None, 0, n).into_iter().enumerate() {
            prop_assert_eq!(d, nominal(base, max, i));
        }
    }

    #[test]
    fn full_jitter_within_zero_and_nominal(base in 1u64..1000, extra in 0u64..100_000, seed: u64, n in 1usize..80) {
        let max = base + extra;
        for (i, d) in delays(base, max, Jitter::Full, seed, n).into_iter().enumerate() {
            prop_assert!(d <= nominal(base, max, i));
        }
    }

    #[test]
    fn equal_jitter_within_half_and_nominal(base in 1u64..1000, extra in 0u64..100_000, seed: u64, n in 1usize..80) {
        let max = base + extra;
        for (i, d) in delays(base, max, Jitter::Equal, seed, n).into_iter().enumerate() {
            let nom = nominal(base, max, i);
            prop_assert!(d >= nom / 2 && d <= nom, "{:?} not in [{:?}, {:?}]", d, nom / 2, nom);
        }
    }

    #[test]
    fn decorrelated_within_base_and_three_times_previous(base in 1u64..1000, extra in 0u64..100_000, seed: u64, n in 1usize..80) {
        let max = Duration::from_millis(base + extra);
        let base_d = Duration::from_millis(base);
        let mut prev = base_d;
        for d in delays(base, base + extra, Jitter::Decorrelated, seed, n) {
            prop_assert!(d >= base_d && d <= max && d <= prev * 3, "{:?} prev {:?}", d, prev);
            prev = d;
        }
    }
}

#[test]
fn huge_retry_numbers_saturate_at_the_cap() {
    let r = Retry::exponential(Duration::from_secs(1))
        .max_delay(Duration::from_secs(60))
        .max_attempts(u32::MAX)
        .build()
        .unwrap();
    let now = Instant::now();
    let mut s = r.start(now);
    let mut last = Duration::ZERO;
    for _ in 0..5000 {
        last = r.next_delay(&mut s, now, None).unwrap();
    }
    assert_eq!(last, Duration::from_secs(60));
    // Without a cap the delay saturates instead of overflowing.
    let r = Retry::exponential(Duration::from_secs(1))
        .max_attempts(u32::MAX)
        .build()
        .unwrap();
    let mut s = r.start(now);
    for _ in 0..2000 {
        last = r.next_delay(&mut s, now, None).unwrap();
    }
    assert!(last >= Duration::from_secs(500 * 365 * 24 * 3600));
}
