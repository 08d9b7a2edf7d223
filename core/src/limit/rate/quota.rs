//! [`Quota`]: what a rate limiter admits, shared by the direct and the keyed
//! limiter's builders.

use std::time::Duration;

use super::gcra::{MAX_TOLERANCE_NS, Params};
use crate::error::{ConfigError, Rule};

const NANOS_PER_SEC: f64 = 1e9;

// The rules for values whose derived interval or bucket depth exceeds
// MAX_TOLERANCE_NS, in words, so that the message names what to change.
const PERIOD_PER_UNIT: &str = "per unit must not exceed 146 years (2^62 ns)";
const PERIOD_WITH_DEFAULT_BURST: &str =
    "must not exceed 146 years (2^62 ns) unless a smaller `burst` is set";
const RATE_TOO_SLOW: &str = "must be at least one unit per 146 years (2^62 ns)";
const STRICT_WHOLE_UNITS: &str =
    "a strict quota counts whole units per period: use Quota::new, not per_second_f64";
const STRICT_BURST: &str = "must not exceed the units of a strict quota's window";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Rate {
    PerPeriod(u32, Duration),
    PerSecond(f64),
}

/// How much a [`RateLimiter`](super::RateLimiter) or a
/// [`KeyedRateLimiter`](crate::KeyedRateLimiter) admits: a
/// rate, a burst, and which bound the two make.
///
/// A `Quota` is a plain value: make it once, hand it to either builder's
/// [`quota`](super::RateLimiterBuilder::quota), copy it freely. Its
/// constructors cannot fail; the builder that receives it checks it and
/// names the field at fault (`rate`, `period`, `burst`) in its
/// [`ConfigError`]. [`validate`](Self::validate) runs the same check alone.
///
/// # Two bounds: token bucket and strict window
///
/// **Token bucket** (the default). `Quota::new(u, p)` emits one unit every
/// `T = ⌈p / u⌉` and holds a bucket of `burst` units (default `u`: one
/// period's worth). The *long-run* rate is `u` per `p`, but a full bucket
/// is spent at once and refills meanwhile, so one window of length `p` may
/// see up to `burst + u` units (exactly: `burst + ⌊p / T⌋`, both ends of the
/// window counted). That is the right model for "about `u` per `p`, bursts
/// welcome", and the wrong one for a server that counts requests in a
/// sliding window: `Quota::new(20, 1 s)` against a server that allows 20
/// in any 1 s draws 429s.
///
/// **Strict window** ([`strict`](Self::strict)). `Quota::new(u, p).strict()`
/// never admits more than `u` units in *any* window of length `p`, ends
/// included: the burst defaults to 1 (evenly paced, the full `u` per `p`)
/// and a larger burst `b ≤ u` is paid for with a slower refill,
/// `T = ⌊p / (u − b + 1)⌋ + 1 ns`, so that `b + ⌊p / T⌋ ≤ u` always. Use it
/// to match a quota that someone else enforces.
///
/// # The headroom rule
///
/// The strict bound holds for the instants at which the limiter grants
/// units. What a server counts are arrivals, and those come later than the
/// grant by a delay that varies: the runtime wakes a waiter on its timer's
/// next tick (tokio and async-io round a sleep up to the whole
/// millisecond), and each request has its own latency on the way. When a
/// request granted at the start of a window arrives late, the window that
/// starts with it holds one more. So give the limiter a period a little
/// longer than the server's, by the spread you expect:
///
/// * **2 % of the period** (`Quota::new(20, Duration::from_millis(1_020))
///   .strict()` for a server's "20 per second") covers a runtime's timer
///   tick on a one-second window and is the usual choice on loopback or a
///   quiet network;
/// * more when the path is long or loaded: the latency jitter you measure,
///   or one unit fewer per window.
///
/// A token-bucket quota matched to a strict server needs
/// `burst + ⌊p / T⌋ ≤ u`, i.e. `Quota::new(u − burst, p)` at best; strict
/// does that arithmetic for you, and a 429 that still comes back is the
/// retry's to wait out (`honor_retry_after`).
///
/// ```
/// use std::time::Duration;
/// use weir_core::Quota;
/// # #[cfg(feature = "test-util")] {
/// use weir_core::RateLimiter;
/// let rt = weir_core::test_util::VirtualRuntime::new();
///
/// // About 20 per second, bursts of 5.
/// let bucket = RateLimiter::builder().quota(Quota::per_second(20).burst(5)).build(rt.clone())?;
/// assert_eq!(bucket.interval(), Duration::from_millis(50));
///
/// // Never more than 20 in any second, bursts of 5: the refill slows to
/// // 16 per second so that a burst and a second of refill stay within 20.
/// let strict = RateLimiter::builder()
///     .quota(Quota::per_second(20).burst(5).strict())
///     .build(rt)?;
/// assert_eq!(strict.interval(), Duration::from_nanos(62_500_001));
/// # }
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quota {
    rate: Rate,
    burst: Option<u32>,
    strict: bool,
}

