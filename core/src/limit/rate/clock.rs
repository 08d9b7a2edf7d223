//! Where a limiter reads the time.

use core::fmt;
use std::time::Instant;

use crate::rt::Runtime;

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
/// use weir_core::limit::rate::Clock;
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
/// use weir_core::limit::rate::Clock;
/// # #[cfg(feature = "test-util")] {
/// use weir_core::rt::VirtualRuntime;
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
/// use weir_core::limit::rate::{Clock, StdClock};
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
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
