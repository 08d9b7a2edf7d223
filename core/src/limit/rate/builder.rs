//! Validating a rate limiter's configuration.

use core::fmt;
use core::marker::PhantomData;
use std::borrow::Cow;
use std::time::Duration;

use super::RateLimiter;
use super::clock::Clock;
use super::gcra::{MAX_TOLERANCE_NS, Params};
use crate::Runtime;
use crate::obs::{Name, rate::RateObs};
use crate::{ConfigError, Rule};

const COMPONENT: &str = "RateLimiter";
const NANOS_PER_SEC: f64 = 1e9;

// The rules for values whose derived interval or bucket depth exceeds
// MAX_TOLERANCE_NS, in words, so that the message names what to change.
const PERIOD_PER_UNIT: &str = "per unit must not exceed 146 years (2^62 ns)";
const PERIOD_WITH_DEFAULT_BURST: &str =
    "must not exceed 146 years (2^62 ns) unless a smaller `burst` is set";
const RATE_TOO_SLOW: &str = "must be at least one unit per 146 years (2^62 ns)";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Rate {
    PerPeriod(u32, Duration),
    PerSecond(f64),
}

/// Configures a [`RateLimiter`] (or a
/// [`KeyedRateLimiter`](crate::KeyedRateLimiter), whose
/// builder wraps this one).
///
/// The rate is required. The burst defaults to the units of one period
/// (`rate(50, 1 s)` allows 50 at once), as a token bucket of that size
/// would.
///
/// ```
/// use std::time::Duration;
/// use weir_core::RateLimiter;
/// # #[cfg(feature = "test-util")] {
/// let rt = weir_core::test_util::VirtualRuntime::new();
/// let limiter = RateLimiter::builder()
///     .rate(10, Duration::from_secs(1))
///     .burst(5)
///     .build(rt)?;
/// assert_eq!(limiter.burst(), 5);
/// # }
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
#[must_use = "a builder does nothing itself: call .build(rt) to make the limiter"]
pub struct RateLimiterBuilder<R> {
    config: Config,
    name: Name,
    _runtime: PhantomData<fn() -> R>,
}

/// The rate and burst as given, before validation; shared with the keyed
/// limiter's builder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Config {
    rate: Option<Rate>,
    burst: Option<u32>,
}

impl<R> fmt::Debug for RateLimiterBuilder<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiterBuilder")
            .field("rate", &self.config.rate)
            .field("burst", &self.config.burst)
            .field("name", &self.name)
            .finish()
    }
}

impl<R> Clone for RateLimiterBuilder<R> {
    fn clone(&self) -> Self {
        RateLimiterBuilder {
            config: self.config,
            name: self.name.clone(),
            _runtime: PhantomData,
        }
    }
}

impl<R: Runtime> RateLimiterBuilder<R> {
    pub(crate) fn new() -> Self {
        RateLimiterBuilder {
            config: Config::new(),
            name: Name::default(),
            _runtime: PhantomData,
        }
    }

