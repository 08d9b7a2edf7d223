//! [`RateLimiter`]: a lock-free GCRA token bucket, with a pacing (leaky
//! bucket) mode.
//!
//! # Why GCRA
//!
//! The generic cell rate algorithm keeps a token bucket in one number, the
//! *theoretical arrival time* (TAT): the instant at which the bucket would be
//! full again if nothing else arrived. A check is one read of the clock, a
//! little arithmetic and one compare-and-swap of that number. There is no
//! refill timer and no background task: refill is implied by the clock
//! moving past the TAT, so an idle limiter costs nothing, and a thousand
//! limiters cost a thousand `u64`s.
//!
//! # The admission rule
//!
//! With [`Quota::new(u, p)`](Quota::new) the emission interval is `T = ⌈p / u⌉` nanoseconds and
//! the tolerance is `τ = burst × T`. A request for `n` units (1 ≤ n ≤ burst)
//! at time `t` computes `TAT' = max(TAT, t) + n·T` and is admitted exactly
//! when `TAT' − τ ≤ t`; then `TAT := TAT'`. Otherwise it is refused with
//! `retry_after = TAT' − τ − t`, and the state is untouched. The bucket
//! starts full (`TAT = 0` at the limiter's creation).
//!
//! Consequences, each tested on the virtual clock:
//!
//! * `Quota::per_second(10).burst(5)` admits 5 units at t = 0, the 6th at 100 ms,
//!   the 7th at 200 ms, and so on.
//! * Over any window of length `W`, at most `burst + ⌊W / T⌋` units are
//!   admitted. With the default burst of one period's units, a window of
//!   one period may see nearly twice the rate; a [strict](Quota::strict)
//!   quota picks the interval so that it never sees more than the rate
//!   (see [`Quota`] for that rule and for the headroom a server's own
//!   window needs).
//! * `n > burst` is refused at once with [`InsufficientCapacity`], never
//!   waited for; `n == burst` on a full bucket passes.
//! * `n == 0` is an availability probe: it passes when one unit would, and
//!   consumes nothing.
//! * Pacing ([`pacing`](RateLimiterBuilder::pacing), i.e. burst 1): units
//!   pass one interval apart, exactly, and never two at once.
//!
//! # Waiting
//!
//! [`acquire_many`](RateLimiter::acquire_many) reserves its units in the state at
//! its first poll, in the future if need be, and sleeps on the runtime's
//! timer until their instant. Each reservation moves the TAT on, so later
//! arrivals get later instants: waiters are served in arrival order by
//! construction, with no queue. A waiter dropped before its instant gives its
//! units back if no later reservation was stacked on top of it (exactly
//! `golang.org/x/time/rate`'s `Cancel` rule); otherwise the units stay spent,
//! so a cancellation can make the limiter admit less than it could, never
//! more.
//!
//! # When not to use it
//!
//! * To bound *concurrency* (calls in flight), use a semaphore or a
//!   bulkhead: a rate limiter does not know when a call ends.
//! * Windows that must reset on calendar boundaries ("1000 per UTC day")
//!   are fixed windows, not a bucket.
//! * Across processes: the state lives in this process's memory.
//!
//! # Example
//!
//! ```
//! # #[cfg(feature = "test-util")] {
//! use std::time::Duration;
//! use weir_core::RateLimiter;
//! use weir_core::test_util::VirtualRuntime;
//!
//! let rt = VirtualRuntime::new();
//! let limiter = RateLimiter::builder()
//!     .quota(weir_core::Quota::new(10, Duration::from_secs(1)).burst(5))
//!     .build(rt.clone())?;
//! for _ in 0..5 {
//!     limiter.try_acquire()?;
//! }
//! let refused = limiter.try_acquire().unwrap_err();
//! assert_eq!(refused.retry_after, Duration::from_millis(100));
//!
//! rt.block_on(limiter.acquire()); // sleeps on the virtual clock
//! assert_eq!(rt.elapsed(), Duration::from_millis(100));
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::Runtime;
use crate::obs::rate::RateObs;

