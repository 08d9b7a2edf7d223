//! The circuit breaker: stop calling a backend that keeps failing, probe it
//! after a pause, resume when it recovers.
//!
//! See the [module docs](crate::resilience) for the rules chosen where the
//! reference libraries differ.

mod builder;
#[cfg(all(test, weir_loom))]
mod loom_tests;
pub(crate) mod state_machine;
pub(crate) mod window;

use ::core::fmt;
use ::core::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use builder::CircuitBreakerBuilder;

use self::state_machine::Core;
use self::window::{COUNTED, FAILED, SLOW};
use crate::Runtime;
use crate::obs::breaker::BreakerObs;

/// The state of a breaker.
///
/// ```
/// use weir_core::resilience::State;
/// assert_ne!(State::Closed, State::Open);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Calls pass and their outcomes are judged.
    Closed,
    /// Calls are rejected until the open duration passes.
    Open,
    /// A limited number of probe calls pass; their outcomes decide.
    HalfOpen,
    /// Set by hand: every call is rejected, nothing moves it but a manual
    /// change.
    ForcedOpen,
    /// Set by hand: every call passes, nothing is recorded.
    Disabled,
    /// Set by hand: every call passes and is recorded, the breaker never
    /// opens.
    MetricsOnly,
}

/// A change of state, as passed to
/// [`on_transition`](CircuitBreakerBuilder::on_transition).
///
/// ```
/// use weir_core::resilience::{State, Transition};
/// let t = Transition { from: State::Closed, to: State::Open };
/// assert_eq!(t.to, State::Open);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The state left.
    pub from: State,
    /// The state entered.
    pub to: State,
}

/// How a call's result counts.
///
/// ```
/// use weir_core::resilience::Outcome;
/// assert_ne!(Outcome::Success, Outcome::Ignored);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Counts as a success.
    Success,
    /// Counts as a failure.
    Failure,
    /// Counts as nothing; a half-open permit goes back for another probe.
    Ignored,
}

/// Turns a call's result into an [`Outcome`]. Implemented by every
/// `Fn(&Result<T, E>) -> Outcome` and by [`ErrorIsFailure`].
///
/// ```
/// use weir_core::resilience::{Classify, ErrorIsFailure, Outcome};
/// assert_eq!(Classify::<(), ()>::classify(&ErrorIsFailure, &Err(())), Outcome::Failure);
/// ```
pub trait Classify<T, E> {
    /// The outcome of `result`.
    fn classify(&self, result: &Result<T, E>) -> Outcome;
}

/// The default classifier: `Ok` is a success, `Err` a failure.
///
/// ```
/// use weir_core::resilience::{Classify, ErrorIsFailure, Outcome};
/// assert_eq!(Classify::<u8, ()>::classify(&ErrorIsFailure, &Ok(1)), Outcome::Success);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorIsFailure;

impl<T, E> Classify<T, E> for ErrorIsFailure {
    #[inline]
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        if result.is_ok() {
            Outcome::Success
        } else {
            Outcome::Failure
        }
    }
}

impl<T, E, F: Fn(&Result<T, E>) -> Outcome> Classify<T, E> for F {
    #[inline]
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        self(result)
    }
}

/// A call was rejected because the breaker is open.
///
/// `remaining` is how long until the breaker admits a probe: the rest of
/// the open duration; in half-open with every probe out, the rest of the
/// half-open timeout; `Duration::MAX` when forced open.
///
/// ```
/// use std::time::Duration;
/// let e = weir_core::resilience::CircuitOpen { remaining: Duration::from_secs(3) };
/// assert_eq!(e.to_string(), "circuit open, retry in 3s");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitOpen {
    /// Time until the breaker may admit calls again.
    pub remaining: Duration,
}

impl fmt::Display for CircuitOpen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.remaining == Duration::MAX {
            f.write_str("circuit forced open")
        } else {
            write!(f, "circuit open, retry in {:?}", self.remaining)
        }
    }
}

impl std::error::Error for CircuitOpen {}

/// The error of [`CircuitBreaker::call`]: rejected, or the call's own error.
///
/// ```
/// use weir_core::resilience::BreakerError;
/// let e: BreakerError<&str> = BreakerError::Inner("boom");
/// assert_eq!(e.into_inner(), Some("boom"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakerError<E> {
    /// The breaker rejected the call; it never ran.
    Open(CircuitOpen),
    /// The call ran and failed with this error.
    Inner(E),
}

