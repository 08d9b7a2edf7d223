//! Configuration of a [`CircuitBreaker`], validated by `build`.

use core::fmt;
use core::ops::Bound;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use super::state_machine::{CLOSED, Config, Core, Trip, probe_limit};
use super::window::{MAX_COUNT, Window};
use super::{CircuitBreaker, ErrorIsFailure, Inner, State, Transition};
use crate::Runtime;
use crate::obs::{Name, breaker::BreakerObs};
use crate::util::check::Check;
use crate::{ConfigError, Rule};

const C: Check = Check::new("CircuitBreaker");

#[derive(Debug, Clone, Copy)]
enum Mode {
    Count(u32),
    Time(Duration, u32),
    Consecutive(u32),
}

pub(crate) type Listener = Box<dyn Fn(&Transition) + Send + Sync>;

/// Builds a [`CircuitBreaker`]; every field is checked by
/// [`build`](CircuitBreakerBuilder::build).
///
/// Defaults: count window of 100 calls, `min_calls` 100, failure rate 0.5, no
/// slow-call rule, open for 60 s (no growth), 10 half-open probes, half-open
/// timeout 60 s, every `Err` a failure.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::CircuitBreaker;
///
/// let rt = weir_core::test_util::VirtualRuntime::new();
/// let breaker = CircuitBreaker::builder()
///     .failure_rate(0.5)
///     .window_count(20)
///     .min_calls(10)
///     .open_for(Duration::from_secs(30))
///     .half_open_calls(3)
///     .build(rt)
///     .unwrap();
/// # drop(breaker);
/// # }
/// ```
#[must_use = "a builder does nothing itself: call .build() to get a CircuitBreaker"]
pub struct CircuitBreakerBuilder<Cl = ErrorIsFailure> {
    mode: Mode,
    min_calls: Option<u32>,
    failure_rate: f64,
    slow_rate: Option<f64>,
    slow_duration: Option<Duration>,
    open_for: Duration,
    open_multiplier: f64,
    max_open: Option<Duration>,
    half_open_calls: u32,
    half_open_timeout: Duration,
    classifier: Cl,
    listener: Option<Listener>,
    name: Name,
}

impl<Cl> fmt::Debug for CircuitBreakerBuilder<Cl> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreakerBuilder")
            .field("mode", &self.mode)
            .field("min_calls", &self.min_calls)
            .field("failure_rate", &self.failure_rate)
            .field("slow_rate", &self.slow_rate)
            .field("slow_duration", &self.slow_duration)
            .field("open_for", &self.open_for)
            .field("open_multiplier", &self.open_multiplier)
            .field("max_open", &self.max_open)
            .field("half_open_calls", &self.half_open_calls)
            .field("half_open_timeout", &self.half_open_timeout)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Default for CircuitBreakerBuilder {
    fn default() -> Self {
        CircuitBreakerBuilder {
            mode: Mode::Count(100),
            min_calls: None,
            failure_rate: 0.5,
            slow_rate: None,
            slow_duration: None,
            open_for: Duration::from_secs(60),
            open_multiplier: 1.0,
            max_open: None,
            half_open_calls: 10,
            half_open_timeout: Duration::from_secs(60),
            classifier: ErrorIsFailure,
            listener: None,
            name: Name::default(),
        }
    }
}

impl<Cl> CircuitBreakerBuilder<Cl> {
    /// Judges the last `n` recorded calls (ignored calls do not count).
    ///
    /// ```
    /// let b = weir_core::CircuitBreaker::builder().window_count(50).min_calls(50);
    /// # drop(b);
    /// ```
    pub fn window_count(mut self, n: u32) -> Self {
        self.mode = Mode::Count(n);
        self
    }

    /// Judges the calls of the last `window`, kept in `buckets` buckets of
    /// `window / buckets` each; a whole bucket leaves the window at once.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = weir_core::CircuitBreaker::builder()
    ///     .window_time(Duration::from_secs(10), 10);
    /// # drop(b);
    /// ```
    pub fn window_time(mut self, window: Duration, buckets: u32) -> Self {
        self.mode = Mode::Time(window, buckets);
        self
    }

    /// Opens after `n` failures in a row; a success resets the run. The
    /// failure rate, slow-call rule and `min_calls` do not apply.
    ///
    /// ```
    /// let b = weir_core::CircuitBreaker::builder().consecutive_failures(5);
    /// # drop(b);
    /// ```
    pub fn consecutive_failures(mut self, n: u32) -> Self {
        self.mode = Mode::Consecutive(n);
        self
    }

    /// Calls the window must hold before it is judged (default: the count
    /// window's size, or 100). Must not exceed a count window's size.
    ///
    /// ```
    /// let b = weir_core::CircuitBreaker::builder().min_calls(10);
    /// # drop(b);
    /// ```
    pub fn min_calls(mut self, n: u32) -> Self {
        self.min_calls = Some(n);
        self
    }