mod acquire;
mod builder;
mod clock;
mod error;
pub(crate) mod gcra;
mod quota;

#[cfg(feature = "test-util")]
pub(crate) mod fuzz;

pub use acquire::{Acquire, AcquireMany};
pub use builder::RateLimiterBuilder;
pub(crate) use builder::params;
#[cfg(target_os = "linux")]
pub use clock::CoarseClock;
#[cfg(feature = "test-util")]
pub use clock::ManualClock;
pub use clock::{Clock, StdClock};
pub use error::{InsufficientCapacity, RateLimited, TryAcquireError};
pub use quota::Quota;

use gcra::{Params, State};

/// The latest time since the epoch a limiter works with (2^63 − 1 ns, 292
/// years); keeps every sum in [`gcra`] below `u64::MAX`.
pub(crate) const MAX_NOW_NS: u64 = (1 << 63) - 1;

/// [`RateLimiter`]: a lock-free GCRA token bucket, with a pacing (leaky
/// bucket) mode.
///
/// # Why GCRA
///
/// The generic cell rate algorithm keeps a token bucket in one number, the
/// *theoretical arrival time* (TAT): the instant at which the bucket would be
/// full again if nothing else arrived. A check is one read of the clock, a
/// little arithmetic and one compare-and-swap of that number. There is no
/// refill timer and no background task: refill is implied by the clock
/// moving past the TAT, so an idle limiter costs nothing, and a thousand
/// limiters cost a thousand `u64`s.
///
/// # The admission rule
///
/// With `rate(u, p)` the emission interval is `T = ⌈p / u⌉` nanoseconds and
/// the tolerance is `τ = burst × T`. A request for `n` units (1 ≤ n ≤ burst)
/// at time `t` computes `TAT' = max(TAT, t) + n·T` and is admitted exactly
/// when `TAT' − τ ≤ t`; then `TAT := TAT'`. Otherwise it is refused with
/// `retry_after = TAT' − τ − t`, and the state is untouched. The bucket
/// starts full (`TAT = 0` at the limiter's creation).
///
/// Consequences, each tested on the virtual clock:
///
/// * `rate(10, 1 s).burst(5)` admits 5 units at t = 0, the 6th at 100 ms,
///   the 7th at 200 ms, and so on.
/// * Over any window of length `W`, at most `burst + ⌊W / T⌋` units are
///   admitted.
/// * `n > burst` is refused at once with [`InsufficientCapacity`], never
///   waited for; `n == burst` on a full bucket passes.
/// * `n == 0` is an availability probe: it passes when one unit would, and
///   consumes nothing.
/// * Pacing ([`pacing`](RateLimiterBuilder::pacing), i.e. burst 1): units
///   pass one interval apart, exactly, and never two at once.
///
/// # Waiting
///
/// [`acquire_many`](RateLimiter::acquire_many) reserves its units in the state at
/// its first poll, in the future if need be, and sleeps on the runtime's
/// timer until their instant. Each reservation moves the TAT on, so later
/// arrivals get later instants: waiters are served in arrival order by
/// construction, with no queue. A waiter dropped before its instant gives its
/// units back if no later reservation was stacked on top of it (exactly
/// `golang.org/x/time/rate`'s `Cancel` rule); otherwise the units stay spent,
/// so a cancellation can make the limiter admit less than it could, never
/// more.
///
/// # When not to use it
///
/// * To bound *concurrency* (calls in flight), use a semaphore or a
///   bulkhead: a rate limiter does not know when a call ends.
/// * Windows that must reset on calendar boundaries ("1000 per UTC day")
///   are fixed windows, not a bucket.
/// * Across processes: the state lives in this process's memory.
///
/// # Example
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::RateLimiter;
/// use weir_core::test_util::VirtualRuntime;
///
/// let rt = weir_core::test_util::VirtualRuntime::new();
/// let limiter = RateLimiter::builder().quota(weir_core::Quota::new(2, Duration::from_secs(1))).build(rt)?;
/// assert!(limiter.try_acquire().is_ok());
/// assert!(limiter.try_acquire().is_ok());
/// assert!(limiter.try_acquire().is_err());
/// # }
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
pub struct RateLimiter<R: Runtime, C: Clock = R> {
    inner: Arc<Inner<R, C>>,
}