impl<E> BreakerError<E> {
    /// The call's error, if it ran.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_core::resilience::{BreakerError, CircuitOpen};
    /// let e: BreakerError<()> = BreakerError::Open(CircuitOpen { remaining: Duration::ZERO });
    /// assert_eq!(e.into_inner(), None);
    /// ```
    pub fn into_inner(self) -> Option<E> {
        match self {
            BreakerError::Inner(e) => Some(e),
            BreakerError::Open(_) => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for BreakerError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BreakerError::Open(o) => o.fmt(f),
            BreakerError::Inner(e) => e.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for BreakerError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BreakerError::Open(o) => Some(o),
            BreakerError::Inner(e) => Some(e),
        }
    }
}

/// Counters and the current window of a breaker.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// let rt = weir_core::test_util::VirtualRuntime::new();
/// let b = weir_core::CircuitBreaker::builder().build(rt).unwrap();
/// assert_eq!(b.stats().calls, 0);
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// The current state.
    pub state: State,
    /// Calls in the window (the run length in consecutive mode).
    pub calls: u32,
    /// Failures in the window.
    pub failures: u32,
    /// Slow calls in the window.
    pub slow_calls: u32,
    /// Transitions into [`State::Open`].
    pub opened: u64,
    /// Transitions into [`State::HalfOpen`].
    pub half_opened: u64,
    /// Transitions into [`State::Closed`].
    pub closed: u64,
    /// Calls rejected.
    pub rejected: u64,
    /// Results ignored because they came from an earlier state.
    pub late: u64,
    /// Calls of the [`on_transition`](CircuitBreakerBuilder::on_transition)
    /// listener that panicked. The panic is contained (the transition has
    /// happened, the call's result or panic goes on unchanged) and reported
    /// by the panic hook.
    pub listener_panics: u64,
    /// Openings since the breaker last closed.
    pub consecutive_opens: u32,
}

pub(crate) struct Inner<R, C> {
    core: Core,
    base: Instant,
    slow_ns: Option<u64>,
    rt: R,
    classifier: C,
    listener: Option<builder::Listener>,
    obs: BreakerObs,
}

impl<R: Runtime, C> Inner<R, C> {
    #[inline]
    fn now_ns(&self) -> u64 {
        let d = self.rt.now().saturating_duration_since(self.base);
        u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
    }

    /// Reports `t` to the listener, containing a panic in it.
    ///
    /// Transitions are reported from `CallPermit::drop` too, and that drop
    /// runs while a panicking call unwinds: a second panic escaping there
    /// aborts the process. So a listener's panic never leaves this function,
    /// on any path: it is caught, counted in `Stats::listener_panics`, and
    /// reported by the panic hook as every panic is. The listener touches no
    /// breaker state, so nothing is left half-done (hence `AssertUnwindSafe`).
    fn emit(&self, t: Option<Transition>) {
        self.obs.transition(t.as_ref());
        if let (Some(t), Some(l)) = (t, &self.listener) {
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| l(&t))) {
                self.core.listener_panicked();
                // A payload whose own drop panics must not escape either.
                crate::util::panic::drop_contained(payload);
            }
        }
    }
}

/// A circuit breaker on runtime `R`, classifying results with `C`.
///
/// Cloning shares the breaker. The closed path (admit, record) is a few
/// atomic operations: no lock, no allocation.
///
/// # Example
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::{CircuitBreaker, resilience::{BreakerError, State}};
/// use weir_core::test_util::VirtualRuntime;
///
/// let rt = VirtualRuntime::new();
/// let breaker = CircuitBreaker::builder()
///     .consecutive_failures(2)
///     .open_for(Duration::from_secs(30))
///     .build(rt.clone())
///     .unwrap();
/// rt.block_on(async {
///     for _ in 0..2 {
///         let r = breaker.call(|| async { Err::<(), _>("down") }).await;
///         assert_eq!(r, Err(BreakerError::Inner("down")));
///     }
///     let r = breaker.call(|| async { Ok::<_, &str>(1) }).await;
///     assert!(matches!(r, Err(BreakerError::Open(o)) if o.remaining == Duration::from_secs(30)));
/// });
/// assert_eq!(breaker.state(), State::Open);
/// # }
/// ```
pub struct CircuitBreaker<R, C = ErrorIsFailure> {
    inner: Arc<Inner<R, C>>,
}

impl<R, C> Clone for CircuitBreaker<R, C> {
    fn clone(&self) -> Self {
        CircuitBreaker {
            inner: self.inner.clone(),
        }
    }
}

impl<R: Runtime, C> fmt::Debug for CircuitBreaker<R, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("stats", &self.stats())
            .field("config", &self.inner.core.cfg)
            .finish()
    }
}

impl CircuitBreaker<(), ErrorIsFailure> {
    /// A builder with the defaults listed on [`CircuitBreakerBuilder`].
    ///
    /// ```
    /// let b = weir_core::CircuitBreaker::builder();
    /// # drop(b);
    /// ```
    pub fn builder() -> CircuitBreakerBuilder {
        CircuitBreakerBuilder::default()
    }
}