impl Quota {
    /// `units` per `period`: one unit every `period / units` (rounded up to
    /// the whole nanosecond, so rounding never admits more than asked),
    /// with a burst of `units` unless [`burst`](Self::burst) says otherwise.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::{Quota, RateLimiter};
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = RateLimiter::builder().quota(Quota::new(3, Duration::from_secs(1))).build(rt)?;
    /// assert_eq!(l.interval(), Duration::from_nanos(333_333_334));
    /// assert_eq!(l.burst(), 3);
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub const fn new(units: u32, period: Duration) -> Self {
        Quota {
            rate: Rate::PerPeriod(units, period),
            burst: None,
            strict: false,
        }
    }

    /// `units` per second; `Quota::new(units, 1 s)`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_core::Quota;
    /// assert_eq!(Quota::per_second(20), Quota::new(20, Duration::from_secs(1)));
    /// ```
    pub const fn per_second(units: u32) -> Self {
        Quota::new(units, Duration::from_secs(1))
    }

    /// `units` per minute; `Quota::new(units, 60 s)`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_core::Quota;
    /// assert_eq!(Quota::per_minute(600), Quota::new(600, Duration::from_secs(60)));
    /// ```
    pub const fn per_minute(units: u32) -> Self {
        Quota::new(units, Duration::from_secs(60))
    }

    /// `units` per hour; `Quota::new(units, 3600 s)`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_core::Quota;
    /// assert_eq!(Quota::per_hour(5), Quota::new(5, Duration::from_secs(3600)));
    /// ```
    pub const fn per_hour(units: u32) -> Self {
        Quota::new(units, Duration::from_secs(3600))
    }

    /// A fractional rate per second (0.5 is one unit every two seconds),
    /// with a burst of the whole units of one second (at least 1). NaN,
    /// infinite, zero and negative rates are refused by the builder.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::{Quota, RateLimiter};
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = RateLimiter::builder().quota(Quota::per_second_f64(0.5)).build(rt)?;
    /// assert_eq!(l.interval(), std::time::Duration::from_secs(2));
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub const fn per_second_f64(units_per_second: f64) -> Self {
        Quota {
            rate: Rate::PerSecond(units_per_second),
            burst: None,
            strict: false,
        }
    }

    /// The bucket size: how many units may pass at once after a quiet
    /// spell, and the most one request may take. In a
    /// [strict](Self::strict) quota it must not exceed the window's units,
    /// and each unit of burst above one slows the refill (see the
    /// [type docs](Self)).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::{Quota, RateLimiter};
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = RateLimiter::builder().quota(Quota::per_second(100).burst(10)).build(rt)?;
    /// assert!(l.try_acquire_many(10).is_ok());
    /// assert!(l.try_acquire_many(0).is_err()); // spent
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub const fn burst(mut self, units: u32) -> Self {
        self.burst = Some(units);
        self
    }

