//! The strict-window quota: a limiter built with `Quota::new(u, p).strict()`
//! never admits more than `u` units in any window of length `p` (both ends
//! counted), whatever the arrivals: checks, waits, and waits given up
//! part-way. Proven on the virtual clock by counting the units in every
//! window of an arbitrary run; the token-bucket quota of the same rate is
//! shown to break that bound, which is why the strict one exists.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_lite::future;
use proptest::prelude::*;
use weir::test_util::VirtualRuntime;
use weir::{Quota, RateLimiter};
use weir::{Rule, Runtime};

/// What one arrival does once it is due.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// `try_acquire_many(n)`: admitted now or not at all.
    Check(u32),
    /// `acquire_many(n).await`: admitted when the limiter says.
    Wait(u32),
    /// `acquire_many(n)`, dropped after `give_up` if still waiting.
    WaitAtMost(u32, Duration),
}

fn op(max_units: u32, period_ns: u64) -> impl Strategy<Value = Op> {
    let n = 1..=max_units;
    prop_oneof![
        n.clone().prop_map(Op::Check),
        n.clone().prop_map(Op::Wait),
        (n, 0..=2 * period_ns).prop_map(|(n, g)| Op::WaitAtMost(n, Duration::from_nanos(g))),
    ]
}

/// Runs every arrival as its own task on the virtual clock and returns the
/// (instant in ns since the start, units) of each admission.
fn run(quota: Quota, arrivals: &[(u64, Op)]) -> Vec<(u64, u32)> {
    let rt = VirtualRuntime::new();
    let limiter = RateLimiter::builder()
        .quota(quota)
        .build(rt.clone())
        .unwrap();
    let admitted = Arc::new(Mutex::new(Vec::new()));
    rt.block_on({
        let rt = rt.clone();
        let admitted = admitted.clone();
        async move {
            let start = rt.now();
            let mut tasks = Vec::new();
            for &(at, op) in arrivals {
                let (rt, limiter, admitted) = (rt.clone(), limiter.clone(), admitted.clone());
                tasks.push(rt.clone().spawn(async move {
                    rt.sleep(Duration::from_nanos(at)).await;
                    let granted = match op {
                        Op::Check(n) => limiter.try_acquire_many(n).is_ok().then_some(n),
                        Op::Wait(n) => limiter.acquire_many(n).await.is_ok().then_some(n),
                        Op::WaitAtMost(n, give_up) => {
                            let wait = async { limiter.acquire_many(n).await.is_ok().then_some(n) };
                            let quit = async {
                                rt.sleep(give_up).await;
                                None
                            };
                            future::or(wait, quit).await
                        }
                    };
                    if let Some(n) = granted {
                        let at = (rt.now() - start).as_nanos() as u64;
                        admitted.lock().unwrap().push((at, n));
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        }
    });
    let mut admitted = Arc::try_unwrap(admitted).unwrap().into_inner().unwrap();
    admitted.sort_unstable();
    admitted
}

/// The most units admitted in any closed window `[t, t + width]`. A busiest
/// window can always be slid to start at an admission, so those are the
/// only starts to try.
fn busiest_window(admitted: &[(u64, u32)], width: u64) -> u32 {
    let mut best = 0;
    let mut end = 0;
    let mut sum = 0u32;
    for (start, &(t0, _)) in admitted.iter().enumerate() {
        while end < admitted.len() && admitted[end].0 - t0 <= width {
            sum += admitted[end].1;
            end += 1;
        }
        best = best.max(sum);
        sum -= admitted[start].1;
    }
    best
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The bound, over arbitrary arrivals: never more than `units` in any
    /// window of `period`, with any burst the quota accepts.
    #[test]
    fn a_strict_quota_never_admits_more_than_its_units_in_any_window(
        (units, period_ns, burst, arrivals) in (1u32..=25, 1_000u64..=2_000_000_000)
            .prop_flat_map(|(units, period_ns)| (
                Just(units),
                Just(period_ns),
                1..=units,
                prop::collection::vec((0..=3 * period_ns, op(units, period_ns)), 1..80),
            ))
    ) {
        let quota = Quota::new(units, Duration::from_nanos(period_ns)).burst(burst).strict();
        let admitted = run(quota, &arrivals);
        let busiest = busiest_window(&admitted, period_ns);
        prop_assert!(
            busiest <= units,
            "{busiest} units in one window of {period_ns} ns, quota {units} (burst {burst}): {admitted:?}"
        );
        // Waits that nobody gives up on are always served: the bound is
        // kept by spacing, not by refusing them.
        let waits: u32 = arrivals
            .iter()
            .filter_map(|(_, op)| match op { Op::Wait(n) if *n <= burst => Some(*n), _ => None })
            .sum();
        let served: u32 = admitted.iter().map(|&(_, n)| n).sum();
        prop_assert!(served >= waits, "{served} units served, {waits} awaited");
    }
}

/// Saturated from time zero, a strict 20-per-second quota serves exactly 20
/// in the first second and the 21st one second and 20 ns later: the rate is
/// the whole quota, with one nanosecond of headroom per unit.
#[test]
fn saturated_strict_quota_uses_the_whole_rate() {
    let quota = Quota::per_second(20).strict();
    let arrivals: Vec<_> = (0..41).map(|_| (0, Op::Wait(1))).collect();
    let admitted = run(quota, &arrivals);
    let interval = 50_000_001;
    let instants: Vec<u64> = admitted.iter().map(|&(t, _)| t).collect();
    let expected: Vec<u64> = (0..41).map(|i| i * interval).collect();
    assert_eq!(instants, expected);
    assert_eq!(busiest_window(&admitted, 1_000_000_000), 20);
}

/// A burst is allowed up front and paid for afterwards: 5 at once, then one
/// every 62.5 ms (16 per second), so that no second sees more than 20.
#[test]
fn a_strict_burst_slows_the_refill_to_keep_the_window() {
    let quota = Quota::per_second(20).burst(5).strict();
    let arrivals: Vec<_> = (0..40).map(|_| (0, Op::Wait(1))).collect();
    let admitted = run(quota, &arrivals);
    let instants: Vec<u64> = admitted.iter().map(|&(t, _)| t).collect();
    assert_eq!(&instants[..5], &[0; 5]);
    assert_eq!(instants[5], 62_500_001);
    assert_eq!(instants[6], 2 * 62_500_001);
    assert_eq!(busiest_window(&admitted, 1_000_000_000), 20);
}

/// The reason the mode exists: the token bucket of the same rate admits a
/// full bucket and a period's refill in one window, nearly twice the rate.
#[test]
fn the_token_bucket_of_the_same_rate_overshoots_a_strict_window() {
    let arrivals: Vec<_> = (0..60).map(|_| (0, Op::Wait(1))).collect();
    let admitted = run(Quota::per_second(20), &arrivals);
    assert_eq!(busiest_window(&admitted, 1_000_000_000), 40);
}

#[test]
fn strict_quotas_refuse_what_has_no_window() {
    let e = RateLimiter::builder()
        .quota(Quota::per_second(5).burst(6).strict())
        .build(VirtualRuntime::new())
        .unwrap_err();
    assert_eq!((e.component(), e.field()), ("RateLimiter", "burst"));
    assert!(matches!(e.rule(), Rule::Other(_)), "{e}");

    let e = Quota::per_second_f64(2.5).strict().validate().unwrap_err();
    assert_eq!((e.component(), e.field()), ("Quota", "rate"));

    let e = Quota::per_second(5)
        .burst(0)
        .strict()
        .validate()
        .unwrap_err();
    assert_eq!((e.field(), e.rule()), ("burst", &Rule::Zero));
}
