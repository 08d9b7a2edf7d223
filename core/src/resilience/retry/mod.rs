//! Retry with backoff, jitter, an overall deadline, server hints and a
//! shared budget.

mod backoff;
mod budget;
mod hooks;

use core::fmt;
use core::future::Future;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use backoff::Jitter;
use backoff::{Backoff, Schedule};
pub use budget::{RetryBudget, RetryBudgetBuilder};
pub use hooks::{
    AnyError, ErrorFilter, FromRetryAfter, HintSource, NoHint, NoHook, NoValue, RetryAfter,
    RetryCause, RetryEvent, RetryHook, ValueFilter,
};

use crate::ConfigError;
use crate::obs::Name;
use crate::obs::retry::{RetryObs, why_plain};
use crate::util::check::Check;
use crate::{Runtime, rt::deadline_after};

const C: Check = Check::new("Retry");

/// Why a retry loop stopped retrying.
///
/// ```
/// use weir_core::resilience::GiveUp;
/// assert_ne!(GiveUp::Attempts, GiveUp::Budget);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GiveUp {
    /// `max_attempts` calls were made.
    Attempts,
    /// The next sleep would end past the deadline.
    Deadline,
    /// The retry budget had no token left.
    Budget,
    /// A `retry_after` hint asked for a longer wait than
    /// [`max_retry_after`](RetryBuilder::max_retry_after).
    RetryAfterTooLong,
}

impl fmt::Display for GiveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GiveUp::Attempts => "attempts exhausted",
            GiveUp::Deadline => "retry deadline would pass",
            GiveUp::Budget => "retry budget exhausted",
            GiveUp::RetryAfterTooLong => "retry-after hint above max_retry_after",
        })
    }
}

#[derive(Debug, Clone)]
struct Config {
    backoff: Backoff,
    max_attempts: u32,
    deadline: Option<Duration>,
    budget: Option<Arc<RetryBudget>>,
    seed: Option<u64>,
    max_retry_after: Duration,
    retry_after_jitter: f64,
    name: Name,
}

/// The per-run state of a retry loop: attempt count, backoff position,
/// random source and deadline. Made by [`Retry::start`]; each run has its
/// own, so concurrent runs of one `Retry` never share counters.
///
/// ```
/// # use std::time::{Duration, Instant};
/// let retry = weir_core::Retry::constant(Duration::from_millis(5)).build().unwrap();
/// let state = retry.start(Instant::now());
/// assert_eq!(state.attempts(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct RetryState {
    attempts: u32,
    backoff_n: u32,
    prev: Option<Duration>,
    rng: fastrand::Rng,
    deadline: Option<Instant>,
}

impl RetryState {
    /// Calls made so far, counting the first (1 right after `start`).
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// let retry = weir_core::Retry::constant(Duration::ZERO).build().unwrap();
    /// let mut s = retry.start(Instant::now());
    /// retry.next_delay(&mut s, Instant::now(), None).unwrap();
    /// assert_eq!(s.attempts(), 2);
    /// ```
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

/// Builds a [`Retry`]. Start from [`Retry::constant`], [`Retry::linear`] or
/// [`Retry::exponential`].
///
/// ```
/// use std::time::Duration;
/// use weir_core::Retry;
/// let retry = Retry::exponential(Duration::from_millis(100))
///     .max_delay(Duration::from_secs(5))
///     .jitter_full()
///     .max_attempts(5)
///     .retry_if(|e: &std::io::Error| e.kind() == std::io::ErrorKind::TimedOut)
///     .build()
///     .unwrap();
/// # drop(retry);
/// ```
#[must_use = "a builder does nothing itself: call .build() to get a Retry"]
pub struct RetryBuilder<P = AnyError, V = NoValue, H = NoHint, N = NoHook> {
    cfg: Config,
    retry_if: P,
    retry_on_value: V,
    hint: H,
    hook: N,
}

impl<P, V, H, N> fmt::Debug for RetryBuilder<P, V, H, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryBuilder")
            .field("config", &self.cfg)
            .finish_non_exhaustive()
    }
}

