//! Adaptive concurrency: a bulkhead whose limit follows observed latency
//! and drops. The rules are documented on [`AdaptiveLimiter`].

mod aimd;
mod algorithm;
mod bounds;
mod gradient2;
mod vegas;

use core::fmt;
use std::borrow::Cow;
use std::time::Instant;

pub use aimd::{Aimd, AimdBuilder};
pub use algorithm::{Limit, Sample};
pub use gradient2::{Gradient2, Gradient2Builder};
pub use vegas::{Vegas, VegasBuilder};

use super::bulkhead::{Bulkhead, BulkheadError, BulkheadPermit};
use crate::Runtime;
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicU64, Ordering::Relaxed};
use crate::obs::{Name, adaptive::AdaptiveObs};

/// Adaptive concurrency: a [`Bulkhead`] whose limit follows the latency and
/// the drops its calls observe.
///
/// An [`AdaptiveLimiter`] hands out permits from a bulkhead and learns from
/// each finished call. A call ends in one of three ways, and says which:
///
/// * [`success`](AdaptivePermit::success): a latency sample;
/// * [`dropped`](AdaptivePermit::dropped): the service refused for overload
///   or the call timed out, a loss signal (report a timeout this way, not
///   as a slow success);
/// * [`ignore`](AdaptivePermit::ignore), or dropping the permit without a
///   word (a cancelled call, a client error): no sample.
///
/// The sample goes to a [`Limit`] algorithm, [`Aimd`] (loss-driven),
/// [`Vegas`] or [`Gradient2`] (delay-driven), whose answer becomes the
/// bulkhead's limit at once. Raising it admits waiters at once; lowering it
/// takes effect as permits come back. Limits stay within the algorithm's
/// `[min, max]`.
///
/// Pick [`Vegas`] to keep latency near its unloaded value: it backs off as
/// soon as calls queue at the service. [`Aimd`] backs off only on drops or
/// timeouts, so it fills the service up to the point of failure.
/// [`Gradient2`] tolerates calls up to 1.5× its long-run average latency,
/// and that average follows the latency up under sustained overload.
///
/// ```
/// use std::time::Duration;
/// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Vegas};
/// # #[cfg(feature = "test-util")] {
/// use weir_core::test_util::VirtualRuntime;
///
/// let rt = VirtualRuntime::new();
/// let bulkhead = Bulkhead::builder().max_concurrent(1).queue_capacity(1000).build(rt.clone())?;
/// let limiter = AdaptiveLimiter::new(bulkhead, Vegas::builder().initial(10).build()?);
/// assert_eq!(limiter.bulkhead().max_concurrent(), 10);
/// rt.block_on(async {
///     let permit = limiter.acquire().await.unwrap();
///     rt.advance(Duration::from_millis(20)).await; // the call
///     permit.success();
/// });
/// assert_eq!(limiter.stats().samples, 1);
/// # }
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
pub struct AdaptiveLimiter<R, L> {
    bulkhead: Bulkhead<R>,
    limit: Mutex<L>,
    samples: AtomicU64,
    dropped: AtomicU64,
    ignored: AtomicU64,
    obs: AdaptiveObs,
}

impl<R, L: fmt::Debug> fmt::Debug for AdaptiveLimiter<R, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdaptiveLimiter")
            .field("bulkhead", &self.bulkhead)
            .field("limit", &*self.limit.lock())
            .finish_non_exhaustive()
    }
}

/// A snapshot of an [`AdaptiveLimiter`]'s counters.
///
/// ```
/// let s = weir_core::limit::AdaptiveStats::default();
/// assert_eq!(s.samples, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct AdaptiveStats {
    /// The limit in force.
    pub limit: u32,
    /// Calls completed as success or dropped: samples given to the limit.
    pub samples: u64,
    /// Of those, the drops.
    pub dropped: u64,
    /// Calls completed as ignored (or whose permit was just dropped).
    pub ignored: u64,
}

impl<R: Runtime, L: Limit> AdaptiveLimiter<R, L> {
    /// Drives `bulkhead`'s limit with `limit`, starting from
    /// `limit.limit()`. The bulkhead's queue, wait and order stay as built;
    /// other clones of the bulkhead share the new limit.
    ///
    /// ```
    /// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Aimd};
    /// # #[cfg(feature = "test-util")] {
    /// let b = Bulkhead::builder().max_concurrent(100)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// let limiter = AdaptiveLimiter::new(b, Aimd::builder().initial(20).build().unwrap());
    /// assert_eq!(limiter.bulkhead().max_concurrent(), 20);
    /// # }
    /// ```
    pub fn new(bulkhead: Bulkhead<R>, limit: L) -> Self {
        // An algorithm that answers 0 (or too much) leaves the bulkhead's
        // limit as it was: see `apply`.
        let _ = bulkhead.set_max_concurrent(limit.limit());
        AdaptiveLimiter {
            bulkhead,
            limit: Mutex::new(limit),
            samples: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            ignored: AtomicU64::new(0),
            obs: AdaptiveObs::new(Name::default()),
        }
    }