    /// Leaky-bucket pacing: no burst, units pass evenly spaced one interval
    /// apart. Shorthand for `burst(1)` (the later call of the two wins); a
    /// request for more than one unit then fails with
    /// [`InsufficientCapacity`](super::InsufficientCapacity).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::{Quota, RateLimiter};
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = RateLimiter::builder().quota(Quota::per_second(10).pacing()).build(rt)?;
    /// assert!(l.try_acquire().is_ok());
    /// assert!(l.try_acquire().is_err()); // no burst: the next unit is 100 ms away
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub const fn pacing(self) -> Self {
        self.burst(1)
    }

    /// Never admit more than the quota's units in any window of its period
    /// (see the [type docs](Self) for the arithmetic and the headroom rule).
    /// The burst defaults to 1 here; only [`Quota::new`] and its
    /// `per_*` shorthands may be strict (a fractional rate has no whole
    /// window to count).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::{Quota, RateLimiter};
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = RateLimiter::builder().quota(Quota::per_second(20).strict()).build(rt)?;
    /// assert_eq!(l.burst(), 1);
    /// // 20 per second, evenly, each one a nanosecond late so that a
    /// // window of exactly one second never holds a 21st.
    /// assert_eq!(l.interval(), Duration::from_nanos(50_000_001));
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub const fn strict(mut self) -> Self {
        self.strict = true;
        self
    }

    /// Whether this quota is a [strict](Self::strict) window.
    ///
    /// ```
    /// use weir_core::Quota;
    /// assert!(Quota::per_second(5).strict().is_strict());
    /// assert!(!Quota::per_second(5).is_strict());
    /// ```
    pub const fn is_strict(&self) -> bool {
        self.strict
    }

