//! Where a limiter reads the time.

#![allow(unsafe_code)]

use core::fmt;
use std::time::Instant;

use crate::Runtime;

/// A monotonic clock a rate limiter reads on every check.
///
/// Every [`Runtime`] is a clock (its [`now`](Runtime::now)), and that is what
/// [`RateLimiterBuilder::build`](super::RateLimiterBuilder::build) uses, so
/// limiters follow the virtual clock in tests. A cheaper clock can be given
/// with [`build_with_clock`](super::RateLimiterBuilder::build_with_clock):
/// the check path reads the clock once, and on most machines
/// `Instant::now()` costs more than the rest of the check.
///
/// # Contract
///
/// [`nanos_since`](Clock::nanos_since) never decreases for a fixed `earlier`
/// as time goes on. A clock that stands still is allowed (no unit is ever
/// refilled until it moves); one that runs backwards makes the limiter
/// stricter, never looser, because the limiter takes the later of its stored
/// time and the clock's.
///
/// # Example
///
/// A clock that a test moves by hand:
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use weir_core::limit::Clock;
///
/// #[derive(Debug, Clone, Default)]
/// struct Manual(Arc<AtomicU64>);
///
/// impl Clock for Manual {
///     type Instant = u64;
///     fn now(&self) -> u64 {
///         self.0.load(Ordering::Relaxed)
///     }
///     fn nanos_since(&self, earlier: u64, later: u64) -> u64 {
///         later.saturating_sub(earlier)
///     }
/// }
///
/// let clock = Manual::default();
/// let t0 = clock.now();
/// clock.0.fetch_add(250, Ordering::Relaxed);
/// assert_eq!(clock.nanos_since(t0, clock.now()), 250);
/// ```
pub trait Clock: Clone + Send + Sync + fmt::Debug + 'static {
    /// A point in time on this clock.
    type Instant: Copy + Send + Sync + fmt::Debug + 'static;

    /// The current time.
    fn now(&self) -> Self::Instant;

    /// Nanoseconds from `earlier` to `later`: zero when `later` is not after
    /// `earlier`, `u64::MAX` when the gap does not fit (after 584 years).
    fn nanos_since(&self, earlier: Self::Instant, later: Self::Instant) -> u64;
}

/// A runtime's own clock: [`Runtime::now`].
///
/// ```
/// use weir_core::limit::Clock;
/// # #[cfg(feature = "test-util")] {
/// use weir_core::test_util::VirtualRuntime;
///
/// let rt = VirtualRuntime::new();
/// let t0 = Clock::now(&rt);
/// assert_eq!(rt.nanos_since(t0, Clock::now(&rt)), 0);
/// # }
/// ```
impl<R: Runtime> Clock for R {
    type Instant = Instant;

    #[inline]
    fn now(&self) -> Instant {
        Runtime::now(self)
    }

    #[inline]
    fn nanos_since(&self, earlier: Instant, later: Instant) -> u64 {
        nanos(later.saturating_duration_since(earlier))
    }
}

/// `std::time::Instant::now()`, without a runtime: the clock of the smol and
/// async-std adapters, for limiters whose runtime has a slower `now` (the
/// virtual runtime locks a mutex) or none that matters.
///
/// ```
/// use weir_core::limit::{Clock, StdClock};
/// let t0 = StdClock.now();
/// assert!(StdClock.nanos_since(t0, StdClock.now()) < 60_000_000_000);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StdClock;

impl Clock for StdClock {
    type Instant = Instant;

    #[inline]
    fn now(&self) -> Instant {
        Instant::now()
    }

    #[inline]
    fn nanos_since(&self, earlier: Instant, later: Instant) -> u64 {
        nanos(later.saturating_duration_since(earlier))
    }
}

/// A duration in nanoseconds, saturating at `u64::MAX`.
#[inline]
pub(crate) fn nanos(d: std::time::Duration) -> u64 {
    // u64 arithmetic rather than `as_nanos()`'s u128: this is on every check.
    d.as_secs()
        .checked_mul(1_000_000_000)
        .and_then(|ns| ns.checked_add(u64::from(d.subsec_nanos())))
        .unwrap_or(u64::MAX)
}