/// A retry policy: how often, how long between tries, which outcomes to
/// retry. Immutable and cheap to share; every [`run`](Retry::run) keeps its
/// own state.
///
/// `max_attempts` counts every call *including the first*: `max_attempts(3)`
/// means one call and at most two retries (as Resilience4j and gRPC count;
/// Polly's `MaxRetryAttempts = 3` would be `max_attempts(4)` here).
///
/// # Example
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::Retry;
/// use weir_core::test_util::VirtualRuntime;
///
/// let rt = VirtualRuntime::new();
/// let retry = Retry::exponential(Duration::from_millis(100)).max_attempts(4).build().unwrap();
/// let mut calls = 0;
/// let out = rt.block_on(retry.run(&rt, || {
///     calls += 1;
///     let n = calls;
///     async move { if n < 3 { Err("flaky") } else { Ok(n) } }
/// }));
/// assert_eq!(out, Ok(3));
/// assert_eq!(rt.elapsed(), Duration::from_millis(100 + 200));
/// # }
/// ```
pub struct Retry<P = AnyError, V = NoValue, H = NoHint, N = NoHook> {
    cfg: Config,
    pub(crate) obs: RetryObs,
    // Read by the policy layer, which runs its own loop over `Error<E>`.
    pub(crate) retry_if: P,
    pub(crate) retry_on_value: V,
    pub(crate) hint: H,
    pub(crate) hook: N,
}

impl<P: Clone, V: Clone, H: Clone, N: Clone> Clone for Retry<P, V, H, N> {
    fn clone(&self) -> Self {
        Retry {
            cfg: self.cfg.clone(),
            obs: self.obs.clone(),
            retry_if: self.retry_if.clone(),
            retry_on_value: self.retry_on_value.clone(),
            hint: self.hint.clone(),
            hook: self.hook.clone(),
        }
    }
}

