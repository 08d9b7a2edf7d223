//! Additive increase, multiplicative decrease: the simplest loss-driven
//! limit.

use std::time::Duration;

use super::algorithm::{Limit, Sample};
use super::bounds::{Bounds, check_fraction};
use crate::ConfigError;
use crate::util::check::Check;

const COMPONENT: &str = "Aimd";

/// Grows the limit by one per sample while the limit is being used, and
/// multiplies it by `backoff_ratio` on a drop or a call slower than
/// `timeout` (a timeout is a loss, not a long success).
///
/// One congestion event backs off once, as in TCP: after a decrease, the
/// losses reported by the next `limit` samples (the calls that were already
/// in flight when it happened) do not decrease it again. Without that rule
/// a burst of timeouts from one overshoot multiplies the limit by 0.9 once
/// per call and drives it to `min`.
///
/// The limit grows only while at least half of it is in use (`in_flight ×
/// 2 ≥ limit`): an idle service proves nothing about a higher limit. The
/// limit is kept as a real number, so repeated decreases of a small limit
/// do not get stuck on integer rounding; the limit used is its integer
/// part, within `[min, max]`.
///
/// Defaults: initial 20, min 1, max 200, backoff 0.9, timeout 5 s.
///
/// ```
/// use std::time::Duration;
/// use weir_core::limit::{Aimd, Limit, Sample};
///
/// let mut aimd = Aimd::builder().initial(10).build()?;
/// let ok = Sample { latency: Duration::from_millis(5), in_flight: 10, dropped: false };
/// assert_eq!(aimd.on_sample(ok), 11);
/// assert_eq!(aimd.on_sample(Sample { dropped: true, ..ok }), 9); // 11 × 0.9
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Aimd {
    bounds: Bounds,
    limit: f64,
    backoff: f64,
    timeout: Duration,
    /// Samples still to come from calls admitted before the last decrease;
    /// their losses belong to the congestion already answered.
    recovering: u32,
}

impl Aimd {
    /// Starts configuring an AIMD limit.
    ///
    /// ```
    /// let aimd = weir_core::limit::Aimd::builder().min(2).max(64).build().unwrap();
    /// # drop(aimd);
    /// ```
    pub fn builder() -> AimdBuilder {
        AimdBuilder {
            bounds: Bounds {
                initial: 20,
                min: 1,
                max: 200,
            },
            backoff: 0.9,
            timeout: Duration::from_secs(5),
        }
    }
}

impl Limit for Aimd {
    fn limit(&self) -> u32 {
        self.limit as u32
    }

    fn on_sample(&mut self, s: Sample) -> u32 {
        let lost = s.dropped || s.latency > self.timeout;
        if self.recovering > 0 {
            self.recovering -= 1;
        }
        if lost && self.recovering == 0 {
            self.recovering = self.limit as u32;
            self.limit *= self.backoff;
        } else if lost {
            // Same congestion event: already backed off for it.
        } else if f64::from(s.in_flight) * 2.0 >= self.limit {
            self.limit += 1.0;
        }
        self.limit = self.bounds.clamp(self.limit);
        self.limit()
    }
}

/// Configures an [`Aimd`] limit.
///
/// ```
/// use std::time::Duration;
/// let aimd = weir_core::limit::Aimd::builder()
///     .initial(10).min(1).max(100).backoff_ratio(0.5).timeout(Duration::from_secs(1))
///     .build()?;
/// # drop(aimd);
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing itself: call .build() to make the limit"]
pub struct AimdBuilder {
    bounds: Bounds,
    backoff: f64,
    timeout: Duration,
}

impl AimdBuilder {
    /// The starting limit (default 20), within `[min, max]`.
    ///
    /// ```
    /// use weir_core::limit::{Aimd, Limit};
    /// assert_eq!(Aimd::builder().initial(7).build().unwrap().limit(), 7);
    /// ```
    pub fn initial(mut self, limit: u32) -> Self {
        self.bounds.initial = limit;
        self
    }

    /// The lowest limit (default 1; at least 1).
    ///
    /// ```
    /// assert!(weir_core::limit::Aimd::builder().min(0).build().is_err());
    /// ```
    pub fn min(mut self, limit: u32) -> Self {
        self.bounds.min = limit;
        self
    }

    /// The highest limit (default 200).
    ///
    /// ```
    /// assert!(weir_core::limit::Aimd::builder().max(10).build().is_err()); // initial 20 > 10
    /// ```
    pub fn max(mut self, limit: u32) -> Self {
        self.bounds.max = limit;
        self
    }

    /// What a drop multiplies the limit by (default 0.9; strictly between 0
    /// and 1).
    ///
    /// ```
    /// assert!(weir_core::limit::Aimd::builder().backoff_ratio(f64::NAN).build().is_err());
    /// ```
    pub fn backoff_ratio(mut self, ratio: f64) -> Self {
        self.backoff = ratio;
        self
    }

    /// A call slower than this counts as dropped (default 5 s; not zero).
    ///
    /// ```
    /// use std::time::Duration;
    /// assert!(weir_core::limit::Aimd::builder().timeout(Duration::ZERO).build().is_err());
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the configuration.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the field: `min` zero or above `max`, `max`
    /// above 2³¹ − 1, `initial` outside `[min, max]`, `backoff_ratio` NaN or
    /// outside `(0, 1)`, `timeout` zero.
    ///
    /// ```
    /// let e = weir_core::limit::Aimd::builder().min(5).max(4).initial(4).build().unwrap_err();
    /// assert_eq!(e.field(), "min");
    /// ```
    pub fn build(self) -> Result<Aimd, ConfigError> {
        let bounds = self.bounds.check(COMPONENT)?;
        let backoff = check_fraction(COMPONENT, "backoff_ratio", self.backoff, false)?;
        Check::new(COMPONENT).positive("timeout", self.timeout)?;
        Ok(Aimd {
            bounds,
            limit: f64::from(bounds.initial),
            backoff,
            timeout: self.timeout,
            recovering: 0,
        })
    }
}
