//! Validating a rate limiter's configuration.

use core::fmt;
use core::marker::PhantomData;
use std::borrow::Cow;

use super::Quota;
use super::RateLimiter;
use super::clock::Clock;
use super::gcra::Params;
use crate::Runtime;
use crate::obs::{Name, rate::RateObs};
use crate::{ConfigError, Rule};

const COMPONENT: &str = "RateLimiter";

/// Configures a [`RateLimiter`]: its [`Quota`] (required; the same value
/// configures a [`KeyedRateLimiter`](crate::KeyedRateLimiter))
/// and its name.
///
/// ```
/// use weir_core::{Quota, RateLimiter};
/// # #[cfg(feature = "test-util")] {
/// let rt = weir_core::test_util::VirtualRuntime::new();
/// let limiter = RateLimiter::builder()
///     .quota(Quota::per_second(10).burst(5))
///     .build(rt)?;
/// assert_eq!(limiter.burst(), 5);
/// # }
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
#[must_use = "a builder does nothing itself: call .build(rt) to make the limiter"]
pub struct RateLimiterBuilder<R> {
    quota: Option<Quota>,
    name: Name,
    _runtime: PhantomData<fn() -> R>,
}

impl<R> fmt::Debug for RateLimiterBuilder<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiterBuilder")
            .field("quota", &self.quota)
            .field("name", &self.name)
            .finish()
    }
}

impl<R> Clone for RateLimiterBuilder<R> {
    fn clone(&self) -> Self {
        RateLimiterBuilder {
            quota: self.quota,
            name: self.name.clone(),
            _runtime: PhantomData,
        }
    }
}

impl<R: Runtime> RateLimiterBuilder<R> {
    pub(crate) fn new() -> Self {
        RateLimiterBuilder {
            quota: None,
            name: Name::default(),
            _runtime: PhantomData,
        }
    }

    /// Names the limiter in its tracing events and metric labels (the
    /// `name` label; see [`obs`](crate::obs)). Default: `"default"`.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let l = weir_core::RateLimiter::builder().quota(weir_core::Quota::new(5, std::time::Duration::from_secs(1)))
    ///     .name("api").build(weir_core::test_util::VirtualRuntime::new());
    /// assert!(l.is_ok());
    /// # }
    /// ```
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Name::new(name);
        self
    }

    /// What the limiter admits (required): the rate, the burst and the
    /// bound they make. See [`Quota`] for the two bounds (token bucket,
    /// strict window) and the headroom rule for matching a server's quota.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::{Quota, RateLimiter};
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = RateLimiter::builder().quota(Quota::per_second(100).burst(10)).build(rt)?;
    /// assert_eq!(l.burst(), 10);
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn quota(mut self, quota: Quota) -> Self {
        self.quota = Some(quota);
        self
    }

    /// Builds the limiter on `rt`'s clock, with a full bucket.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `quota` when none was given
    /// ([`Rule::Missing`]), or the quota's field at fault (`rate`, `period`,
    /// `burst`) as [`Quota::validate`] lists them.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_core::{Quota, RateLimiter};
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let err = RateLimiter::builder().build(rt.clone()).unwrap_err();
    /// assert_eq!(err.field(), "quota");
    /// let err = RateLimiter::builder().quota(Quota::new(0, Duration::from_secs(1))).build(rt).unwrap_err();
    /// assert_eq!((err.component(), err.field()), ("RateLimiter", "rate"));
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
    ///     .quota(weir_core::Quota::new(1000, Duration::from_secs(1)))
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
        let params = params(self.quota, COMPONENT)?;
        Ok(RateLimiter::from_parts(
            rt,
            clock,
            params,
            RateObs::rate(self.name),
        ))
    }
}

/// The quota's parameters, or why there are none; shared with the keyed
/// limiter's builder.
pub(crate) fn params(quota: Option<Quota>, component: &'static str) -> Result<Params, ConfigError> {
    quota
        .ok_or(ConfigError::new(component, "quota", Rule::Missing))?
        .params(component)
}