impl<P, V, H, N> fmt::Debug for Retry<P, V, H, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("config", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl Retry {
    /// The default [`max_retry_after`](RetryBuilder::max_retry_after): half the
    /// circuit breaker's default open time and half-open timeout (60 s each),
    /// so that with every default a retry fails fast on a breaker that has just
    /// opened instead of parking its caller for a minute, while the hints of
    /// rate limiters and of servers' `Retry-After` (seconds, as a rule) pass.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_core::Retry;
    /// assert_eq!(Retry::DEFAULT_MAX_RETRY_AFTER, Duration::from_secs(30));
    /// ```
    pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

    /// The default [`retry_after_jitter`](RetryBuilder::retry_after_jitter):
    /// up to a fifth of the hint is added.
    ///
    /// ```
    /// assert_eq!(weir_core::Retry::DEFAULT_RETRY_AFTER_JITTER, 0.2);
    /// ```
    pub const DEFAULT_RETRY_AFTER_JITTER: f64 = 0.2;

    fn with(schedule: Schedule, base: Duration) -> RetryBuilder {
        RetryBuilder {
            cfg: Config {
                backoff: Backoff {
                    schedule,
                    base,
                    multiplier: 2.0,
                    max: Duration::MAX,
                    jitter: Jitter::None,
                },
                max_attempts: 3,
                deadline: None,
                budget: None,
                seed: None,
                max_retry_after: Self::DEFAULT_MAX_RETRY_AFTER,
                retry_after_jitter: Self::DEFAULT_RETRY_AFTER_JITTER,
                name: Name::default(),
            },
            retry_if: AnyError,
            retry_on_value: NoValue,
            hint: NoHint,
            hook: NoHook,
        }
    }

    /// The same delay `base` before every retry. Defaults: 3 attempts, no
    /// jitter, no deadline, no budget, every error retried.
    ///
    /// ```
    /// let r = weir_core::Retry::constant(std::time::Duration::from_millis(50)).build();
    /// assert!(r.is_ok());
    /// ```
    pub fn constant(base: Duration) -> RetryBuilder {
        Self::with(Schedule::Constant, base)
    }

    /// `base * n` before retry `n` (1 for the first retry).
    ///
    /// ```
    /// let r = weir_core::Retry::linear(std::time::Duration::from_millis(50)).build();
    /// assert!(r.is_ok());
    /// ```
    pub fn linear(base: Duration) -> RetryBuilder {
        Self::with(Schedule::Linear, base)
    }

    /// `base * multiplier^(n-1)` before retry `n`; the multiplier defaults
    /// to 2.
    ///
    /// ```
    /// let r = weir_core::Retry::exponential(std::time::Duration::from_millis(50)).build();
    /// assert!(r.is_ok());
    /// ```
    pub fn exponential(base: Duration) -> RetryBuilder {
        Self::with(Schedule::Exponential, base)
    }
}

impl<P, V, H, N> RetryBuilder<P, V, H, N> {
    /// Caps every computed delay. A `retry_after` hint is not a computed
    /// delay: [`max_retry_after`](Self::max_retry_after) governs it.
    ///
    /// ```
    /// use std::time::Duration;
    /// let r = weir_core::Retry::exponential(Duration::from_millis(10)).max_delay(Duration::from_secs(1));
    /// # drop(r);
    /// ```
    pub fn max_delay(mut self, max: Duration) -> Self {
        self.cfg.backoff.max = max;
        self
    }

    /// The growth factor of an exponential schedule: finite and >= 1.
    ///
    /// ```
    /// let r = weir_core::Retry::exponential(std::time::Duration::from_millis(10)).multiplier(1.5);
    /// # drop(r);
    /// ```
    pub fn multiplier(mut self, m: f64) -> Self {
        self.cfg.backoff.multiplier = m;
        self
    }

    /// Randomises each delay; see [`Jitter`].
    ///
    /// ```
    /// use weir_core::{Retry, resilience::Jitter};
    /// let r = Retry::constant(std::time::Duration::from_millis(10)).jitter(Jitter::Equal);
    /// # drop(r);
    /// ```
    pub fn jitter(mut self, j: Jitter) -> Self {
        self.cfg.backoff.jitter = j;
        self
    }

    /// Shorthand for `jitter(Jitter::Full)`.
    ///
    /// ```
    /// let r = weir_core::Retry::constant(std::time::Duration::from_millis(10)).jitter_full();
    /// # drop(r);
    /// ```
    pub fn jitter_full(self) -> Self {
        self.jitter(Jitter::Full)
    }

    /// Seeds the jitter's random source, for reproducible tests. Without it
    /// each run draws a fresh seed.
    ///
    /// ```
    /// let r = weir_core::Retry::constant(std::time::Duration::from_millis(10)).seed(42);
    /// # drop(r);
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.cfg.seed = Some(seed);
        self
    }

    /// At most `n` calls in all, the first included (`1` = never retry).
    ///
    /// ```
    /// let r = weir_core::Retry::constant(std::time::Duration::ZERO).max_attempts(1);
    /// # drop(r);
    /// ```
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.cfg.max_attempts = n;
        self
    }

    /// Gives up, with the last error, rather than start a sleep that would
    /// end more than `total` after the run started. Attempts themselves are
    /// not cut short: wrap the whole run in [`timeout`](crate::resilience::timeout)
    /// for that.
    ///
    /// ```
    /// use std::time::Duration;
    /// let r = weir_core::Retry::constant(Duration::ZERO).deadline(Duration::from_secs(10));
    /// # drop(r);
    /// ```
    pub fn deadline(mut self, total: Duration) -> Self {
        self.cfg.deadline = Some(total);
        self
    }

    /// Draws each retry from `budget` (and deposits each run in it); shared
    /// between policies through the `Arc`.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::sync::Arc;
    /// use weir_core::{Retry, RetryBudget};
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let budget = Arc::new(RetryBudget::builder().build(&rt).unwrap());
    /// let r = Retry::constant(std::time::Duration::ZERO).budget(budget.clone());
    /// # drop(r);
    /// # }
    /// ```
    pub fn budget(mut self, budget: Arc<RetryBudget>) -> Self {
        self.cfg.budget = Some(budget);
        self
    }

    /// Retries only the errors for which `f` returns true (default: all).
    ///
    /// Run alone ([`Retry::run`]), `f` sees every error. Inside a
    /// [`Policy`](crate::Policy), a `Fn(&E) -> bool` sees the
    /// caller's errors and weir's own outcomes keep their default; the rule
    /// for those, and how to decide them too, is
    /// [stated once in the policy docs](crate::policy#which-outcomes-a-retry-retries).
    ///
    /// ```
    /// let r = weir_core::Retry::constant(std::time::Duration::ZERO)
    ///     .retry_if(|e: &u16| *e >= 500);
    /// # drop(r);
    /// ```
    pub fn retry_if<P2>(self, f: P2) -> RetryBuilder<P2, V, H, N> {
        RetryBuilder {
            cfg: self.cfg,
            retry_if: f,
            retry_on_value: self.retry_on_value,
            hint: self.hint,
            hook: self.hook,
        }
    }

    /// Also retries successful values for which `f` returns true; when the
    /// attempts run out the last such value is returned as `Ok`.
    ///
    /// ```
    /// let r = weir_core::Retry::constant(std::time::Duration::ZERO)
    ///     .retry_on_value(|status: &u16| *status == 503);
    /// # drop(r);
    /// ```
    pub fn retry_on_value<V2>(self, f: V2) -> RetryBuilder<P, V2, H, N> {
        RetryBuilder {
            cfg: self.cfg,
            retry_if: self.retry_if,
            retry_on_value: f,
            hint: self.hint,
            hook: self.hook,
        }
    }

    /// Uses the error's own [`RetryAfter`] hint, when it has one, as the
    /// next delay; see [`max_retry_after`](Self::max_retry_after) for the
    /// cap and the jitter every hint gets.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_core::{Retry, resilience::RetryAfter};
    /// struct Busy(Duration);
    /// impl RetryAfter for Busy {
    ///     fn retry_after(&self) -> Option<Duration> { Some(self.0) }
    /// }
    /// let r = Retry::constant(Duration::ZERO).honor_retry_after();
    /// # drop(r);
    /// ```
    pub fn honor_retry_after(self) -> RetryBuilder<P, V, FromRetryAfter, N> {
        RetryBuilder {
            cfg: self.cfg,
            retry_if: self.retry_if,
            retry_on_value: self.retry_on_value,
            hint: FromRetryAfter,
            hook: self.hook,
        }
    }

    /// Reads a delay hint out of each error with `f` (for errors that do
    /// not implement [`RetryAfter`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// let r = weir_core::Retry::constant(Duration::ZERO)
    ///     .retry_after_with(|e: &(u16, Option<u64>)| e.1.map(Duration::from_secs));
    /// # drop(r);
    /// ```
    pub fn retry_after_with<H2>(self, f: H2) -> RetryBuilder<P, V, H2, N> {
        RetryBuilder {
            cfg: self.cfg,
            retry_if: self.retry_if,
            retry_on_value: self.retry_on_value,
            hint: f,
            hook: self.hook,
        }
    }

    /// The longest `retry_after` hint waited for (default
    /// [`Retry::DEFAULT_MAX_RETRY_AFTER`], 30 s). A hint above it ends the run at
    /// once with the error that carried it ([`GiveUp::RetryAfterTooLong`]):
    /// a server that asks for an hour will not be ready sooner, and sleeping
    /// the cap instead would only spend an attempt on a certain refusal. A
    /// hint at or below it is waited for, plus its
    /// [jitter](Self::retry_after_jitter).
    ///
    /// This bounds the hints weir's own stages give too: a rate limiter's
    /// `retry_after` and an open breaker's remaining time (up to its open
    /// duration, or up to its half-open timeout while every probe is out).
    ///
    /// ```
    /// use std::time::Duration;
    /// let r = weir_core::Retry::constant(Duration::ZERO)
    ///     .max_retry_after(Duration::from_secs(5))
    ///     .build();
    /// assert!(r.is_ok());
    /// ```
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.cfg.max_retry_after = max;
        self
    }

    /// Adds a random wait of up to `fraction` of each `retry_after` hint
    /// (default [`Retry::DEFAULT_RETRY_AFTER_JITTER`], 0.2): the wait is uniform in
    /// `[hint, hint * (1 + fraction)]`, drawn from the run's random source
    /// (see [`seed`](Self::seed)). Callers refused together are told the
    /// same hint; without jitter they would all come back at the same
    /// instant and be refused together again. `0.0` waits the hint exactly.
    ///
    /// ```
    /// let r = weir_core::Retry::constant(std::time::Duration::ZERO)
    ///     .retry_after_jitter(0.0)
    ///     .build();
    /// assert!(r.is_ok());
    /// ```
    pub fn retry_after_jitter(mut self, fraction: f64) -> Self {
        self.cfg.retry_after_jitter = fraction;
        self
    }

    /// Calls `f` before each retry's sleep with the attempt that failed,
    /// the delay and the [cause](RetryCause): the error, or, inside a
    /// [`Policy`](crate::policy::Policy), which of weir's outcomes.
    ///
    /// ```
    /// use weir_core::resilience::RetryEvent;
    /// let r = weir_core::Retry::constant(std::time::Duration::ZERO)
    ///     .on_retry(|ev: &RetryEvent<'_, std::io::Error>| eprintln!("attempt {} failed", ev.attempt));
    /// # drop(r);
    /// ```
    pub fn on_retry<N2>(self, f: N2) -> RetryBuilder<P, V, H, N2> {
        RetryBuilder {
            cfg: self.cfg,
            retry_if: self.retry_if,
            retry_on_value: self.retry_on_value,
            hint: self.hint,
            hook: f,
        }
    }

    /// Names the retry policy in its tracing events and metric labels (the
    /// `name` label; see [`obs`](crate::obs)). Default: `"default"`.
    ///
    /// ```
    /// let r = weir_core::Retry::constant(std::time::Duration::ZERO).name("search");
    /// # drop(r);
    /// ```
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.cfg.name = Name::new(name);
        self
    }

    /// Checks the fields and builds the policy.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for `max_attempts(0)`, a multiplier below 1 or not
    /// finite, `max_delay` below the base delay, a zero deadline, a zero
    /// `max_retry_after`, or a `retry_after_jitter` outside `0.0..=1.0`
    /// (NaN included).
    ///
    /// ```
    /// let e = weir_core::Retry::constant(std::time::Duration::ZERO).max_attempts(0).build().unwrap_err();
    /// assert_eq!(e.field(), "max_attempts");
    /// ```
    pub fn build(self) -> Result<Retry<P, V, H, N>, ConfigError> {
        let c = &self.cfg;
        C.positive("max_attempts", c.max_attempts)?;
        C.finite_within("multiplier", c.backoff.multiplier, 1.0.., "1.0..")?;
        C.not_below("max_delay", c.backoff.max, "base", c.backoff.base)?;
        C.positive_if_set("deadline", c.deadline)?;
        C.positive("max_retry_after", c.max_retry_after)?;
        C.within(
            "retry_after_jitter",
            c.retry_after_jitter,
            0.0..=1.0,
            "0.0..=1.0",
        )?;
        Ok(Retry {
            obs: RetryObs::new(self.cfg.name.clone()),
            cfg: self.cfg,
            retry_if: self.retry_if,
            retry_on_value: self.retry_on_value,
            hint: self.hint,
            hook: self.hook,
        })
    }
}

