//! [`KeyedRateLimiter`]: one GCRA per key (per user, per server, per tool),
//! with bounded memory.
//!
//! Each key gets the same quota as a [`RateLimiter`](super::rate::RateLimiter)
//! built from the same rate and burst, and its own state: one `u64` in a
//! [`dashmap`] shard. A check on a known key takes the shard's read lock and
//! does the same single CAS as the unkeyed limiter.
//!
//! # Memory stays bounded
//!
//! A key whose bucket is full (its theoretical arrival time is at or before
//! now) behaves exactly like a key never seen, so dropping it changes no
//! decision. Such keys are *evicted*:
//!
//! * by [`retain_recent`](KeyedRateLimiter::retain_recent), callable at any
//!   time;
//! * automatically, every [`sweep_every`](KeyedRateLimiterBuilder::sweep_every)
//!   insertions of new keys (default 1024): growth is the only way memory is
//!   spent, so sweeping on insertion bounds it while the check path on a
//!   known key pays nothing. The sweep runs on the inserting caller and takes
//!   each shard's write lock in turn (checks on that shard wait for it);
//! * when [`max_keys`](KeyedRateLimiterBuilder::max_keys) is reached.
//!
//! # When the key limit is reached
//!
//! A new key arriving when `max_keys` keys are stored first triggers a sweep
//! of full-bucket keys. If the map is still full, the request is refused with
//! [`KeyedError::KeyLimitReached`]: known keys keep being served exactly, and
//! no live state is ever dropped (dropping one would hand its owner a fresh
//! full bucket, i.e. admit more than the quota). The limit may be overshot by
//! the number of threads inserting at the same instant.
//!
//! # Example
//!
//! ```
//! # #[cfg(feature = "test-util")] {
//! use std::time::Duration;
//! use weir_core::limit::keyed::{KeyedError, KeyedRateLimiter};
//!
//! let rt = weir_core::rt::VirtualRuntime::new();
//! let per_user = KeyedRateLimiter::builder()
//!     .rate(2, Duration::from_secs(1))
//!     .build(rt)?;
//! assert!(per_user.try_acquire(&"alice").is_ok());
//! assert!(per_user.try_acquire(&"alice").is_ok());
//! assert!(matches!(per_user.try_acquire(&"alice"), Err(KeyedError::RateLimited(_))));
//! assert!(per_user.try_acquire(&"bob").is_ok()); // bob has his own bucket
//! # }
//! # Ok::<(), weir_core::ConfigError>(())
//! ```

use core::fmt;
use core::hash::Hash;
use core::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;

use super::rate::gcra::{Params, State};
use super::rate::{Clock, Config, InsufficientCapacity, MAX_NOW_NS, RateLimited};
use crate::error::{ConfigError, Rule};
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::rt::Runtime;

const COMPONENT: &str = "KeyedRateLimiter";

/// Why a keyed check refused.
///
/// ```
/// use weir_core::limit::keyed::KeyedError;
/// let e = KeyedError::KeyLimitReached { max_keys: 10 };
/// assert_eq!(e.to_string(), "key limit of 10 reached: no room for a new key");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyedError {
    /// This key's units do not conform yet.
    RateLimited(RateLimited),
    /// More units than the burst were asked for.
    InsufficientCapacity(InsufficientCapacity),
    /// The key is new and the map holds `max_keys` live keys.
    KeyLimitReached {
        /// The configured limit.
        max_keys: usize,
    },
}

impl KeyedError {
    /// When to try again, or `None` if waiting alone cannot help.
    ///
    /// ```
    /// use weir_core::limit::keyed::KeyedError;
    /// assert_eq!(KeyedError::KeyLimitReached { max_keys: 1 }.retry_after(), None);
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            KeyedError::RateLimited(r) => Some(r.retry_after),
            _ => None,
        }
    }
}

impl fmt::Display for KeyedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyedError::RateLimited(e) => e.fmt(f),
            KeyedError::InsufficientCapacity(e) => e.fmt(f),
            KeyedError::KeyLimitReached { max_keys } => {
                write!(f, "key limit of {max_keys} reached: no room for a new key")
            }
        }
    }
}

impl std::error::Error for KeyedError {}