impl<R: Runtime, C> CircuitBreaker<R, C> {
    /// Runs `f` if the breaker admits it, records its outcome (and whether
    /// it was slow) and returns its result.
    ///
    /// Dropping the returned future before it completes releases the permit
    /// as [`Outcome::Ignored`]; a panic in `f` records a failure.
    ///
    /// # Errors
    ///
    /// [`BreakerError::Open`] when rejected (`f` is not called), or
    /// [`BreakerError::Inner`] with the call's error.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::CircuitBreaker::builder().build(rt.clone()).unwrap();
    /// assert_eq!(rt.block_on(b.call(|| async { Ok::<_, ()>(5) })), Ok(5));
    /// # }
    /// ```
    pub async fn call<T, E, F, Fut>(&self, f: F) -> Result<T, BreakerError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        C: Classify<T, E>,
    {
        let permit = self.try_acquire().map_err(BreakerError::Open)?;
        let start = self.inner.slow_ns.map(|_| self.inner.rt.now());
        let result = f().await;
        let latency = start.map_or(Duration::ZERO, |s| {
            self.inner.rt.now().saturating_duration_since(s)
        });
        permit.record(self.inner.classifier.classify(&result), latency);
        result.map_err(BreakerError::Inner)
    }

    /// Whether calls' latencies matter (a slow-call threshold is set), so
    /// that a layer reads the clock only when they do.
    pub(crate) fn tracks_slow_calls(&self) -> bool {
        self.inner.slow_ns.is_some()
    }

    /// How this breaker's classifier judges `result`; for stages that run
    /// the call themselves and record it on a [`CallPermit`].
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::{CircuitBreaker, resilience::Outcome};
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = CircuitBreaker::builder().build(rt).unwrap();
    /// assert_eq!(b.classify(&Err::<(), _>("down")), Outcome::Failure);
    /// # }
    /// ```
    pub fn classify<T, E>(&self, result: &Result<T, E>) -> Outcome
    where
        C: Classify<T, E>,
    {
        self.inner.classifier.classify(result)
    }

    /// Asks for a permit to make one call; the lower-level half of
    /// [`call`](Self::call), for stages that run the call themselves.
    ///
    /// # Errors
    ///
    /// [`CircuitOpen`] with the remaining open time when rejected.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::{CircuitBreaker, resilience::Outcome};
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = CircuitBreaker::builder().build(rt).unwrap();
    /// let permit = b.try_acquire().unwrap();
    /// permit.record(Outcome::Success, Duration::from_millis(3));
    /// assert_eq!(b.stats().calls, 1);
    /// # }
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Result<CallPermit<'_, R, C>, CircuitOpen> {
        let inner = &*self.inner;
        let (admit, t) = inner.core.acquire(|| inner.now_ns());
        inner.emit(t);
        match admit {
            Ok(word) => Ok(CallPermit {
                inner,
                word,
                done: false,
            }),
            Err(ns) => {
                let remaining = if ns == u64::MAX {
                    Duration::MAX
                } else {
                    Duration::from_nanos(ns)
                };
                inner.obs.rejected(remaining);
                Err(CircuitOpen { remaining })
            }
        }
    }

    /// The current state. Transitions are made lazily by calls: an open
    /// breaker whose time is up still reads `Open` until a call arrives.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::CircuitBreaker::builder().build(rt).unwrap();
    /// assert_eq!(b.state(), weir_core::resilience::State::Closed);
    /// # }
    /// ```
    pub fn state(&self) -> State {
        self::state_machine::state_of(self::state_machine::kind(self.inner.core.word()))
    }

    /// How long until an open breaker admits a probe: `None` unless open,
    /// `Some(Duration::MAX)` when forced open.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::CircuitBreaker::builder().build(rt).unwrap();
    /// assert_eq!(b.remaining_open(), None);
    /// # }
    /// ```
    pub fn remaining_open(&self) -> Option<Duration> {
        self.inner.core.remaining(self.inner.now_ns()).map(|ns| {
            if ns == u64::MAX {
                Duration::MAX
            } else {
                Duration::from_nanos(ns)
            }
        })
    }

    /// Counters and the current window.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::CircuitBreaker::builder().build(rt).unwrap();
    /// b.force_open();
    /// assert_eq!(b.stats().rejected, 0);
    /// assert!(b.try_acquire().is_err());
    /// assert_eq!(b.stats().rejected, 1);
    /// # }
    /// ```
    pub fn stats(&self) -> Stats {
        let s = self.inner.core.snapshot(self.inner.now_ns());
        Stats {
            state: self::state_machine::state_of(s.kind),
            calls: s.tally.calls,
            failures: s.tally.failures,
            slow_calls: s.tally.slow,
            opened: s.into[self::state_machine::OPEN as usize],
            half_opened: s.into[self::state_machine::HALF_OPEN as usize],
            closed: s.into[self::state_machine::CLOSED as usize],
            rejected: s.rejected,
            late: s.late,
            listener_panics: s.listener_panics,
            consecutive_opens: s.trips,
        }
    }

    fn force(&self, to: u64) {
        let t = self.inner.core.force(to);
        self.inner.emit(t);
    }

    /// Rejects every call until [`reset`](Self::reset) or another manual
    /// change.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::CircuitBreaker::builder().build(rt).unwrap();
    /// b.force_open();
    /// assert_eq!(b.try_acquire().unwrap_err().remaining, std::time::Duration::MAX);
    /// # }
    /// ```
    pub fn force_open(&self) {
        self.force(self::state_machine::FORCED_OPEN);
    }

    /// Admits every call and records nothing, until a manual change.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::CircuitBreaker::builder().build(rt).unwrap();
    /// b.disable();
    /// assert_eq!(b.state(), weir_core::resilience::State::Disabled);
    /// # }
    /// ```
    pub fn disable(&self) {
        self.force(self::state_machine::DISABLED);
    }

    /// Admits every call and records outcomes into a fresh window, but never
    /// opens, until a manual change.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::CircuitBreaker::builder().build(rt).unwrap();
    /// b.metrics_only();
    /// assert_eq!(b.state(), weir_core::resilience::State::MetricsOnly);
    /// # }
    /// ```
    pub fn metrics_only(&self) {
        self.force(self::state_machine::METRICS_ONLY);
    }

    /// Closes the breaker with an empty window and the open-duration growth
    /// reset. Results of calls admitted before become late and are ignored.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::CircuitBreaker::builder().build(rt).unwrap();
    /// b.force_open();
    /// b.reset();
    /// assert!(b.try_acquire().is_ok());
    /// # }
    /// ```
    pub fn reset(&self) {
        self.force(self::state_machine::CLOSED);
    }
}

