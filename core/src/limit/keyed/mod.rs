//! [`KeyedRateLimiter`]: one GCRA per key (per user, per server, per tool),
//! with bounded memory.
//!
//! Each key gets the same quota as a [`RateLimiter`](super::rate::RateLimiter)
//! built from the same rate and burst, and its own state: one `u64` in a
//! [`dashmap`] shard. A check on a known key takes the shard's read lock and
//! does the same single CAS as the unkeyed limiter; it touches nothing else.
//!
//! # Memory stays bounded, and comes back
//!
//! A key whose bucket is full (its theoretical arrival time, TAT, is at or
//! before now) behaves exactly like a key never seen, so dropping it changes
//! no decision. Such keys are *evicted*:
//!
//! * by [`retain_recent`](KeyedRateLimiter::retain_recent), callable at any
//!   time: afterwards only charged keys remain;
//! * automatically, every [`sweep_every`](KeyedRateLimiterBuilder::sweep_every)
//!   new keys (default 1024): growth is the only way memory is spent, so
//!   evicting on insertion bounds it while the check path on a known key
//!   pays nothing;
//! * when [`max_keys`](KeyedRateLimiterBuilder::max_keys) is reached.
//!
//! Eviction gives the memory back: once the keys stored have fallen to a
//! quarter of the most stored since the last shrink, the map's shards and
//! the index below are shrunk to fit (by an automatic sweep only when more
//! keys went than one `sweep_every` interval brings in, so that a map which
//! empties and refills every interval keeps its table). A million `u64` keys take 50 MiB (34
//! in the map, 16 in the index) and, once evicted, all of it comes back
//! (`tests/keyed_memory.rs`).
//!
//! # What eviction costs: amortised O(1) per operation
//!
//! Besides the map, the limiter files every stored key in an *eviction
//! index* (a radix heap, `keyed/expiry.rs`) under a lower bound of its TAT:
//! the TAT it had when filed, which later charges can only move forward.
//! Eviction takes out the entries filed at or before now and, for each,
//! either removes the key (its bucket is full) or files it again under its
//! current TAT (it was charged since). The work is bounded by what happened
//! before, never by the number of keys stored:
//!
//! * filing an entry costs at most 65 units of work until it is taken out
//!   (it moves down at most 64 of the index's buckets, then is handed out);
//! * an entry is filed when its key is inserted, and again only when it is
//!   taken out while its key is charged; its TAT then moved past the
//!   instant it was filed under, so a charge came after that filing, and
//!   each charge is followed by at most one refiling (which files the TAT
//!   the charge made). Filings ≤ insertions + charges;
//! * asking whether anything is due is O(1) (the index keeps each bucket's
//!   minimum), so an eviction that finds nothing costs nothing more;
//! * a shrink costs O(capacity) and follows at least three quarters of that
//!   capacity's keys being evicted since the previous one.
//!
//! So all the eviction work ever done is at most 65 × (insertions +
//! charges) plus O(1) per operation: amortised O(1) per operation, whatever
//! the number of keys. `tests/keyed_cost.rs` counts it.
//!
//! New keys are inserted, and keys evicted, under one mutex (the index's);
//! checks on known keys never take it.
//!
//! # When the key limit is reached
//!
//! A new key arriving when `max_keys` keys are stored first evicts every
//! key whose bucket is full (as a sweep does). If none is full, the
//! request is refused with [`KeyedError::KeyLimitReached`]: known keys keep
//! being served exactly, and no live state is ever dropped (dropping one
//! would hand its owner a fresh full bucket, i.e. admit more than the
//! quota). The rule is exact: a new key is refused exactly when `max_keys`
//! stored keys are still charged, and the limit is never overshot.
//!
//! # Memory per key
//!
//! Each stored key is held twice, in the map and in the index, with its
//! 8-byte state and an 8-byte instant: prefer keys that are cheap to clone
//! (an `Arc<str>` rather than a `String`).
//!
//! # Example
//!
//! ```
//! # #[cfg(feature = "test-util")] {
//! use std::time::Duration;
//! use weir_core::{KeyedRateLimiter, limit::KeyedError};
//!
//! let rt = weir_core::test_util::VirtualRuntime::new();
//! let per_user = KeyedRateLimiter::builder()
//!     .quota(weir_core::Quota::new(2, Duration::from_secs(1)))
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
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

use super::rate::gcra::{Params, State};
use super::rate::{Clock, InsufficientCapacity, MAX_NOW_NS, RateLimited};
use crate::Runtime;
use crate::loom::sync::Mutex;
use crate::obs::rate::RateObs;