    /// Names the limiter in its tracing events and metric labels (the
    /// `name` label; see [`obs`](crate::obs)). Default: `"default"`. Its
    /// limit is reported by its bulkhead, under the bulkhead's name.
    ///
    /// ```
    /// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Aimd};
    /// # #[cfg(feature = "test-util")] {
    /// let b = Bulkhead::builder().max_concurrent(100).name("search")
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// let limiter = AdaptiveLimiter::new(b, Aimd::builder().build().unwrap()).name("search");
    /// # drop(limiter);
    /// # }
    /// ```
    #[must_use]
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.obs = AdaptiveObs::new(Name::new(name));
        self
    }

    /// Waits for a permit from the bulkhead.
    ///
    /// # Errors
    ///
    /// The bulkhead's refusals: see [`Bulkhead::acquire`].
    ///
    /// ```
    /// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Aimd};
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = Bulkhead::builder().max_concurrent(1).build(rt.clone()).unwrap();
    /// let limiter = AdaptiveLimiter::new(b, Aimd::builder().build().unwrap());
    /// rt.block_on(async { limiter.acquire().await.unwrap().success() });
    /// # }
    /// ```
    pub async fn acquire(&self) -> Result<AdaptivePermit<'_, R, L>, BulkheadError> {
        let permit = self.bulkhead.acquire().await?;
        Ok(self.start(permit))
    }

    /// Takes a permit if one is free now.
    ///
    /// # Errors
    ///
    /// The bulkhead's refusals: see [`Bulkhead::try_acquire`].
    ///
    /// ```
    /// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Aimd};
    /// # #[cfg(feature = "test-util")] {
    /// let b = Bulkhead::builder().max_concurrent(1)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// let limiter = AdaptiveLimiter::new(b, Aimd::builder().min(1).initial(1).build().unwrap());
    /// let p = limiter.try_acquire().unwrap();
    /// assert!(limiter.try_acquire().is_err());
    /// p.ignore();
    /// # }
    /// ```
    pub fn try_acquire(&self) -> Result<AdaptivePermit<'_, R, L>, BulkheadError> {
        let permit = self.bulkhead.try_acquire()?;
        Ok(self.start(permit))
    }

    fn start<'a>(&'a self, permit: BulkheadPermit<'a>) -> AdaptivePermit<'a, R, L> {
        AdaptivePermit {
            limiter: self,
            started: self.bulkhead.runtime().now(),
            in_flight: self.bulkhead.in_flight(),
            permit: Some(permit),
        }
    }

    /// The limit in force.
    ///
    /// ```
    /// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Aimd};
    /// # #[cfg(feature = "test-util")] {
    /// let b = Bulkhead::builder().max_concurrent(1)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// let limiter = AdaptiveLimiter::new(b, Aimd::builder().initial(9).build().unwrap());
    /// assert_eq!(limiter.limit(), 9);
    /// # }
    /// ```
    pub fn limit(&self) -> u32 {
        self.bulkhead.max_concurrent()
    }

    /// The bulkhead whose limit this drives.
    ///
    /// ```
    /// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Aimd};
    /// # #[cfg(feature = "test-util")] {
    /// let b = Bulkhead::builder().max_concurrent(1)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// let limiter = AdaptiveLimiter::new(b, Aimd::builder().build().unwrap());
    /// assert_eq!(limiter.bulkhead().stats().in_flight, 0);
    /// # }
    /// ```
    pub fn bulkhead(&self) -> &Bulkhead<R> {
        &self.bulkhead
    }

    /// A snapshot of the counters.
    ///
    /// ```
    /// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Aimd};
    /// # #[cfg(feature = "test-util")] {
    /// let b = Bulkhead::builder().max_concurrent(1)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// let limiter = AdaptiveLimiter::new(b, Aimd::builder().initial(3).build().unwrap());
    /// limiter.try_acquire().unwrap().ignore();
    /// let s = limiter.stats();
    /// assert_eq!((s.limit, s.samples, s.ignored), (3, 0, 1));
    /// # }
    /// ```
    pub fn stats(&self) -> AdaptiveStats {
        AdaptiveStats {
            limit: self.limit(),
            samples: self.samples.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
            ignored: self.ignored.load(Relaxed),
        }
    }

    /// Feeds a sample and sets the bulkhead's limit, under the algorithm's
    /// lock so that limits reach the bulkhead in the order they were
    /// computed.
    fn apply(&self, sample: Sample) {
        self.samples.fetch_add(1, Relaxed);
        if sample.dropped {
            self.dropped.fetch_add(1, Relaxed);
        }
        let mut limit = self.limit.lock();
        let new = limit.on_sample(sample);
        self.obs.sample(&sample, new);
        // A zero (or oversized) answer from a user's algorithm is ignored
        // rather than pausing the bulkhead: `close` is for that.
        let _ = self.bulkhead.set_max_concurrent(new);
    }
}

