//! Netflix's Gradient2: compare the latency of each call with a long-run
//! average, and scale the limit by the ratio.

use super::algorithm::{Limit, Sample};
use super::bounds::{Bounds, check_fraction};
use crate::ConfigError;
use crate::util::check::Check;

const COMPONENT: &str = "Gradient2";

/// Samples averaged plainly before the long-run average turns exponential,
/// so that the first few calls do not dominate it.
const WARMUP: u32 = 10;

/// Scales the limit by how the latency of each call compares with the
/// long-run average latency, with room for a small queue.
///
/// With `short` the latency of this call and `long` an exponential average
/// over about `long_window` calls: `gradient = clamp(tolerance · long /
/// short, 0.5, 1)`, then `new = L · gradient + queue_size`, smoothed as
/// `L ← L · (1 − smoothing) + new · smoothing` and kept within `[min,
/// max]`. So the limit grows by about `queue_size · smoothing` per call
/// while calls are no slower than `tolerance ×` the average, and shrinks by
/// up to half when they are. When the average is more than twice the
/// latency of a call (the service got faster, or the average was inflated
/// by an overload), the average decays by 5 % per call so the limit can
/// recover. The limit does not grow while less than half of it is in use.
///
/// It decides on every call, as Netflix's does. Behind a saturated
/// bulkhead, where a round trip brings back as many samples as the limit,
/// each change is answered a round trip late and the limit swings widely
/// (in the knee simulation of `tests/adaptive.rs`, between about 0.2 and 3
/// times the knee); [`Vegas`](super::Vegas), which decides once per
/// window, settles there. Gradient2 suits services that are rarely
/// saturated by one client.
///
/// One addition to Netflix's rules: a dropped call multiplies the limit by
/// `backoff_ratio` (Netflix's Gradient2 ignores drops).
///
/// Defaults (Netflix's): initial 20, min 20, max 200, smoothing 0.2,
/// tolerance 1.5, queue size 4, long window 600, plus backoff 0.9.
///
/// ```
/// use std::time::Duration;
/// use weir_core::limit::{Gradient2, Limit, Sample};
///
/// let mut g = Gradient2::builder().min(1).initial(10).build()?;
/// let s = Sample { latency: Duration::from_millis(10), in_flight: 10, dropped: false };
/// g.on_sample(s); // 10 · 1 + 4, smoothed by 0.2: 10.8
/// assert_eq!(g.limit(), 10);
/// g.on_sample(s); // 11.6
/// assert_eq!(g.limit(), 11);
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Gradient2 {
    bounds: Bounds,
    limit: f64,
    smoothing: f64,
    tolerance: f64,
    queue_size: f64,
    backoff: f64,
    /// Exponential average of latencies, in seconds.
    long: f64,
    long_factor: f64,
    samples: u32,
}

impl Gradient2 {
    /// Starts configuring a Gradient2 limit.
    ///
    /// ```
    /// let g = weir_core::limit::Gradient2::builder().build().unwrap();
    /// # drop(g);
    /// ```
    pub fn builder() -> Gradient2Builder {
        Gradient2Builder {
            bounds: Bounds {
                initial: 20,
                min: 20,
                max: 200,
            },
            smoothing: 0.2,
            tolerance: 1.5,
            queue_size: 4,
            long_window: 600,
            backoff: 0.9,
        }
    }

    fn observe(&mut self, short: f64) -> f64 {
        self.samples = self.samples.saturating_add(1);
        if self.samples <= WARMUP {
            self.long += (short - self.long) / f64::from(self.samples);
        } else {
            self.long += (short - self.long) * self.long_factor;
        }
        if self.long / short > 2.0 {
            self.long *= 0.95;
        }
        self.long
    }
}

impl Limit for Gradient2 {
    fn limit(&self) -> u32 {
        self.limit as u32
    }

    fn on_sample(&mut self, s: Sample) -> u32 {
        if s.dropped {
            self.limit = self.bounds.clamp(self.limit * self.backoff);
            return self.limit();
        }
        // A zero latency gives no ratio to compare.
        if s.latency.is_zero() {
            return self.limit();
        }
        let short = s.latency.as_secs_f64();
        let long = self.observe(short);
        if f64::from(s.in_flight) * 2.0 < self.limit {
            return self.limit();
        }
        let gradient = (self.tolerance * long / short).clamp(0.5, 1.0);
        let target = self.limit * gradient + self.queue_size;
        let smoothed = self.limit * (1.0 - self.smoothing) + target * self.smoothing;
        self.limit = self.bounds.clamp(smoothed);
        self.limit()
    }
}