/// Permission to make one call; record its outcome with
/// [`record`](CallPermit::record).
///
/// Dropped without a record it counts as [`Outcome::Ignored`] (the call was
/// cancelled), or as [`Outcome::Failure`] when dropped by a panic.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::{CircuitBreaker, resilience::Outcome};
/// let rt = weir_core::test_util::VirtualRuntime::new();
/// let b = CircuitBreaker::builder().consecutive_failures(1).build(rt).unwrap();
/// b.try_acquire().unwrap().record(Outcome::Failure, Duration::ZERO);
/// assert!(b.try_acquire().is_err());
/// # }
/// ```
#[must_use = "record the call's outcome with .record(..)"]
pub struct CallPermit<'a, R: Runtime, C> {
    inner: &'a Inner<R, C>,
    word: u64,
    done: bool,
}

impl<R: Runtime, C> fmt::Debug for CallPermit<'_, R, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallPermit")
            .field(
                "state",
                &self::state_machine::state_of(self::state_machine::kind(self.word)),
            )
            .finish()
    }
}

impl<R: Runtime, C> CallPermit<'_, R, C> {
    /// Records the call's outcome and how long it took (compared with the
    /// slow-call duration, if one is set).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::{CircuitBreaker, resilience::Outcome};
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = CircuitBreaker::builder()
    ///     .window_count(1).min_calls(1).slow_calls(1.0, Duration::from_secs(1))
    ///     .build(rt).unwrap();
    /// b.try_acquire().unwrap().record(Outcome::Success, Duration::from_secs(2));
    /// assert!(b.try_acquire().is_err(), "one slow success opened it");
    /// # }
    /// ```
    #[inline]
    pub fn record(mut self, outcome: Outcome, latency: Duration) {
        self.done = true;
        let slow = match self.inner.slow_ns {
            Some(limit) => u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX) > limit,
            None => false,
        };
        self.finish(outcome, slow);
    }

    #[inline]
    fn finish(&self, outcome: Outcome, slow: bool) {
        let code = match outcome {
            Outcome::Ignored => 0,
            Outcome::Success => COUNTED,
            Outcome::Failure => COUNTED | FAILED,
        };
        let code = if slow && code != 0 { code | SLOW } else { code };
        let inner = self.inner;
        inner.obs.recorded(outcome, slow);
        let t = inner.core.record(self.word, code, || inner.now_ns());
        inner.emit(t);
    }
}

impl<R: Runtime, C> Drop for CallPermit<'_, R, C> {
    fn drop(&mut self) {
        if !self.done {
            let outcome = if std::thread::panicking() {
                Outcome::Failure
            } else {
                Outcome::Ignored
            };
            self.finish(outcome, false);
        }
    }
}