/// The kernel's coarse monotonic clock (`CLOCK_MONOTONIC_COARSE`, Linux):
/// read from the vDSO without touching the hardware counter, several times
/// cheaper than `Instant::now()` (measured: `benches/rate.rs`,
/// `direct_check_allowed`), at the price of resolution: it moves in kernel
/// ticks (1 to 4 ms, [`resolution`](CoarseClock::resolution)).
///
/// A coarse clock lags true time by up to one tick, so a limiter on it
/// never admits early; it may admit late by up to a tick. Use it when a
/// tick is small next to the burst's span (`burst × interval`): with a
/// 4 ms tick, `rate(1000, 1 s).burst(1)` would only see time in 4 ms steps
/// and admit about 250 per second, while `burst(20)` loses nothing.
///
/// ```
/// use weir_core::limit::{Clock, CoarseClock};
///
/// if let Some(clock) = CoarseClock::new() {
///     let t0 = clock.now();
///     assert!(clock.nanos_since(t0, clock.now()) < 1_000_000_000);
///     assert!(clock.resolution() <= std::time::Duration::from_millis(10));
/// }
/// ```
#[cfg(target_os = "linux")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoarseClock {
    resolution_ns: u64,
}

#[cfg(target_os = "linux")]
impl CoarseClock {
    /// The coarse clock, or `None` if this kernel does not provide it.
    ///
    /// ```
    /// assert!(weir_core::limit::CoarseClock::new().is_some());
    /// ```
    pub fn new() -> Option<Self> {
        let mut res = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `res` is a valid, writable timespec for the duration of
        // the call; the kernel writes nothing else.
        let rc = unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC_COARSE, &mut res) };
        (rc == 0).then(|| CoarseClock {
            resolution_ns: timespec_ns(&res),
        })
    }

    /// How far apart the clock's readings step.
    ///
    /// ```
    /// if let Some(c) = weir_core::limit::CoarseClock::new() {
    ///     assert!(c.resolution() > std::time::Duration::ZERO);
    /// }
    /// ```
    pub fn resolution(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.resolution_ns)
    }
}

#[cfg(target_os = "linux")]
fn timespec_ns(ts: &libc::timespec) -> u64 {
    // A monotonic reading is never negative; clamp rather than wrap if a
    // platform ever says otherwise.
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(ts.tv_nsec).unwrap_or(0);
    secs.saturating_mul(1_000_000_000).saturating_add(nanos)
}

#[cfg(target_os = "linux")]
impl Clock for CoarseClock {
    /// Nanoseconds on the kernel's coarse monotonic clock.
    type Instant = u64;

    #[inline]
    fn now(&self) -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec for the duration of the
        // call. The clock exists (`new` checked it), so the call cannot fail;
        // were it to, `ts` stays zero and the limiter sees time stand still,
        // which only makes it stricter.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
        timespec_ns(&ts)
    }

    #[inline]
    fn nanos_since(&self, earlier: u64, later: u64) -> u64 {
        later.saturating_sub(earlier)
    }
}

/// A clock moved by hand, shared by its clones, counting nanoseconds from
/// zero: for tests of a limiter's arithmetic that need no timer (feature
/// `test-util`).
///
/// ```
/// use std::time::Duration;
/// use weir_core::limit::{Clock, ManualClock};
///
/// let clock = ManualClock::default();
/// let twin = clock.clone();
/// clock.advance(Duration::from_millis(3));
/// assert_eq!(twin.now(), 3_000_000);
/// ```
#[cfg(feature = "test-util")]
#[derive(Debug, Clone, Default)]
pub struct ManualClock(std::sync::Arc<std::sync::atomic::AtomicU64>);

#[cfg(feature = "test-util")]
impl ManualClock {
    /// Moves the clock forward by `d` (saturating at `u64::MAX` ns).
    ///
    /// ```
    /// use weir_core::limit::{Clock, ManualClock};
    /// let clock = ManualClock::default();
    /// clock.advance(std::time::Duration::from_nanos(5));
    /// assert_eq!(clock.now(), 5);
    /// ```
    pub fn advance(&self, d: std::time::Duration) {
        self.advance_nanos(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    }

    /// Moves the clock forward by `ns` nanoseconds.
    ///
    /// ```
    /// use weir_core::limit::{Clock, ManualClock};
    /// let clock = ManualClock::default();
    /// clock.advance_nanos(7);
    /// assert_eq!(clock.now(), 7);
    /// ```
    pub fn advance_nanos(&self, ns: u64) {
        self.0.fetch_add(ns, std::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(feature = "test-util")]
impl Clock for ManualClock {
    type Instant = u64;
    fn now(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
    fn nanos_since(&self, earlier: u64, later: u64) -> u64 {
        later.saturating_sub(earlier)
    }
}
