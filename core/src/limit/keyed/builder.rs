//! Validating a keyed rate limiter's configuration.

use core::fmt;
use core::hash::Hash;
use core::marker::PhantomData;
use std::borrow::Cow;
use std::sync::Arc;

use dashmap::DashMap;

use super::expiry::Expiry;
use super::{COMPONENT, Eviction, Inner, KeyedRateLimiter};
use crate::Runtime;
use crate::limit::rate::{Clock, Quota, params};
use crate::loom::sync::Mutex;
use crate::obs::{Name, rate::RateObs};
use crate::{ConfigError, Rule};

/// Configures a [`KeyedRateLimiter`]: the [`Quota`] of every key, and the
/// memory policy.
///
/// ```
/// use std::time::Duration;
/// use weir_core::KeyedRateLimiter;
/// # #[cfg(feature = "test-util")] {
/// let rt = weir_core::test_util::VirtualRuntime::new();
/// let limiter = KeyedRateLimiter::<u64, _>::builder()
///     .quota(weir_core::Quota::new(100, Duration::from_secs(1)).burst(10))
///     .max_keys(50_000)
///     .sweep_every(4096)
///     .build(rt)?;
/// assert_eq!(limiter.len(), 0);
/// # }
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
#[must_use = "a builder does nothing itself: call .build(rt) to make the limiter"]
pub struct KeyedRateLimiterBuilder<K, R> {
    quota: Option<Quota>,
    max_keys: usize,
    sweep_every: usize,
    name: Name,
    _types: PhantomData<fn() -> (K, R)>,
}

impl<K, R> fmt::Debug for KeyedRateLimiterBuilder<K, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedRateLimiterBuilder")
            .field("quota", &self.quota)
            .field("max_keys", &self.max_keys)
            .field("sweep_every", &self.sweep_every)
            .field("name", &self.name)
            .finish()
    }
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static, R: Runtime> KeyedRateLimiterBuilder<K, R> {
    pub(super) fn new() -> Self {
        KeyedRateLimiterBuilder {
            quota: None,
            max_keys: usize::MAX,
            sweep_every: 1024,
            name: Name::default(),
            _types: PhantomData,
        }
    }

    /// Names the limiter in its tracing events and metric labels (the
    /// `name` label; see [`obs`](crate::obs)). Default: `"default"`.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::KeyedRateLimiter::builder()
    ///     .quota(weir_core::Quota::new(1, Duration::from_secs(1))).name("per-user").build(rt)?;
    /// assert!(l.try_acquire(&1u8).is_ok());
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Name::new(name);
        self
    }

    /// What every key may take (required): the same [`Quota`] a
    /// [`RateLimiter`](crate::RateLimiter) takes, applied to each key
    /// on its own.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::Quota;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::KeyedRateLimiter::builder()
    ///     .quota(Quota::per_second(10).burst(2)).build(rt)?;
    /// assert!(l.try_acquire_many(&0u8, 2).is_ok());
    /// assert!(l.try_acquire(&0u8).is_err());
    /// assert!(l.try_acquire(&1u8).is_ok()); // another key, another bucket
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn quota(mut self, quota: Quota) -> Self {
        self.quota = Some(quota);
        self
    }

    /// The most keys stored at once (default: unlimited). See the
    /// [`KeyedRateLimiter` docs](crate::KeyedRateLimiter) for what happens when it is reached.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::KeyedRateLimiter::builder()
    ///     .quota(weir_core::Quota::new(1, Duration::from_secs(1))).max_keys(1).build(rt)?;
    /// assert!(l.try_acquire(&1u8).is_ok());
    /// assert!(l.try_acquire(&2u8).is_err()); // key 1 is still charged
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys;
        self
    }

    /// Evict the keys whose bucket has become full after this many new
    /// keys (default 1024). A sweep costs only the keys it finds due (see
    /// the [`KeyedRateLimiter` docs](crate::KeyedRateLimiter)), so a smaller value holds memory closer to
    /// the live keys without costing more per key.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::KeyedRateLimiter::<u8, _>::builder()
    ///     .quota(weir_core::Quota::new(1, Duration::from_secs(1))).sweep_every(100).build(rt)?;
    /// # drop(l);
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn sweep_every(mut self, new_keys: usize) -> Self {
        self.sweep_every = new_keys;
        self
    }

    /// Builds the limiter on `rt`'s clock.
    ///
    /// # Errors
    ///
    /// As [`RateLimiterBuilder::build`](super::rate::RateLimiterBuilder::build)
    /// for `quota` (and its `rate`, `period` and `burst`); `max_keys` and
    /// `sweep_every` when zero.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let err = weir_core::KeyedRateLimiter::<u8, _>::builder()
    ///     .quota(weir_core::Quota::new(1, Duration::from_secs(1))).max_keys(0).build(rt).unwrap_err();
    /// assert_eq!(err.field(), "max_keys");
    /// # }
    /// ```
    pub fn build(self, rt: R) -> Result<KeyedRateLimiter<K, R>, ConfigError> {
        let clock = rt.clone();
        self.build_with_clock(rt, clock)
    }

    /// Builds the limiter with a separate check clock (see
    /// [`RateLimiterBuilder::build_with_clock`](crate::limit::RateLimiterBuilder::build_with_clock)).
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::limit::StdClock;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::KeyedRateLimiter::builder()
    ///     .quota(weir_core::Quota::new(1, Duration::from_secs(1))).build_with_clock(rt, StdClock)?;
    /// assert!(l.try_acquire(&'x').is_ok());
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn build_with_clock<C: Clock>(
        self,
        rt: R,
        clock: C,
    ) -> Result<KeyedRateLimiter<K, R, C>, ConfigError> {
        let params = params(self.quota, COMPONENT)?;
        if self.max_keys == 0 {
            return Err(ConfigError::new(COMPONENT, "max_keys", Rule::Zero));
        }
        if self.sweep_every == 0 {
            return Err(ConfigError::new(COMPONENT, "sweep_every", Rule::Zero));
        }
        let epoch = clock.now();
        Ok(KeyedRateLimiter {
            inner: Arc::new(Inner {
                map: DashMap::new(),
                params,
                max_keys: self.max_keys,
                sweep_every: self.sweep_every,
                eviction: Mutex::new(Eviction {
                    index: Box::new(Expiry::new()),
                    since_sweep: 0,
                    peak: 0,
                }),
                clock,
                epoch,
                _rt: rt,
                obs: RateObs::keyed(self.name),
            }),
        })
    }
}