impl<P, V, H, N> Retry<P, V, H, N> {
    /// The state for one run starting at `now`, the first call about to be
    /// made. Deposits the call in the budget, if any.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// let retry = weir_core::Retry::constant(Duration::ZERO).deadline(Duration::from_secs(1)).build().unwrap();
    /// let s = retry.start(Instant::now());
    /// assert_eq!(s.attempts(), 1);
    /// ```
    pub fn start(&self, now: Instant) -> RetryState {
        self.start_with(|| now)
    }

    /// [`start`](Self::start), reading the clock only when a deadline or a
    /// budget needs it: on runtimes where reading the clock costs tens of
    /// nanoseconds, a pipeline's first attempt should not pay for nothing.
    pub(crate) fn start_with(&self, now: impl FnOnce() -> Instant) -> RetryState {
        let now = (self.cfg.budget.is_some() || self.cfg.deadline.is_some()).then(now);
        if let (Some(b), Some(now)) = (&self.cfg.budget, now) {
            b.deposit(now);
        }
        RetryState {
            attempts: 1,
            backoff_n: 0,
            prev: None,
            rng: match self.cfg.seed {
                Some(s) => fastrand::Rng::with_seed(s),
                None => fastrand::Rng::new(),
            },
            deadline: self
                .cfg
                .deadline
                .zip(now)
                .map(|(d, now)| deadline_after(now, d)),
        }
    }