struct Inner<R, C: Clock> {
    state: State,
    params: Params,
    clock: C,
    epoch: C::Instant,
    rt: R,
    obs: RateObs,
}

impl<R: Runtime> RateLimiter<R> {
    /// A builder; the rate is required. The runtime type is inferred from
    /// [`build`](RateLimiterBuilder::build).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::RateLimiter;
    ///
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let limiter = RateLimiter::builder().quota(weir_core::Quota::new(5, Duration::from_secs(1))).build(rt)?;
    /// assert_eq!(limiter.burst(), 5);
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn builder() -> RateLimiterBuilder<R> {
        RateLimiterBuilder::new()
    }
}

impl<R: Runtime, C: Clock> RateLimiter<R, C> {
    pub(crate) fn from_parts(rt: R, clock: C, params: Params, obs: RateObs) -> Self {
        let epoch = clock.now();
        RateLimiter {
            inner: Arc::new(Inner {
                state: State::new(),
                params,
                clock,
                epoch,
                rt,
                obs,
            }),
        }
    }

    /// Takes one unit if it conforms now.
    ///
    /// # Errors
    ///
    /// [`RateLimited`] with the time until it would conform.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::RateLimiter;
    ///
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let limiter = RateLimiter::builder().quota(weir_core::Quota::new(1, Duration::from_secs(1))).build(rt)?;
    /// assert!(limiter.try_acquire().is_ok());
    /// assert_eq!(limiter.try_acquire().unwrap_err().retry_after, Duration::from_secs(1));
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Result<(), RateLimited> {
        let inner = &*self.inner;
        let now = inner.now_ns();
        let taken = inner.state.try_take(&inner.params, now, 1);
        inner
            .obs
            .checked(taken.err().map(|at| rate_limited(at, now).retry_after));
        taken.map_err(|at| rate_limited(at, now))
    }

    /// Takes `n` units if they all conform now (all or nothing); with
    /// `n == 0`, only tells whether one unit would, consuming nothing.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::InsufficientCapacity`] when `n` exceeds the burst,
    /// [`TryAcquireError::RateLimited`] when the units do not conform yet.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::{RateLimiter, limit::TryAcquireError};
    ///
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let limiter = RateLimiter::builder().quota(weir_core::Quota::new(10, Duration::from_secs(1)).burst(5)).build(rt)?;
    /// assert!(matches!(limiter.try_acquire_many(6), Err(TryAcquireError::InsufficientCapacity(_))));
    /// assert!(limiter.try_acquire_many(0).is_ok()); // a probe
    /// assert!(limiter.try_acquire_many(5).is_ok());
    /// assert_eq!(
    ///     limiter.try_acquire_many(0).unwrap_err().retry_after(),
    ///     Some(Duration::from_millis(100))
    /// );
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    #[inline]
    pub fn try_acquire_many(&self, n: u32) -> Result<(), TryAcquireError> {
        let inner = &*self.inner;
        let p = &inner.params;
        if n > p.burst {
            return Err(InsufficientCapacity {
                requested: n,
                burst: p.burst,
            }
            .into());
        }
        let now = inner.now_ns();
        let outcome = if n == 0 {
            inner.state.probe(p, now)
        } else {
            inner.state.try_take(p, now, n)
        };
        if n > 0 {
            inner
                .obs
                .checked(outcome.err().map(|at| rate_limited(at, now).retry_after));
        }
        outcome.map_err(|at| rate_limited(at, now).into())
    }