    /// Opens when failures / calls >= `rate`, in `(0, 1]`.
    ///
    /// ```
    /// let b = weir_core::CircuitBreaker::builder().failure_rate(0.25);
    /// # drop(b);
    /// ```
    pub fn failure_rate(mut self, rate: f64) -> Self {
        self.failure_rate = rate;
        self
    }

    /// Opens when slow calls / calls >= `rate`, in `(0, 1]`; a call is slow
    /// when it takes longer than `duration` (strictly), whether it
    /// succeeded or failed.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = weir_core::CircuitBreaker::builder()
    ///     .slow_calls(0.8, Duration::from_secs(2));
    /// # drop(b);
    /// ```
    pub fn slow_calls(mut self, rate: f64, duration: Duration) -> Self {
        self.slow_rate = Some(rate);
        self.slow_duration = Some(duration);
        self
    }

    /// How long the breaker stays open before it admits probes.
    ///
    /// ```
    /// let b = weir_core::CircuitBreaker::builder()
    ///     .open_for(std::time::Duration::from_secs(5));
    /// # drop(b);
    /// ```
    pub fn open_for(mut self, d: Duration) -> Self {
        self.open_for = d;
        self
    }

    /// Grows the open duration on repeated openings without a close in
    /// between: the k-th lasts `open_for * multiplier^(k-1)`, at most
    /// `max`. `multiplier` must be finite and >= 1.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = weir_core::CircuitBreaker::builder()
    ///     .open_for(Duration::from_secs(1))
    ///     .open_backoff(2.0, Duration::from_secs(60));
    /// # drop(b);
    /// ```
    pub fn open_backoff(mut self, multiplier: f64, max: Duration) -> Self {
        self.open_multiplier = multiplier;
        self.max_open = Some(max);
        self
    }

    /// How many probes half-open admits in total; the verdict comes after
    /// that many outcomes, or earlier once enough probes failed to reopen.
    ///
    /// ```
    /// let b = weir_core::CircuitBreaker::builder().half_open_calls(3);
    /// # drop(b);
    /// ```
    pub fn half_open_calls(mut self, n: u32) -> Self {
        self.half_open_calls = n;
        self
    }

    /// How long half-open waits for its probes' verdict. Past it, once all
    /// probes are out, the next call reopens the breaker (a hung probe
    /// counts as failed).
    ///
    /// ```
    /// let b = weir_core::CircuitBreaker::builder()
    ///     .half_open_timeout(std::time::Duration::from_secs(10));
    /// # drop(b);
    /// ```
    pub fn half_open_timeout(mut self, d: Duration) -> Self {
        self.half_open_timeout = d;
        self
    }

    /// Classifies each result as success, failure or ignored; see
    /// [`Classify`](super::Classify).
    ///
    /// ```
    /// use weir_core::{CircuitBreaker, resilience::Outcome};
    /// let b = CircuitBreaker::builder().classifier(|r: &Result<u16, ()>| match r {
    ///     Ok(status) if *status >= 500 => Outcome::Failure,
    ///     Ok(_) => Outcome::Success,
    ///     Err(()) => Outcome::Ignored,
    /// });
    /// # drop(b);
    /// ```
    pub fn classifier<C2>(self, classifier: C2) -> CircuitBreakerBuilder<C2> {
        CircuitBreakerBuilder {
            mode: self.mode,
            min_calls: self.min_calls,
            failure_rate: self.failure_rate,
            slow_rate: self.slow_rate,
            slow_duration: self.slow_duration,
            open_for: self.open_for,
            open_multiplier: self.open_multiplier,
            max_open: self.max_open,
            half_open_calls: self.half_open_calls,
            half_open_timeout: self.half_open_timeout,
            classifier,
            listener: self.listener,
            name: self.name,
        }
    }

    /// Calls `f` after every state change, outside any lock, on the thread
    /// that caused it.
    ///
    /// A transition can be caused by a call that panicked: its permit
    /// records the failure while the panic unwinds, and `f` runs then. A
    /// panic in `f` is therefore always contained: caught, counted in
    /// [`Stats::listener_panics`](super::Stats::listener_panics) and left to
    /// the panic hook to report; the breaker's state and the caller's result
    /// (or panic) are unaffected.
    ///
    /// ```
    /// let b = weir_core::CircuitBreaker::builder()
    ///     .on_transition(|t| eprintln!("breaker: {:?} -> {:?}", t.from, t.to));
    /// # drop(b);
    /// ```
    pub fn on_transition(mut self, f: impl Fn(&Transition) + Send + Sync + 'static) -> Self {
        self.listener = Some(Box::new(f));
        self
    }