    /// Checks the quota as a builder would, naming `Quota` as the
    /// component.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the field at fault:
    ///
    /// * `rate` when zero, not finite, negative, faster than one unit per
    ///   nanosecond ([`Rule::TooLarge`]), slower than one unit per 146
    ///   years (per second), or fractional and strict;
    /// * `period` when zero, longer than 584 years ([`Rule::TooLarge`]),
    ///   longer than 146 years per unit, or longer than 146 years while no
    ///   `burst` is set (the default burst holds one period's units, so the
    ///   bucket would be that deep);
    /// * `burst` when zero, above the units of a strict quota, or when the
    ///   burst times the interval exceeds 146 years ([`Rule::TooLarge`]).
    ///
    /// 146 years is 2^62 ns, the deepest bucket the state word can hold.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_core::Quota;
    /// assert_eq!(Quota::per_second(0).validate().unwrap_err().field(), "rate");
    /// assert_eq!(Quota::per_second(5).burst(6).strict().validate().unwrap_err().field(), "burst");
    /// // One unit per 200 years: the period is named, not the unset burst.
    /// let two_centuries = Duration::from_secs(200 * 365 * 24 * 3600);
    /// assert_eq!(Quota::new(1, two_centuries).validate().unwrap_err().field(), "period");
    /// assert!(Quota::per_second(5).validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.params("Quota").map(|_| ())
    }

    /// Checks the quota and turns it into GCRA parameters, with errors
    /// naming `component`.
    pub(crate) fn params(&self, component: &'static str) -> Result<Params, ConfigError> {
        let err = |field, rule| ConfigError::new(component, field, rule);
        let (interval, default_burst) = match self.rate {
            Rate::PerPeriod(units, period) => {
                if units == 0 {
                    return Err(err("rate", Rule::Zero));
                }
                if period.is_zero() {
                    return Err(err("period", Rule::Zero));
                }
                let period_ns = period.as_nanos();
                if period_ns > u128::from(u64::MAX) {
                    return Err(err("period", Rule::TooLarge));
                }
                if period_ns < u128::from(units) {
                    // More than one unit per nanosecond: the interval would
                    // round to zero and the limiter would admit everything.
                    return Err(err("rate", Rule::TooLarge));
                }
                if self.strict {
                    return strict_params(units, period_ns as u64, self.burst, err);
                }
                // Fits: at most period_ns, which fits u64.
                let interval = period_ns.div_ceil(u128::from(units)) as u64;
                if interval > MAX_TOLERANCE_NS {
                    // Too slow for any burst, so the period is at fault.
                    return Err(err("period", Rule::Other(PERIOD_PER_UNIT)));
                }
                (interval, units)
            }
            Rate::PerSecond(r) => {
                if !r.is_finite() {
                    return Err(err("rate", Rule::NotFinite));
                }
                if r == 0.0 {
                    return Err(err("rate", Rule::Zero));
                }
                if r < 0.0 {
                    return Err(err("rate", Rule::OutOfRange("> 0.0")));
                }
                if self.strict {
                    return Err(err("rate", Rule::Other(STRICT_WHOLE_UNITS)));
                }
                let exact = NANOS_PER_SEC / r;
                if exact < 1.0 {
                    // Rounding up to 1 ns would silently lower the rate.
                    return Err(err("rate", Rule::TooLarge));
                }
                let interval = exact.ceil();
                if interval > MAX_TOLERANCE_NS as f64 {
                    return Err(err("rate", Rule::Other(RATE_TOO_SLOW)));
                }
                // In 1..=2^62: the cast is exact enough and cannot wrap.
                (interval as u64, (r as u32).max(1))
            }
        };
        let burst = self.burst.unwrap_or(default_burst);
        if burst == 0 {
            return Err(err("burst", Rule::Zero));
        }
        let tolerance = interval
            .checked_mul(u64::from(burst))
            .filter(|&t| t <= MAX_TOLERANCE_NS)
            .ok_or_else(|| match self.burst {
                Some(_) => err("burst", Rule::TooLarge),
                // Only a per-period rate has a default burst above one (a
                // per-second one stays near one second deep), and then the
                // bucket is one period deep: the period is what the caller
                // chose.
                None => err("period", Rule::Other(PERIOD_WITH_DEFAULT_BURST)),
            })?;
        Ok(Params {
            interval,
            burst,
            tolerance,
        })
    }
}

/// A strict window of `units` per `period_ns` with burst `b` (default 1).
///
/// GCRA admits units at `t₁ ≤ … ≤ t_k` (n units in all) only if
/// `t_k − t₁ ≥ (n − b)·T`; so a closed window of length `p` holds at most
/// `b + ⌊p / T⌋` units. With `k = units − b + 1` and `T = ⌊p / k⌋ + 1`,
/// `T > p / k`, hence `⌊p / T⌋ ≤ k − 1` and the window holds at most
/// `units`.
fn strict_params(
    units: u32,
    period_ns: u64,
    burst: Option<u32>,
    err: impl Fn(&'static str, Rule) -> ConfigError,
) -> Result<Params, ConfigError> {
    let burst = burst.unwrap_or(1);
    if burst == 0 {
        return Err(err("burst", Rule::Zero));
    }
    if burst > units {
        return Err(err("burst", Rule::Other(STRICT_BURST)));
    }
    let refills = u64::from(units - burst) + 1;
    // At most period_ns / 1 + 1, which fits: period_ns < u64::MAX here
    // because it is at least `units` ≥ 1 and came from a u64.
    let interval = (period_ns / refills).saturating_add(1);
    if interval > MAX_TOLERANCE_NS {
        return Err(err("period", Rule::Other(PERIOD_PER_UNIT)));
    }
    let tolerance = interval
        .checked_mul(u64::from(burst))
        .filter(|&t| t <= MAX_TOLERANCE_NS)
        .ok_or_else(|| err("burst", Rule::TooLarge))?;
    Ok(Params {
        interval,
        burst,
        tolerance,
    })
}