    /// Waits for one unit, in arrival order. See [`acquire_many`](Self::acquire_many).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::RateLimiter;
    /// use weir_core::test_util::VirtualRuntime;
    ///
    /// let rt = VirtualRuntime::new();
    /// let limiter = RateLimiter::builder().quota(weir_core::Quota::new(4, Duration::from_secs(1)).pacing()).build(rt.clone())?;
    /// rt.block_on(async {
    ///     limiter.acquire().await;
    ///     limiter.acquire().await;
    /// });
    /// assert_eq!(rt.elapsed(), Duration::from_millis(250));
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn acquire(&self) -> Acquire<'_, R, C> {
        Acquire::new(self.acquire_many(1))
    }

    /// Waits until `n` units are granted.
    ///
    /// At its first poll the future reserves the units (possibly in the
    /// future) and then sleeps on the runtime's timer until they are due;
    /// a waiter that arrives later gets a later instant, so waiters are
    /// served in arrival order. `n == 0` waits until one unit would pass
    /// and consumes nothing (a probe: not ordered with the reservations).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes gives its units back when no
    /// later reservation was made meanwhile; otherwise they stay spent
    /// (a lost opportunity, never an excess). Dropping it after completion
    /// gives nothing back: the units were used.
    ///
    /// # Errors
    ///
    /// Resolves at once to [`InsufficientCapacity`] when `n` exceeds the
    /// burst.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::RateLimiter;
    /// use weir_core::test_util::VirtualRuntime;
    ///
    /// let rt = VirtualRuntime::new();
    /// let limiter = RateLimiter::builder().quota(weir_core::Quota::new(10, Duration::from_secs(1)).burst(5)).build(rt.clone())?;
    /// rt.block_on(async {
    ///     limiter.acquire_many(5).await.unwrap();
    ///     limiter.acquire_many(3).await.unwrap();
    ///     assert!(limiter.acquire_many(6).await.is_err());
    /// });
    /// assert_eq!(rt.elapsed(), Duration::from_millis(300));
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn acquire_many(&self, n: u32) -> AcquireMany<'_, R, C> {
        AcquireMany::new(self, n)
    }

    /// The most units one request may take (the bucket size).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::RateLimiter::builder().quota(weir_core::Quota::new(7, Duration::from_secs(1))).build(rt)?;
    /// assert_eq!(l.burst(), 7);
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn burst(&self) -> u32 {
        self.inner.params.burst
    }

    /// The emission interval: the time one unit costs.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::RateLimiter::builder().quota(weir_core::Quota::new(3, Duration::from_secs(1))).build(rt)?;
    /// assert_eq!(l.interval(), Duration::from_nanos(333_333_334)); // rounded up
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn interval(&self) -> Duration {
        Duration::from_nanos(self.inner.params.interval)
    }

    pub(crate) fn inner_now_ns(&self) -> u64 {
        self.inner.now_ns()
    }

    pub(crate) fn state(&self) -> &State {
        &self.inner.state
    }

    pub(crate) fn params(&self) -> &Params {
        &self.inner.params
    }

    pub(crate) fn obs(&self) -> &RateObs {
        &self.inner.obs
    }

    pub(crate) fn runtime(&self) -> &R {
        &self.inner.rt
    }
}

impl<R, C: Clock> Inner<R, C> {
    #[inline]
    fn now_ns(&self) -> u64 {
        self.clock
            .nanos_since(self.epoch, self.clock.now())
            .min(MAX_NOW_NS)
    }
}

#[inline]
fn rate_limited(at: u64, now: u64) -> RateLimited {
    RateLimited {
        retry_after: Duration::from_nanos(at - now),
    }
}

impl<R: Runtime, C: Clock> Clone for RateLimiter<R, C> {
    fn clone(&self) -> Self {
        RateLimiter {
            inner: self.inner.clone(),
        }
    }
}

impl<R: Runtime, C: Clock> fmt::Debug for RateLimiter<R, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.inner.params;
        f.debug_struct("RateLimiter")
            .field("interval", &Duration::from_nanos(p.interval))
            .field("burst", &p.burst)
            .field("tat_ns", &self.inner.state.tat())
            .field("now_ns", &self.inner.now_ns())
            .finish()
    }
}