/// Configures a [`KeyedRateLimiter`]: the rate and burst of every key, and
/// the memory policy.
///
/// ```
/// use std::time::Duration;
/// use weir_core::limit::keyed::KeyedRateLimiter;
/// # #[cfg(feature = "test-util")] {
/// let rt = weir_core::rt::VirtualRuntime::new();
/// let limiter = KeyedRateLimiter::<u64, _>::builder()
///     .rate(100, Duration::from_secs(1))
///     .burst(10)
///     .max_keys(50_000)
///     .sweep_every(4096)
///     .build(rt)?;
/// assert_eq!(limiter.len(), 0);
/// # }
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
#[must_use = "a builder does nothing itself: call .build(rt) to make the limiter"]
pub struct KeyedRateLimiterBuilder<K, R> {
    config: Config,
    max_keys: usize,
    sweep_every: usize,
    _types: PhantomData<fn() -> (K, R)>,
}

impl<K, R> fmt::Debug for KeyedRateLimiterBuilder<K, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedRateLimiterBuilder")
            .field("config", &self.config)
            .field("max_keys", &self.max_keys)
            .field("sweep_every", &self.sweep_every)
            .finish()
    }
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static, R: Runtime> KeyedRateLimiterBuilder<K, R> {
    /// `units` per `period` for every key (see
    /// [`RateLimiterBuilder::rate`](super::rate::RateLimiterBuilder::rate)).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::rt::VirtualRuntime::new();
    /// let l = weir_core::limit::keyed::KeyedRateLimiter::builder().rate(1, Duration::from_secs(1)).build(rt)?;
    /// assert!(l.try_acquire(&1u8).is_ok());
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn rate(mut self, units: u32, period: Duration) -> Self {
        self.config.set_rate(units, period);
        self
    }

    /// A fractional rate per second for every key.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::rt::VirtualRuntime::new();
    /// let l = weir_core::limit::keyed::KeyedRateLimiter::builder().rate_per_second(0.1).build(rt)?;
    /// assert!(l.try_acquire(&"k").is_ok());
    /// assert!(l.try_acquire(&"k").is_err());
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn rate_per_second(mut self, units_per_second: f64) -> Self {
        self.config.set_rate_per_second(units_per_second);
        self
    }

    /// Each key's bucket size (default: one period's units).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::rt::VirtualRuntime::new();
    /// let l = weir_core::limit::keyed::KeyedRateLimiter::builder()
    ///     .rate(10, Duration::from_secs(1)).burst(2).build(rt)?;
    /// assert!(l.try_acquire_n(&0u8, 2).is_ok());
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn burst(mut self, units: u32) -> Self {
        self.config.set_burst(units);
        self
    }

    /// Pacing for every key: `burst(1)`.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::rt::VirtualRuntime::new();
    /// let l = weir_core::limit::keyed::KeyedRateLimiter::builder()
    ///     .rate(10, Duration::from_secs(1)).pacing().build(rt)?;
    /// assert!(l.try_acquire(&0u8).is_ok());
    /// assert!(l.try_acquire(&0u8).is_err());
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn pacing(self) -> Self {
        self.burst(1)
    }

    /// The most keys stored at once (default: unlimited). See the
    /// [module docs](self) for what happens when it is reached.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::rt::VirtualRuntime::new();
    /// let l = weir_core::limit::keyed::KeyedRateLimiter::builder()
    ///     .rate(1, Duration::from_secs(1)).max_keys(1).build(rt)?;
    /// assert!(l.try_acquire(&1u8).is_ok());
    /// assert!(l.try_acquire(&2u8).is_err()); // key 1 is still charged
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys;
        self
    }

    /// Sweep full-bucket keys after this many new keys (default 1024).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::rt::VirtualRuntime::new();
    /// let l = weir_core::limit::keyed::KeyedRateLimiter::<u8, _>::builder()
    ///     .rate(1, Duration::from_secs(1)).sweep_every(100).build(rt)?;
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
    /// for `rate`, `period` and `burst`; `max_keys` and `sweep_every` when
    /// zero.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::rt::VirtualRuntime::new();
    /// let err = weir_core::limit::keyed::KeyedRateLimiter::<u8, _>::builder()
    ///     .rate(1, Duration::from_secs(1)).max_keys(0).build(rt).unwrap_err();
    /// assert_eq!(err.field(), "max_keys");
    /// # }
    /// ```
    pub fn build(self, rt: R) -> Result<KeyedRateLimiter<K, R>, ConfigError> {
        let clock = rt.clone();
        self.build_with_clock(rt, clock)
    }

    /// Builds the limiter with a separate check clock (see
    /// [`RateLimiterBuilder::build_with_clock`](super::rate::RateLimiterBuilder::build_with_clock)).
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::limit::rate::StdClock;
    /// let rt = weir_core::rt::VirtualRuntime::new();
    /// let l = weir_core::limit::keyed::KeyedRateLimiter::builder()
    ///     .rate(1, Duration::from_secs(1)).build_with_clock(rt, StdClock)?;
    /// assert!(l.try_acquire(&'x').is_ok());
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn build_with_clock<C: Clock>(
        self,
        rt: R,
        clock: C,
    ) -> Result<KeyedRateLimiter<K, R, C>, ConfigError> {
        let params = self.config.params(COMPONENT)?;
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
                inserted: AtomicUsize::new(0),
                clock,
                epoch,
                _rt: rt,
            }),
        })
    }
}