    /// Names the limiter in its tracing events and metric labels (the
    /// `name` label; see [`obs`](crate::obs)). Default: `"default"`.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let l = weir_core::RateLimiter::builder().rate(5, std::time::Duration::from_secs(1))
    ///     .name("api").build(weir_core::test_util::VirtualRuntime::new());
    /// assert!(l.is_ok());
    /// # }
    /// ```
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Name::new(name);
        self
    }

    /// `units` per `period`: one unit every `period / units` (rounded up to
    /// the whole nanosecond, so rounding never admits more than asked).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::RateLimiter::builder().rate(3, Duration::from_secs(1)).build(rt)?;
    /// assert_eq!(l.interval(), Duration::from_nanos(333_333_334));
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn rate(mut self, units: u32, period: Duration) -> Self {
        self.config.set_rate(units, period);
        self
    }

    /// `units_per_second` units per second, fractional rates allowed (0.5 is
    /// one unit every two seconds). NaN, infinite, zero and negative rates
    /// are refused by [`build`](Self::build).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::RateLimiter::builder().rate_per_second(0.5).build(rt)?;
    /// assert_eq!(l.interval(), std::time::Duration::from_secs(2));
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn rate_per_second(mut self, units_per_second: f64) -> Self {
        self.config.set_rate_per_second(units_per_second);
        self
    }

    /// The bucket size: how many units may pass at once after a quiet spell,
    /// and the most one request may take.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::RateLimiter::builder()
    ///     .rate(100, Duration::from_secs(1))
    ///     .burst(10)
    ///     .build(rt)?;
    /// assert!(l.try_acquire_many(10).is_ok());
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn burst(mut self, units: u32) -> Self {
        self.config.set_burst(units);
        self
    }

    /// Leaky-bucket pacing: no burst, units pass evenly spaced one interval
    /// apart. Shorthand for `burst(1)` (the later call of the two wins); a
    /// request for more than one unit then fails with
    /// [`InsufficientCapacity`](super::InsufficientCapacity).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::RateLimiter::builder()
    ///     .rate(10, Duration::from_secs(1))
    ///     .pacing()
    ///     .build(rt)?;
    /// assert!(l.try_acquire().is_ok());
    /// assert!(l.try_acquire().is_err()); // no burst: the next unit is 100 ms away
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn pacing(self) -> Self {
        self.burst(1)
    }

    /// Builds the limiter on `rt`'s clock, with a full bucket.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the field the caller set, never one left
    /// at its default:
    ///
    /// * `rate` when unset ([`Rule::Missing`]), zero, not finite, negative,
    ///   faster than one unit per nanosecond ([`Rule::TooLarge`]), or (per
    ///   second) slower than one unit per 146 years;
    /// * `period` when zero, longer than 584 years ([`Rule::TooLarge`]),
    ///   longer than 146 years per unit, or longer than 146 years while no
    ///   `burst` is set (the default burst holds one period's units, so the
    ///   bucket would be that deep);
    /// * `burst` when zero, or when a burst that was set times the interval
    ///   exceeds 146 years ([`Rule::TooLarge`]).
    ///
    /// 146 years is 2^62 ns, the deepest bucket the state word can hold.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_core::RateLimiter;
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let err = RateLimiter::builder().rate(0, Duration::from_secs(1)).build(rt.clone()).unwrap_err();
    /// assert_eq!(err.field(), "rate");
    /// // One unit per 200 years: the period is named, not the unset burst.
    /// let two_centuries = Duration::from_secs(200 * 365 * 24 * 3600);
    /// let err = RateLimiter::builder().rate(1, two_centuries).build(rt).unwrap_err();
    /// assert_eq!(err.field(), "period");
    /// # }
    /// ```
    pub fn build(self, rt: R) -> Result<RateLimiter<R>, ConfigError> {
        let clock = rt.clone();
        self.build_with_clock(rt, clock)
    }

    /// Builds the limiter on `rt`'s timer for waits and on `clock` for
    /// checks. The two should tell the same time (both monotonic, same
    /// rate); a clock that runs ahead of the runtime's makes waiters wake
    /// early and check again, never admits early.
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build).
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_core::{RateLimiter, limit::StdClock};
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let limiter = RateLimiter::builder()
    ///     .rate(1000, Duration::from_secs(1))
    ///     .build_with_clock(rt, StdClock)?;
    /// assert!(limiter.try_acquire().is_ok());
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn build_with_clock<C: Clock>(
        self,
        rt: R,
        clock: C,
    ) -> Result<RateLimiter<R, C>, ConfigError> {
        let params = self.config.params(COMPONENT)?;
        Ok(RateLimiter::from_parts(
            rt,
            clock,
            params,
            RateObs::rate(self.name),
        ))
    }
}

impl Config {
    pub(crate) const fn new() -> Self {
        Config {
            rate: None,
            burst: None,
        }
    }

    pub(crate) fn set_rate(&mut self, units: u32, period: Duration) {
        self.rate = Some(Rate::PerPeriod(units, period));
    }

    pub(crate) fn set_rate_per_second(&mut self, units_per_second: f64) {
        self.rate = Some(Rate::PerSecond(units_per_second));
    }

    pub(crate) fn set_burst(&mut self, units: u32) {
        self.burst = Some(units);
    }

    /// Checks the configuration and turns it into GCRA parameters.
    pub(crate) fn params(&self, component: &'static str) -> Result<Params, ConfigError> {
        let err = |field, rule| ConfigError::new(component, field, rule);
        let (interval, default_burst) = match self.rate {
            None => return Err(err("rate", Rule::Missing)),
            Some(Rate::PerPeriod(units, period)) => {
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
                let units_ns = u128::from(units);
                if period_ns < units_ns {
                    // More than one unit per nanosecond: the interval would
                    // round to zero and the limiter would admit everything.
                    return Err(err("rate", Rule::TooLarge));
                }
                // Fits: at most period_ns, which fits u64.
                let interval = period_ns.div_ceil(units_ns) as u64;
                if interval > MAX_TOLERANCE_NS {
                    // Too slow for any burst, so the period is at fault.
                    return Err(err("period", Rule::Other(PERIOD_PER_UNIT)));
                }
                (interval, units)
            }
            Some(Rate::PerSecond(r)) => {
                if !r.is_finite() {
                    return Err(err("rate", Rule::NotFinite));
                }
                if r == 0.0 {
                    return Err(err("rate", Rule::Zero));
                }
                if r < 0.0 {
                    return Err(err("rate", Rule::OutOfRange("> 0.0")));
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