    /// Decides, after a failed attempt at `now`, whether to retry and after
    /// how long. `hint` (a server's retry-after) replaces the computed delay
    /// and restarts the backoff schedule: a hint above
    /// [`max_retry_after`](RetryBuilder::max_retry_after) gives up, any other
    /// is waited for plus its
    /// [jitter](RetryBuilder::retry_after_jitter). Allocates nothing.
    ///
    /// # Errors
    ///
    /// [`GiveUp`] says why not to retry; the budget is checked last, so a
    /// token is taken only for a retry that will happen.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use weir_core::{Retry, resilience::GiveUp};
    /// let retry = Retry::exponential(Duration::from_millis(10)).max_attempts(3).build().unwrap();
    /// let now = Instant::now();
    /// let mut s = retry.start(now);
    /// assert_eq!(retry.next_delay(&mut s, now, None), Ok(Duration::from_millis(10)));
    /// assert_eq!(retry.next_delay(&mut s, now, None), Ok(Duration::from_millis(20)));
    /// assert_eq!(retry.next_delay(&mut s, now, None), Err(GiveUp::Attempts));
    /// ```
    pub fn next_delay(
        &self,
        state: &mut RetryState,
        now: Instant,
        hint: Option<Duration>,
    ) -> Result<Duration, GiveUp> {
        if state.attempts >= self.cfg.max_attempts {
            return Err(GiveUp::Attempts);
        }
        let (delay, n, prev) = match hint {
            Some(h) if h > self.cfg.max_retry_after => return Err(GiveUp::RetryAfterTooLong),
            Some(h) => {
                // `try_`: near `Duration::MAX` the product rounds past it.
                let spread =
                    Duration::try_from_secs_f64(h.as_secs_f64() * self.cfg.retry_after_jitter)
                        .unwrap_or(h);
                let extra = backoff::uniform(&mut state.rng, Duration::ZERO, spread);
                (h.saturating_add(extra), 0, None)
            }
            None => {
                let n = state.backoff_n.saturating_add(1);
                let (d, capped) = self.cfg.backoff.delay(n, state.prev, &mut state.rng);
                // Once the schedule sits at `max_delay` it stays there; not
                // counting further keeps every later decision O(1).
                (d, if capped { n - 1 } else { n }, Some(d))
            }
        };
        if let Some(deadline) = state.deadline {
            if deadline_after(now, delay) > deadline {
                return Err(GiveUp::Deadline);
            }
        }
        if let Some(b) = &self.cfg.budget {
            if !b.try_withdraw(now) {
                return Err(GiveUp::Budget);
            }
        }
        state.backoff_n = n;
        state.prev = prev;
        state.attempts += 1;
        Ok(delay)
    }