/// Configures a [`Gradient2`] limit.
///
/// ```
/// let g = weir_core::limit::Gradient2::builder()
///     .initial(10).min(1).max(500).smoothing(0.5).tolerance(2.0).queue_size(2).long_window(100)
///     .build()?;
/// # drop(g);
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing itself: call .build() to make the limit"]
pub struct Gradient2Builder {
    bounds: Bounds,
    smoothing: f64,
    tolerance: f64,
    queue_size: u32,
    long_window: u32,
    backoff: f64,
}

impl Gradient2Builder {
    /// The starting limit (default 20), within `[min, max]`.
    ///
    /// ```
    /// use weir_core::limit::{Gradient2, Limit};
    /// assert_eq!(Gradient2::builder().initial(30).build().unwrap().limit(), 30);
    /// ```
    pub fn initial(mut self, limit: u32) -> Self {
        self.bounds.initial = limit;
        self
    }

    /// The lowest limit (default 20; at least 1).
    ///
    /// ```
    /// assert!(weir_core::limit::Gradient2::builder().min(0).build().is_err());
    /// ```
    pub fn min(mut self, limit: u32) -> Self {
        self.bounds.min = limit;
        self
    }

    /// The highest limit (default 200).
    ///
    /// ```
    /// assert!(weir_core::limit::Gradient2::builder().max(10).build().is_err()); // min 20 > 10
    /// ```
    pub fn max(mut self, limit: u32) -> Self {
        self.bounds.max = limit;
        self
    }

    /// How far each call moves the limit toward its target, in `(0, 1]`
    /// (default 0.2).
    ///
    /// ```
    /// assert!(weir_core::limit::Gradient2::builder().smoothing(1.5).build().is_err());
    /// ```
    pub fn smoothing(mut self, smoothing: f64) -> Self {
        self.smoothing = smoothing;
        self
    }

    /// How much slower than the long-run average a call may be before the
    /// limit shrinks (default 1.5; a finite number of at least 1).
    ///
    /// ```
    /// assert!(weir_core::limit::Gradient2::builder().tolerance(0.5).build().is_err());
    /// ```
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Calls allowed to queue at the service: the growth per call before
    /// smoothing (default 4).
    ///
    /// ```
    /// let g = weir_core::limit::Gradient2::builder().queue_size(0).build();
    /// assert!(g.is_ok());
    /// ```
    pub fn queue_size(mut self, calls: u32) -> Self {
        self.queue_size = calls;
        self
    }

    /// Calls the long-run average spans (default 600; not zero).
    ///
    /// ```
    /// assert!(weir_core::limit::Gradient2::builder().long_window(0).build().is_err());
    /// ```
    pub fn long_window(mut self, calls: u32) -> Self {
        self.long_window = calls;
        self
    }

    /// What a dropped call multiplies the limit by (default 0.9; strictly
    /// between 0 and 1).
    ///
    /// ```
    /// assert!(weir_core::limit::Gradient2::builder().backoff_ratio(0.0).build().is_err());
    /// ```
    pub fn backoff_ratio(mut self, ratio: f64) -> Self {
        self.backoff = ratio;
        self
    }

    /// Checks the configuration.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the field: `min` zero or above `max`, `max`
    /// above 2³¹ − 1, `initial` outside `[min, max]`, `smoothing` outside
    /// `(0, 1]`, `tolerance` below 1, `long_window` zero, `backoff_ratio`
    /// outside `(0, 1)`; NaN anywhere.
    ///
    /// ```
    /// let e = weir_core::limit::Gradient2::builder().tolerance(f64::NAN).build().unwrap_err();
    /// assert_eq!(e.field(), "tolerance");
    /// ```
    pub fn build(self) -> Result<Gradient2, ConfigError> {
        let bounds = self.bounds.check(COMPONENT)?;
        let smoothing = check_fraction(COMPONENT, "smoothing", self.smoothing, true)?;
        let backoff = check_fraction(COMPONENT, "backoff_ratio", self.backoff, false)?;
        let c = Check::new(COMPONENT);
        c.finite_within("tolerance", self.tolerance, 1.0.., "1.0 <= x")?;
        c.positive("long_window", self.long_window)?;
        Ok(Gradient2 {
            bounds,
            limit: f64::from(bounds.initial),
            smoothing,
            tolerance: self.tolerance,
            queue_size: f64::from(self.queue_size),
            backoff,
            long: 0.0,
            long_factor: 2.0 / (f64::from(self.long_window) + 1.0),
            samples: 0,
        })
    }
}
