//! A delay-driven limit after TCP Vegas: estimate the queue the limit
//! builds at the service, and keep it small.

use std::time::Duration;

use super::algorithm::{Limit, Sample};
use super::bounds::{Bounds, check_fraction};
use crate::ConfigError;

const COMPONENT: &str = "Vegas";

/// A window never holds fewer samples than this, so a small limit is not
/// steered by one or two calls.
const MIN_WINDOW: u32 = 10;

/// Keeps the queue that the limit builds at the service between α and β
/// calls.
///
/// The unloaded latency is the smallest latency seen. With `L` the limit
/// and `rtt` the mean latency of a window of samples, the calls queued at
/// the service are estimated as `⌈L · (1 − rtt_noload / rtt)⌉`. With
/// `log = max(1, ⌊log₁₀ L⌋)`, α = 3·log, β = 6·log:
///
/// * estimate ≤ log: the service is idle, grow fast (`L + β`);
/// * estimate < α: grow (`L + log`);
/// * estimate > β, or a drop anywhere in the window: shrink (`L − log`);
/// * otherwise hold.
///
/// These are Netflix's `VegasLimit` rules with one change: the decision is
/// taken once per window of `max(L, 10)` samples (about one round trip at
/// full load) instead of once per sample. Per-sample steps react to calls
/// admitted a whole round trip earlier, and overshoot by up to a round
/// trip's worth of samples; one step per window is what TCP Vegas does.
/// The limit does not grow while less than half of it is in use.
///
/// The unloaded latency is never re-probed: if the service gets
/// permanently slower, the limit settles lower than it needs to (within
/// `[min, max]`). Build a new `Vegas` to forget it.
///
/// Defaults: initial 20, min 1, max 1000, smoothing 1.0 (no smoothing).
///
/// ```
/// use std::time::Duration;
/// use weir_core::limit::{Limit, Sample, Vegas};
///
/// let mut vegas = Vegas::builder().initial(20).build()?;
/// let fast = Sample { latency: Duration::from_millis(10), in_flight: 20, dropped: false };
/// for _ in 0..20 {
///     vegas.on_sample(fast);
/// }
/// // One full window without queueing: grows by β = 6.
/// assert_eq!(vegas.limit(), 26);
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Vegas {
    bounds: Bounds,
    limit: f64,
    smoothing: f64,
    rtt_noload: Option<Duration>,
    window: Window,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Window {
    samples: u32,
    /// Samples with a latency above zero, and their sum.
    timed: u32,
    total: Duration,
    max_in_flight: u32,
    dropped: bool,
}

impl Vegas {
    /// Starts configuring a Vegas limit.
    ///
    /// ```
    /// let vegas = weir_core::limit::Vegas::builder().max(200).build().unwrap();
    /// # drop(vegas);
    /// ```
    pub fn builder() -> VegasBuilder {
        VegasBuilder {
            bounds: Bounds {
                initial: 20,
                min: 1,
                max: 1000,
            },
            smoothing: 1.0,
        }
    }

    /// The unloaded latency estimate: the smallest latency seen so far.
    ///
    /// ```
    /// use weir_core::limit::Vegas;
    /// assert_eq!(Vegas::builder().build().unwrap().rtt_noload(), None);
    /// ```
    pub fn rtt_noload(&self) -> Option<Duration> {
        self.rtt_noload
    }

    fn decide(&self, w: Window, noload: Duration) -> f64 {
        let limit = self.limit;
        let log = limit.log10().floor().max(1.0);
        let (alpha, beta) = (3.0 * log, 6.0 * log);
        if w.dropped {
            return limit - log;
        }
        if f64::from(w.max_in_flight) * 2.0 < limit || w.timed == 0 {
            return limit;
        }
        let rtt = w.total.as_secs_f64() / f64::from(w.timed);
        let queue = (limit * (1.0 - noload.as_secs_f64() / rtt)).ceil();
        if queue <= log {
            limit + beta
        } else if queue < alpha {
            limit + log
        } else if queue > beta {
            limit - log
        } else {
            limit
        }
    }
}

impl Limit for Vegas {
    fn limit(&self) -> u32 {
        self.limit as u32
    }

    fn on_sample(&mut self, s: Sample) -> u32 {
        // A zero latency says nothing about queueing (and would make every
        // later call look queued); only its loss signal counts.
        if !s.latency.is_zero() {
            self.rtt_noload = Some(self.rtt_noload.map_or(s.latency, |m| m.min(s.latency)));
            self.window.timed += 1;
            self.window.total = self.window.total.saturating_add(s.latency);
        }
        self.window.samples += 1;
        self.window.max_in_flight = self.window.max_in_flight.max(s.in_flight);
        self.window.dropped |= s.dropped;
        if self.window.samples < (self.limit as u32).max(MIN_WINDOW) {
            return self.limit();
        }
        let window = std::mem::take(&mut self.window);
        // No latency yet means no timed sample in the window, which
        // `decide` answers without it.
        let noload = self.rtt_noload.unwrap_or(Duration::ZERO);
        let target = self.decide(window, noload);
        let smoothed = (1.0 - self.smoothing) * self.limit + self.smoothing * target;
        self.limit = self.bounds.clamp(smoothed);
        self.limit()
    }
}

/// Configures a [`Vegas`] limit.
///
/// ```
/// let vegas = weir_core::limit::Vegas::builder()
///     .initial(10).min(2).max(500).smoothing(0.5)
///     .build()?;
/// # drop(vegas);
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing itself: call .build() to make the limit"]
pub struct VegasBuilder {
    bounds: Bounds,
    smoothing: f64,
}

impl VegasBuilder {
    /// The starting limit (default 20), within `[min, max]`.
    ///
    /// ```
    /// use weir_core::limit::{Limit, Vegas};
    /// assert_eq!(Vegas::builder().initial(5).build().unwrap().limit(), 5);
    /// ```
    pub fn initial(mut self, limit: u32) -> Self {
        self.bounds.initial = limit;
        self
    }

    /// The lowest limit (default 1; at least 1).
    ///
    /// ```
    /// assert!(weir_core::limit::Vegas::builder().min(0).build().is_err());
    /// ```
    pub fn min(mut self, limit: u32) -> Self {
        self.bounds.min = limit;
        self
    }

    /// The highest limit (default 1000).
    ///
    /// ```
    /// assert!(weir_core::limit::Vegas::builder().max(10).build().is_err()); // initial 20 > 10
    /// ```
    pub fn max(mut self, limit: u32) -> Self {
        self.bounds.max = limit;
        self
    }

    /// How far each decision moves the limit toward its target, in `(0, 1]`
    /// (default 1: all the way).
    ///
    /// ```
    /// assert!(weir_core::limit::Vegas::builder().smoothing(0.0).build().is_err());
    /// ```
    pub fn smoothing(mut self, smoothing: f64) -> Self {
        self.smoothing = smoothing;
        self
    }

    /// Checks the configuration.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the field: `min` zero or above `max`, `max`
    /// above 2³¹ − 1, `initial` outside `[min, max]`, `smoothing` NaN or
    /// outside `(0, 1]`.
    ///
    /// ```
    /// let e = weir_core::limit::Vegas::builder().smoothing(f64::NAN).build().unwrap_err();
    /// assert_eq!(e.field(), "smoothing");
    /// ```
    pub fn build(self) -> Result<Vegas, ConfigError> {
        let bounds = self.bounds.check(COMPONENT)?;
        let smoothing = check_fraction(COMPONENT, "smoothing", self.smoothing, true)?;
        Ok(Vegas {
            bounds,
            limit: f64::from(bounds.initial),
            smoothing,
            rtt_noload: None,
            window: Window::default(),
        })
    }
}