mod builder;
mod error;
mod expiry;

pub use builder::KeyedRateLimiterBuilder;
pub use error::KeyedError;

use expiry::Expiry;

const COMPONENT: &str = "KeyedRateLimiter";

/// Below this many slots, a map or index is not worth shrinking.
const SHRINK_FLOOR: usize = 1024;

/// [`KeyedRateLimiter`]: one GCRA per key (per user, per server, per tool),
/// with bounded memory.
///
/// Each key gets the same quota as a [`RateLimiter`](super::rate::RateLimiter)
/// built from the same rate and burst, and its own state: one `u64` in a
/// [`dashmap`] shard. A check on a known key takes the shard's read lock and
/// does the same single CAS as the unkeyed limiter; it touches nothing else.
///
/// # Memory stays bounded, and comes back
///
/// A key whose bucket is full (its theoretical arrival time, TAT, is at or
/// before now) behaves exactly like a key never seen, so dropping it changes
/// no decision. Such keys are *evicted*:
///
/// * by [`retain_recent`](KeyedRateLimiter::retain_recent), callable at any
///   time: afterwards only charged keys remain;
/// * automatically, every [`sweep_every`](KeyedRateLimiterBuilder::sweep_every)
///   new keys (default 1024): growth is the only way memory is spent, so
///   evicting on insertion bounds it while the check path on a known key
///   pays nothing;
/// * when [`max_keys`](KeyedRateLimiterBuilder::max_keys) is reached.
///
/// Eviction gives the memory back: once the keys stored have fallen to a
/// quarter of the most stored since the last shrink, the map's shards and
/// the index below are shrunk to fit (by an automatic sweep only when more
/// keys went than one `sweep_every` interval brings in, so that a map which
/// empties and refills every interval keeps its table). A million `u64` keys take 50 MiB (34
/// in the map, 16 in the index) and, once evicted, all of it comes back
/// (`tests/keyed_memory.rs`).
///
/// # What eviction costs: amortised O(1) per operation
///
/// Besides the map, the limiter files every stored key in an *eviction
/// index* (a radix heap, `keyed/expiry.rs`) under a lower bound of its TAT:
/// the TAT it had when filed, which later charges can only move forward.
/// Eviction takes out the entries filed at or before now and, for each,
/// either removes the key (its bucket is full) or files it again under its
/// current TAT (it was charged since). The work is bounded by what happened
/// before, never by the number of keys stored:
///
/// * filing an entry costs at most 65 units of work until it is taken out
///   (it moves down at most 64 of the index's buckets, then is handed out);
/// * an entry is filed when its key is inserted, and again only when it is
///   taken out while its key is charged; its TAT then moved past the
///   instant it was filed under, so a charge came after that filing, and
///   each charge is followed by at most one refiling (which files the TAT
///   the charge made). Filings ≤ insertions + charges;
/// * asking whether anything is due is O(1) (the index keeps each bucket's
///   minimum), so an eviction that finds nothing costs nothing more;
/// * a shrink costs O(capacity) and follows at least three quarters of that
///   capacity's keys being evicted since the previous one.
///
/// So all the eviction work ever done is at most 65 × (insertions +
/// charges) plus O(1) per operation: amortised O(1) per operation, whatever
/// the number of keys. `tests/keyed_cost.rs` counts it.
///
/// New keys are inserted, and keys evicted, under one mutex (the index's);
/// checks on known keys never take it.
///
/// # When the key limit is reached
///
/// A new key arriving when `max_keys` keys are stored first evicts every
/// key whose bucket is full (as a sweep does). If none is full, the
/// request is refused with [`KeyedError::KeyLimitReached`]: known keys keep
/// being served exactly, and no live state is ever dropped (dropping one
/// would hand its owner a fresh full bucket, i.e. admit more than the
/// quota). The rule is exact: a new key is refused exactly when `max_keys`
/// stored keys are still charged, and the limit is never overshot.
///
/// # Memory per key
///
/// Each stored key is held twice, in the map and in the index, with its
/// 8-byte state and an 8-byte instant: prefer keys that are cheap to clone
/// (an `Arc<str>` rather than a `String`).
///
/// # Example
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::{KeyedRateLimiter, limit::KeyedError};
///
/// let rt = weir_core::test_util::VirtualRuntime::new();
/// let per_user = KeyedRateLimiter::builder()
///     .quota(weir_core::Quota::new(2, Duration::from_secs(1)))
///     .build(rt)?;
/// assert!(per_user.try_acquire(&"alice").is_ok());
/// assert!(per_user.try_acquire(&"alice").is_ok());
/// assert!(matches!(per_user.try_acquire(&"alice"), Err(KeyedError::RateLimited(_))));
/// assert!(per_user.try_acquire(&"bob").is_ok()); // bob has his own bucket
/// # }
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
///
/// One rate limit per key, as described above.
///
/// Cheap to clone: clones share the map.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::KeyedRateLimiter;
///
/// let rt = weir_core::test_util::VirtualRuntime::new();
/// let per_tool = KeyedRateLimiter::builder().quota(weir_core::Quota::new(5, Duration::from_secs(1))).build(rt)?;
/// assert!(per_tool.try_acquire_many(&"search", 5).is_ok());
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
    /// Held to insert a key or evict one, never by a check on a known key.
    /// Lock order: this mutex, then a shard's lock.
    eviction: Mutex<Eviction<K>>,
    clock: C,
    epoch: C::Instant,
    /// Kept for a future waiting API and so that the type names its runtime.
    _rt: R,
    obs: RateObs,
}