/// One rate limit per key; see the [module docs](self).
///
/// Cheap to clone: clones share the map.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::limit::keyed::KeyedRateLimiter;
///
/// let rt = weir_core::rt::VirtualRuntime::new();
/// let per_tool = KeyedRateLimiter::builder().rate(5, Duration::from_secs(1)).build(rt)?;
/// assert!(per_tool.try_acquire_n(&"search", 5).is_ok());
/// assert!(per_tool.try_acquire(&"search").is_err());
/// assert!(per_tool.try_acquire(&"fetch").is_ok());
/// # }
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
pub struct KeyedRateLimiter<K, R, C: Clock = R> {
    inner: Arc<Inner<K, R, C>>,
}

struct Inner<K, R, C: Clock> {
    map: DashMap<K, State>,
    params: Params,
    max_keys: usize,
    sweep_every: usize,
    /// New keys since the last sweep.
    inserted: AtomicUsize,
    clock: C,
    epoch: C::Instant,
    /// Kept for a future waiting API and so that the type names its runtime.
    _rt: R,
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static, R: Runtime> KeyedRateLimiter<K, R> {
    /// A builder; the rate is required.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::rt::VirtualRuntime::new();
    /// let l = weir_core::limit::keyed::KeyedRateLimiter::builder().rate(3, Duration::from_secs(1)).build(rt)?;
    /// assert!(l.try_acquire(&"a").is_ok());
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn builder() -> KeyedRateLimiterBuilder<K, R> {
        KeyedRateLimiterBuilder {
            config: Config::new(),
            max_keys: usize::MAX,
            sweep_every: 1024,
            _types: PhantomData,
        }
    }
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static, R: Runtime, C: Clock> KeyedRateLimiter<K, R, C> {
    /// Takes one unit of `key`'s quota if it conforms now.
    ///
    /// # Errors
    ///
    /// [`KeyedError::RateLimited`] with the key's retry time, or
    /// [`KeyedError::KeyLimitReached`] for a new key when the map is full.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::rt::VirtualRuntime::new();
    /// let l = weir_core::limit::keyed::KeyedRateLimiter::builder().rate(1, Duration::from_secs(1)).build(rt)?;
    /// assert!(l.try_acquire(&7u32).is_ok());
    /// assert_eq!(l.try_acquire(&7u32).unwrap_err().retry_after(), Some(Duration::from_secs(1)));
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    #[inline]
    pub fn try_acquire(&self, key: &K) -> Result<(), KeyedError> {
        self.try_acquire_n(key, 1)
    }

    /// Takes `n` units of `key`'s quota if they all conform now; `n == 0`
    /// probes without consuming (and without storing a new key).
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire), plus
    /// [`KeyedError::InsufficientCapacity`] when `n` exceeds the burst.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::limit::keyed::KeyedError;
    /// let rt = weir_core::rt::VirtualRuntime::new();
    /// let l = weir_core::limit::keyed::KeyedRateLimiter::builder()
    ///     .rate(4, Duration::from_secs(1)).build(rt)?;
    /// assert!(l.try_acquire_n(&"k", 0).is_ok());
    /// assert_eq!(l.len(), 0, "a probe stores nothing");
    /// assert!(matches!(l.try_acquire_n(&"k", 5), Err(KeyedError::InsufficientCapacity(_))));
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn try_acquire_n(&self, key: &K, n: u32) -> Result<(), KeyedError> {
        let inner = &*self.inner;
        let p = &inner.params;
        if n > p.burst {
            return Err(KeyedError::InsufficientCapacity(InsufficientCapacity {
                requested: n,
                burst: p.burst,
            }));
        }
        let now = inner.now_ns();
        let decide = |s: &State| {
            if n == 0 {
                s.probe(p, now)
            } else {
                s.try_take(p, now, n)
            }
        };
        let outcome = match inner.map.get(key) {
            Some(state) => decide(&state),
            // An absent key is a full bucket: a probe passes, and n ≤ burst
            // units always fit.
            None if n == 0 => Ok(()),
            None => return self.insert_charged(key, n, now),
        };
        outcome.map_err(|at| {
            KeyedError::RateLimited(RateLimited {
                retry_after: Duration::from_nanos(at - now),
            })
        })
    }

    /// The slow path for a key not in the map.
    #[cold]
    fn insert_charged(&self, key: &K, n: u32, now: u64) -> Result<(), KeyedError> {
        let inner = &*self.inner;
        // dashmap's len visits every shard: only pay it when bounded.
        if inner.max_keys != usize::MAX && inner.map.len() >= inner.max_keys {
            self.sweep(now);
            if inner.map.len() >= inner.max_keys {
                return Err(KeyedError::KeyLimitReached {
                    max_keys: inner.max_keys,
                });
            }
        }
        let p = &inner.params;
        // Another caller may have inserted the key meanwhile: then charge
        // the state it made, as a known key would be.
        let outcome = {
            let entry = inner.map.entry(key.clone()).or_insert_with(State::new);
            entry.try_take(p, now, n)
        };
        if inner.inserted.fetch_add(1, Ordering::Relaxed) + 1 >= inner.sweep_every {
            inner.inserted.store(0, Ordering::Relaxed);
            self.sweep(now);
        }
        outcome.map_err(|at| {
            KeyedError::RateLimited(RateLimited {
                retry_after: Duration::from_nanos(at - now),
            })
        })
    }

    /// Evicts every key whose bucket is full now: forgetting it changes no
    /// future decision. Returns how many keys remain.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::rt::VirtualRuntime;
    /// let rt = VirtualRuntime::new();
    /// let l = weir_core::limit::keyed::KeyedRateLimiter::builder()
    ///     .rate(1, Duration::from_secs(1)).build(rt.clone())?;
    /// l.try_acquire(&"a").unwrap();
    /// assert_eq!(l.retain_recent(), 1, "a is still charged");
    /// rt.block_on(rt.advance(Duration::from_secs(1)));
    /// assert_eq!(l.retain_recent(), 0);
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn retain_recent(&self) -> usize {
        self.sweep(self.inner.now_ns());
        self.inner.map.len()
    }

    fn sweep(&self, now: u64) {
        // The shard write lock excludes every check on the shard, so a state
        // cannot be charged between the test and its removal.
        self.inner.map.retain(|_, s| s.tat() > now);
    }

    /// The number of keys stored.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::rt::VirtualRuntime::new();
    /// let l = weir_core::limit::keyed::KeyedRateLimiter::builder().rate(1, Duration::from_secs(1)).build(rt)?;
    /// l.try_acquire(&1u8).unwrap();
    /// l.try_acquire(&2u8).unwrap();
    /// assert_eq!(l.len(), 2);
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.inner.map.len()
    }

    /// Whether no key is stored.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::rt::VirtualRuntime::new();
    /// let l = weir_core::limit::keyed::KeyedRateLimiter::<u8, _>::builder().rate(1, Duration::from_secs(1)).build(rt)?;
    /// assert!(l.is_empty());
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner.map.is_empty()
    }
}

impl<K, R, C: Clock> Inner<K, R, C> {
    #[inline]
    fn now_ns(&self) -> u64 {
        self.clock
            .nanos_since(self.epoch, self.clock.now())
            .min(MAX_NOW_NS)
    }
}

impl<K, R, C: Clock> Clone for KeyedRateLimiter<K, R, C> {
    fn clone(&self) -> Self {
        KeyedRateLimiter {
            inner: self.inner.clone(),
        }
    }
}

impl<K: Hash + Eq, R, C: Clock> fmt::Debug for KeyedRateLimiter<K, R, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.inner.params;
        f.debug_struct("KeyedRateLimiter")
            .field("interval", &Duration::from_nanos(p.interval))
            .field("burst", &p.burst)
            .field("keys", &self.inner.map.len())
            .field("max_keys", &self.inner.max_keys)
            .finish()
    }
}