    /// Names the breaker in its tracing events and metric labels (the
    /// `name` label; see [`obs`](crate::obs)). Default: `"default"`.
    ///
    /// ```
    /// let b = weir_core::CircuitBreaker::builder().name("search");
    /// # drop(b);
    /// ```
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Name::new(name);
        self
    }

    /// Checks every field and builds the breaker on `rt`'s clock.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the first bad field: a zero window, count,
    /// duration or probe count; a rate outside `(0, 1]` or NaN; `min_calls`
    /// above a count window; a window of more than 2^19 calls; time buckets
    /// shorter than a nanosecond or more than 1024; an open multiplier
    /// below 1 or not finite; `max` below `open_for`; slow-call rules or
    /// `min_calls` with consecutive mode.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::CircuitBreaker;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let e = CircuitBreaker::builder().failure_rate(f64::NAN).build(rt).unwrap_err();
    /// assert_eq!(e.field(), "failure_rate");
    /// # }
    /// ```
    pub fn build<R: Runtime>(self, rt: R) -> Result<CircuitBreaker<R, Cl>, ConfigError> {
        let (window, trip) = match self.mode {
            Mode::Count(n) => {
                C.positive("window_count", n)?;
                C.at_most("window_count", n, MAX_COUNT)?;
                let min = self.min_calls.unwrap_or(n);
                C.not_above("min_calls", min, "window_count", n)?;
                (Window::count(n), self.rate_trip(min)?)
            }
            Mode::Time(d, buckets) => {
                C.positive("window_time", d)?;
                C.positive("buckets", buckets)?;
                C.require(
                    buckets <= 1024 && d.as_nanos() >= u128::from(buckets),
                    "buckets",
                    Rule::OutOfRange("1..=1024, at most one per nanosecond"),
                )?;
                let bucket_ns = C.fits("window_time", d.as_nanos() / u128::from(buckets))?;
                (
                    Window::time(buckets, bucket_ns),
                    self.rate_trip(self.min_calls.unwrap_or(100))?,
                )
            }
            Mode::Consecutive(n) => {
                C.positive("consecutive_failures", n)?;
                C.require(
                    self.slow_rate.is_none(),
                    "slow_calls",
                    Rule::Other("needs a sliding window, not consecutive_failures"),
                )?;
                C.require(
                    self.min_calls.is_none(),
                    "min_calls",
                    Rule::Other("does not apply to consecutive_failures"),
                )?;
                (Window::consecutive(), Trip::Consecutive(n))
            }
        };
        let open_ns = nanos(self.open_for, "open_for")?;
        C.finite_within("open_backoff", self.open_multiplier, 1.0.., "1.0..")?;
        let max_open_ns = match self.max_open {
            Some(m) => {
                C.not_below("open_backoff", m, "open_for", self.open_for)?;
                u64::try_from(m.as_nanos()).unwrap_or(u64::MAX)
            }
            None => open_ns,
        };
        C.positive("half_open_calls", self.half_open_calls)?;
        C.at_most("half_open_calls", self.half_open_calls, MAX_COUNT)?;
        let half_open_timeout_ns = nanos(self.half_open_timeout, "half_open_timeout")?;
        let n = self.half_open_calls;
        let (probe_fail_limit, probe_slow_limit) = match trip {
            // In a run-of-failures breaker any failing probe reopens.
            Trip::Consecutive(_) => (1, u32::MAX),
            Trip::Rate {
                failure_rate,
                slow_rate,
                ..
            } => (
                probe_limit(failure_rate, n),
                slow_rate.map_or(u32::MAX, |s| probe_limit(s, n)),
            ),
        };
        let slow_ns = match self.slow_duration {
            Some(d) => Some(nanos(d, "slow_calls")?),
            None => None,
        };
        let cfg = Config {
            trip,
            open_ns,
            open_multiplier: self.open_multiplier,
            max_open_ns,
            half_open_calls: n,
            half_open_timeout_ns,
            probe_fail_limit,
            probe_slow_limit,
        };
        let base = rt.now();
        Ok(CircuitBreaker {
            inner: Arc::new(Inner {
                core: Core::new(cfg, window, CLOSED),
                base,
                slow_ns,
                rt,
                classifier: self.classifier,
                listener: self.listener,
                obs: BreakerObs::new(self.name, State::Closed),
            }),
        })
    }

    fn rate_trip(&self, min_calls: u32) -> Result<Trip, ConfigError> {
        C.positive("min_calls", min_calls)?;
        check_rate(self.failure_rate, "failure_rate")?;
        if let Some(s) = self.slow_rate {
            check_rate(s, "slow_calls")?;
        }
        Ok(Trip::Rate {
            failure_rate: self.failure_rate,
            slow_rate: self.slow_rate,
            min_calls,
        })
    }
}

fn check_rate(r: f64, field: &'static str) -> Result<(), ConfigError> {
    // NaN is not finite; an infinite rate is merely out of range.
    C.require(!r.is_nan(), field, Rule::NotFinite)?;
    let above_zero = (Bound::Excluded(0.0), Bound::Included(1.0));
    C.within(field, r, above_zero, "0.0 exclusive ..= 1.0")
}

fn nanos(d: Duration, field: &'static str) -> Result<u64, ConfigError> {
    C.positive(field, d)?;
    C.fits(field, d.as_nanos())
}