/// The keys in the map, filed by when they may be full; see the module docs.
struct Eviction<K> {
    /// One entry per key in the map: keys are inserted and removed only
    /// under the mutex, together with their entry. Boxed: its 2 KiB of
    /// bucket heads stay off the cache lines a check reads.
    index: Box<Expiry<K>>,
    /// New keys since the last sweep.
    since_sweep: usize,
    /// The most keys stored since the last shrink.
    peak: usize,
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static, R: Runtime> KeyedRateLimiter<K, R> {
    /// A builder; the rate is required.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::KeyedRateLimiter::builder().quota(weir_core::Quota::new(3, Duration::from_secs(1))).build(rt)?;
    /// assert!(l.try_acquire(&"a").is_ok());
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn builder() -> KeyedRateLimiterBuilder<K, R> {
        KeyedRateLimiterBuilder::new()
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
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::KeyedRateLimiter::builder().quota(weir_core::Quota::new(1, Duration::from_secs(1))).build(rt)?;
    /// assert!(l.try_acquire(&7u32).is_ok());
    /// assert_eq!(l.try_acquire(&7u32).unwrap_err().retry_after(), Some(Duration::from_secs(1)));
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    #[inline]
    pub fn try_acquire(&self, key: &K) -> Result<(), KeyedError> {
        self.try_acquire_many(key, 1)
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
    /// use weir_core::limit::KeyedError;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::KeyedRateLimiter::builder()
    ///     .quota(weir_core::Quota::new(4, Duration::from_secs(1))).build(rt)?;
    /// assert!(l.try_acquire_many(&"k", 0).is_ok());
    /// assert_eq!(l.len(), 0, "a probe stores nothing");
    /// assert!(matches!(l.try_acquire_many(&"k", 5), Err(KeyedError::InsufficientCapacity(_))));
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn try_acquire_many(&self, key: &K, n: u32) -> Result<(), KeyedError> {
        let out = self.take_many(key, n);
        if n > 0 {
            self.inner.obs.checked_keyed(&out);
        }
        out
    }

    #[inline]
    fn take_many(&self, key: &K, n: u32) -> Result<(), KeyedError> {
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
        outcome.map_err(|at| rate_limited(at, now))
    }

    /// The slow path for a key not in the map.
    #[cold]
    fn insert_charged(&self, key: &K, n: u32, now: u64) -> Result<(), KeyedError> {
        let inner = &*self.inner;
        let p = &inner.params;
        let mut ev = inner.eviction.lock();
        // Under the lock, a key absent now stays absent until inserted here
        // (another caller may have inserted it before this one took the
        // lock: then its state is charged, as a known key's would be).
        if ev.index.len() >= inner.max_keys {
            if let Some(state) = inner.map.get(key) {
                return state
                    .try_take(p, now, n)
                    .map_err(|at| rate_limited(at, now));
            }
            if self.evict_due(&mut ev, now, false) == 0 {
                return Err(KeyedError::KeyLimitReached {
                    max_keys: inner.max_keys,
                });
            }
        }
        // Both clones first: a `clone` that panics then leaves map and
        // index as they were, each key with its entry.
        let (for_map, for_index) = (key.clone(), key.clone());
        let tat = match inner.map.entry(for_map) {
            Entry::Occupied(known) => {
                return known
                    .get()
                    .try_take(p, now, n)
                    .map_err(|at| rate_limited(at, now));
            }
            Entry::Vacant(slot) => {
                let state = State::new();
                // A full bucket holds any n ≤ burst: this cannot refuse.
                let taken = state.try_take(p, now, n);
                debug_assert!(taken.is_ok());
                let tat = state.tat();
                slot.insert(state);
                tat
            }
        };
        ev.index.push(tat, for_index);
        ev.peak = ev.peak.max(ev.index.len());
        ev.since_sweep += 1;
        if ev.since_sweep >= inner.sweep_every {
            ev.since_sweep = 0;
            self.evict_due(&mut ev, now, false);
        }
        Ok(())
    }

    /// Takes out the index entries due at `now`: removes each key whose
    /// bucket is full and refiles each one charged since it was filed.
    /// Returns how many keys were removed. `explicit` for a caller's
    /// [`retain_recent`](Self::retain_recent), which may always shrink.
    fn evict_due(&self, ev: &mut Eviction<K>, now: u64, explicit: bool) -> usize {
        let map = &self.inner.map;
        let mut removed = 0;
        while let Some((_, key)) = ev.index.pop_due(now) {
            // The shard's write lock excludes every check on the key, so it
            // cannot be charged between the test and its removal.
            if map.remove_if(&key, |_, s| s.tat() <= now).is_some() {
                removed += 1;
                continue;
            }
            // Charged since it was filed: file it under its TAT now, a lower
            // bound of every later one.
            let tat = map.get(&key).map(|s| s.tat());
            debug_assert!(tat.is_some(), "every filed key is in the map");
            if let Some(tat) = tat {
                ev.index.push(tat, key);
            }
        }
        if removed > 0 {
            self.shrink_if_sparse(ev, explicit);
        }
        removed
    }

    /// Shrinks map and index once a quarter of the peak is left, and, in
    /// an automatic sweep, more keys went than one sweep interval brings
    /// back (else a map that empties and refills each interval would be
    /// shrunk and regrown each time). The index also shrinks on its own
    /// once its slots reach 16 × the peak, since its buckets' slots can
    /// outgrow the keys as entries move between buckets.
    fn shrink_if_sparse(&self, ev: &mut Eviction<K>, explicit: bool) {
        let len = ev.index.len();
        let gone = ev.peak - len;
        if ev.peak >= SHRINK_FLOOR
            && len <= ev.peak / 4
            && (explicit || gone > self.inner.sweep_every)
        {
            self.inner.map.shrink_to_fit();
            ev.index.shrink_to_fit();
            ev.peak = len;
        } else if ev.index.capacity() / 16 >= ev.peak.max(SHRINK_FLOOR) {
            ev.index.shrink_to_fit();
        }
    }

    /// Evicts every key whose bucket is full now: forgetting it changes no
    /// future decision. Returns how many keys remain.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::test_util::VirtualRuntime;
    /// let rt = VirtualRuntime::new();
    /// let l = weir_core::KeyedRateLimiter::builder()
    ///     .quota(weir_core::Quota::new(1, Duration::from_secs(1))).build(rt.clone())?;
    /// l.try_acquire(&"a").unwrap();
    /// assert_eq!(l.retain_recent(), 1, "a is still charged");
    /// rt.block_on(rt.advance(Duration::from_secs(1)));
    /// assert_eq!(l.retain_recent(), 0);
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn retain_recent(&self) -> usize {
        let mut ev = self.inner.eviction.lock();
        self.evict_due(&mut ev, self.inner.now_ns(), true);
        ev.index.len()
    }

    /// Stored entries that evictions have examined or moved since the
    /// limiter was built: the work the [type docs](crate::KeyedRateLimiter) bound by 65 ×
    /// (insertions + charges). For tests of that bound (feature
    /// `test-util`).
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::KeyedRateLimiter::builder()
    ///     .quota(weir_core::Quota::new(1, Duration::from_secs(1))).max_keys(1).build(rt)?;
    /// l.try_acquire(&1u8).unwrap();
    /// assert!(l.try_acquire(&2u8).is_err());
    /// assert_eq!(l.sweep_work(), 0, "nothing was due: nothing was examined");
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    #[cfg(feature = "test-util")]
    pub fn sweep_work(&self) -> u64 {
        self.inner.eviction.lock().index.work()
    }

    /// The number of keys stored.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::KeyedRateLimiter::builder().quota(weir_core::Quota::new(1, Duration::from_secs(1))).build(rt)?;
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
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::KeyedRateLimiter::<u8, _>::builder().quota(weir_core::Quota::new(1, Duration::from_secs(1))).build(rt)?;
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

fn rate_limited(at: u64, now: u64) -> KeyedError {
    KeyedError::RateLimited(RateLimited {
        retry_after: Duration::from_nanos(at - now),
    })
}