    /// Calls `op` until it succeeds, returns an error not to retry, or the
    /// policy gives up; then returns that last result unchanged.
    ///
    /// Between attempts it sleeps on `rt`'s clock. Dropping the returned
    /// future (during an attempt or a sleep) stops at once: no further call
    /// is made.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let retry = weir_core::Retry::constant(Duration::from_secs(1)).max_attempts(2).build().unwrap();
    /// let out: Result<(), &str> = rt.block_on(retry.run(&rt, || async { Err("down") }));
    /// assert_eq!(out, Err("down"));
    /// assert_eq!(rt.elapsed(), Duration::from_secs(1));
    /// # }
    /// ```
    pub async fn run<R, T, E, F, Fut>(&self, rt: &R, mut op: F) -> Result<T, E>
    where
        R: Runtime,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        P: ErrorFilter<E>,
        V: ValueFilter<T>,
        H: HintSource<E>,
        N: RetryHook<E>,
    {
        let mut state = self.start(rt.now());
        loop {
            let result = op().await;
            let hint = match &result {
                Ok(v) if self.retry_on_value.retry_value(v) => None,
                Err(e) if self.retry_if.retry_error(e) => self.hint.hint(e),
                _ => return result,
            };
            let attempt = state.attempts;
            match self.next_delay(&mut state, rt.now(), hint) {
                Ok(delay) => {
                    self.obs.scheduled(attempt, delay, why_plain(&result));
                    self.hook.on_retry(&RetryEvent {
                        attempt,
                        delay,
                        cause: match &result {
                            Ok(_) => RetryCause::Value,
                            Err(e) => RetryCause::Error(e),
                        },
                    });
                    // The failed result is dropped before the sleep, so what
                    // it holds is released while we wait.
                    drop(result);
                    rt.sleep(delay).await;
                }
                Err(give_up) => {
                    self.obs.gave_up(attempt, why_plain(&result), give_up);
                    return result;
                }
            }
        }
    }
}