/// A permit of an [`AdaptiveLimiter`], timed from its admission. Complete it
/// with [`success`](AdaptivePermit::success),
/// [`dropped`](AdaptivePermit::dropped) or
/// [`ignore`](AdaptivePermit::ignore); dropping it without a word (a
/// cancelled call, a panic) counts as ignored.
///
/// ```
/// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Aimd};
/// # #[cfg(feature = "test-util")] {
/// let b = Bulkhead::builder().max_concurrent(1)
///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
/// let limiter = AdaptiveLimiter::new(b, Aimd::builder().build().unwrap());
/// drop(limiter.try_acquire().unwrap());
/// assert_eq!(limiter.stats().ignored, 1);
/// # }
/// ```
#[must_use = "complete the permit with success(), dropped() or ignore()"]
pub struct AdaptivePermit<'a, R: Runtime, L: Limit> {
    limiter: &'a AdaptiveLimiter<R, L>,
    permit: Option<BulkheadPermit<'a>>,
    started: Instant,
    in_flight: u32,
}

impl<R: Runtime, L: Limit> AdaptivePermit<'_, R, L> {
    /// The call succeeded: its latency is a sample.
    ///
    /// ```
    /// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Aimd};
    /// # #[cfg(feature = "test-util")] {
    /// let b = Bulkhead::builder().max_concurrent(1)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// let limiter = AdaptiveLimiter::new(b, Aimd::builder().initial(1).build().unwrap());
    /// limiter.try_acquire().unwrap().success();
    /// assert_eq!(limiter.limit(), 2);
    /// # }
    /// ```
    pub fn success(self) {
        self.finish(false);
    }

    /// The call was dropped (overload refusal, timeout): a loss signal.
    ///
    /// ```
    /// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Aimd};
    /// # #[cfg(feature = "test-util")] {
    /// let b = Bulkhead::builder().max_concurrent(1)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// let limiter = AdaptiveLimiter::new(b, Aimd::builder().initial(10).build().unwrap());
    /// limiter.try_acquire().unwrap().dropped();
    /// assert_eq!(limiter.limit(), 9);
    /// # }
    /// ```
    pub fn dropped(self) {
        self.finish(true);
    }

    /// The call says nothing about the service's capacity (a client error,
    /// a cancelled call): the permit is returned without a sample.
    ///
    /// ```
    /// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Aimd};
    /// # #[cfg(feature = "test-util")] {
    /// let b = Bulkhead::builder().max_concurrent(1)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// let limiter = AdaptiveLimiter::new(b, Aimd::builder().initial(10).build().unwrap());
    /// limiter.try_acquire().unwrap().ignore();
    /// assert_eq!(limiter.limit(), 10);
    /// # }
    /// ```
    pub fn ignore(self) {
        drop(self);
    }

    fn finish(mut self, dropped: bool) {
        let Some(permit) = self.permit.take() else {
            return;
        };
        let sample = Sample {
            latency: self.limiter.bulkhead.runtime().now() - self.started,
            in_flight: self.in_flight,
            dropped,
        };
        // The permit goes back first, as the call is over; the new limit
        // then applies to the next admissions.
        drop(permit);
        self.limiter.apply(sample);
    }
}

impl<R: Runtime, L: Limit> Drop for AdaptivePermit<'_, R, L> {
    fn drop(&mut self) {
        if self.permit.take().is_some() {
            self.limiter.ignored.fetch_add(1, Relaxed);
            self.limiter.obs.ignored();
        }
    }
}

impl<R: Runtime, L: Limit> fmt::Debug for AdaptivePermit<'_, R, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdaptivePermit")
            .field("started", &self.started)
            .field("in_flight", &self.in_flight)
            .finish_non_exhaustive()
    }
}
