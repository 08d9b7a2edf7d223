//! Errors for rates whose derived values do not fit name the field the user
//! set and the rule it broke, never a field left at its default (issue 10,
//! item 10), on the direct and the keyed builders alike.

use std::time::Duration;
use weir::Quota;

use weir::KeyedRateLimiter;
use weir::RateLimiter;
use weir::test_util::VirtualRuntime;
use weir::{ConfigError, Rule};

const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

/// Builds `Quota::new(units, period)` (with `burst` when given) on both builders
/// and returns both outcomes, checking that they agree.
fn build_both(units: u32, period: Duration, burst: Option<u32>) -> Result<(), ConfigError> {
    let rt = VirtualRuntime::new();
    let mut quota = Quota::new(units, period);
    if let Some(b) = burst {
        quota = quota.burst(b);
    }
    // One quota value, both builders.
    let direct = RateLimiter::builder()
        .quota(quota)
        .build(rt.clone())
        .map(drop);
    let keyed = KeyedRateLimiter::<u8, _>::builder()
        .quota(quota)
        .build(rt)
        .map(drop);
    match (&direct, &keyed) {
        (Ok(()), Ok(())) => {}
        (Err(d), Err(k)) => {
            assert_eq!(d.component(), "RateLimiter");
            assert_eq!(k.component(), "KeyedRateLimiter");
            assert_eq!((d.field(), d.rule()), (k.field(), k.rule()));
        }
        _ => panic!("the builders disagree: {direct:?} vs {keyed:?}"),
    }
    direct
}

#[test]
fn one_unit_per_200_years_names_the_period_not_the_unset_burst() {
    let err = build_both(1, 200 * YEAR, None).unwrap_err();
    assert_eq!(err.field(), "period");
    assert_eq!(
        err.rule(),
        &Rule::Other("per unit must not exceed 146 years (2^62 ns)")
    );
    assert_eq!(
        err.to_string(),
        "RateLimiter: `period` per unit must not exceed 146 years (2^62 ns)"
    );
    // The interval alone is too long: no burst can fix it, so an explicit
    // burst does not change which field is named.
    let err = build_both(1, 200 * YEAR, Some(1)).unwrap_err();
    assert_eq!(err.field(), "period");
}

#[test]
fn a_long_period_with_the_default_burst_names_the_period() {
    // 0.2 years per unit is fine, but the default burst (one period's
    // units) makes the bucket 200 years deep.
    let err = build_both(1000, 200 * YEAR, None).unwrap_err();
    assert_eq!(err.field(), "period");
    assert_eq!(
        err.rule(),
        &Rule::Other("must not exceed 146 years (2^62 ns) unless a smaller `burst` is set")
    );
    // The remedy the message names works.
    assert_eq!(build_both(1000, 200 * YEAR, Some(1)), Ok(()));
    assert_eq!(build_both(1000, 146 * YEAR, None), Ok(()));
}

#[test]
fn a_burst_the_user_set_too_deep_names_the_burst() {
    let err = build_both(1, 100 * YEAR, Some(2)).unwrap_err();
    assert_eq!((err.field(), err.rule()), ("burst", &Rule::TooLarge));
}

#[test]
fn a_fractional_rate_too_slow_names_the_rate_in_plain_words() {
    let rt = VirtualRuntime::new();
    let direct = RateLimiter::builder()
        .quota(Quota::per_second_f64(1e-12))
        .build(rt.clone())
        .unwrap_err();
    let keyed = KeyedRateLimiter::<u8, _>::builder()
        .quota(Quota::per_second_f64(1e-12))
        .build(rt)
        .unwrap_err();
    for err in [&direct, &keyed] {
        assert_eq!(err.field(), "rate");
        assert_eq!(
            err.rule(),
            &Rule::Other("must be at least one unit per 146 years (2^62 ns)")
        );
    }
    assert_eq!(
        direct.to_string(),
        "RateLimiter: `rate` must be at least one unit per 146 years (2^62 ns)"
    );
}
