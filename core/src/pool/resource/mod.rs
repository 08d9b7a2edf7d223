//! The resource pool; its user-facing docs are on [`ResourcePool`](crate::ResourcePool).

mod catch;
mod error;
mod guard;
mod inner;
mod manager;

use core::fmt;
use core::future::poll_fn;
use core::pin::pin;
use std::borrow::Cow;
use std::sync::{Arc, Weak};
use std::task::Poll;
use std::time::{Duration, Instant};

pub use error::{Hook, ManagerPanic, PoolError, PoolStats};
pub use guard::Pooled;
pub use manager::Manager;

use crate::ConfigError;
use crate::obs::{Name, resource_pool::ResourcePoolObs};
use crate::util::check::Check;
use crate::util::panic::drop_contained;
use crate::{
    Runtime,
    rt::{JoinHandle, deadline_after},
};
use catch::caught;
use inner::{Config, Inner, Reserved};

/// How long the background task waits before its first retry after a
/// failed (or panicking) `create` while topping up `min_idle`; each failure
/// in a row doubles it, up to [`CREATE_RETRY_MAX`].
const CREATE_RETRY: Duration = Duration::from_secs(1);
const CREATE_RETRY_MAX: Duration = Duration::from_secs(32);

/// A pool of reusable resources (connections, sessions, clients) on any
/// runtime.
///
/// # What
///
/// A [`ResourcePool`] hands out resources made by a [`Manager`]: at most
/// `max_size` exist at once, counting those being created. [`get`]
/// returns a [`Pooled`] guard that puts the resource back when dropped;
/// [`Pooled::detach`] takes a broken one out for good. Callers that find
/// the pool exhausted wait in arrival order (FIFO), up to
/// `acquire_timeout`.
///
/// Rules, each tested:
///
/// * Never more than `max_size` resources alive; a failing `create` frees
///   its slot (the next waiter gets to try).
/// * Before an idle resource is handed out again, the manager's
///   [`recycle`](Manager::recycle) checks it (unless `test_on_acquire` is
///   off); a failure discards it and a new one is made in its place.
/// * An idle resource is dropped once idle for `idle_timeout`, and any
///   resource once `max_lifetime` old (when idle, or when returned), at
///   that instant on the runtime's clock. A background task does it, and
///   keeps `min_idle` resources ready.
/// * `get` fails with [`PoolError::Timeout`] exactly at `acquire_timeout`.
/// * A panic in the manager never costs a slot or the background task. A
///   `create` that panics in a caller's `get` fails that `get` with
///   [`PoolError::Panicked`]; a `recycle` that panics discards the resource
///   it checked (as a failed check does); a `detach` that panics still frees
///   the slot, then the panic goes on to the caller of
///   [`Pooled::detach`]. In the background task a panicking `create` is a
///   failed one: the slot comes back and the task tries again later. Every
///   caught panic is counted ([`PoolStats::panics`]) and the latest kept
///   ([`ResourcePool::last_panic`]).
/// * After a failed `create` the background task waits 1 s before trying
///   to top up `min_idle` again, doubling with each failure in a row up to
///   32 s; a success resets it.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::{ResourcePool, pool::Manager};
/// use weir_core::test_util::VirtualRuntime;
///
/// struct Sessions;
/// impl Manager for Sessions {
///     type Resource = Vec<u8>;
///     type Error = std::io::Error;
///     async fn create(&self) -> Result<Vec<u8>, std::io::Error> { Ok(Vec::new()) }
///     async fn recycle(&self, buf: &mut Vec<u8>) -> Result<(), std::io::Error> {
///         buf.clear();
///         Ok(())
///     }
/// }
///
/// let rt = VirtualRuntime::new();
/// let pool = ResourcePool::builder(Sessions)
///     .max_size(4)
///     .acquire_timeout(Duration::from_secs(2))
///     .build(rt.clone())
///     .unwrap();
/// rt.block_on(async {
///     let mut s = pool.get().await.unwrap();
///     s.extend_from_slice(b"hello");
/// });
/// assert_eq!(pool.stats().idle, 1);
/// # }
/// ```
///
/// # When not to use it
///
/// For values that are cheap to make, make them. To bound concurrency
/// without reusing anything, a semaphore says more.
///
/// [`get`]: ResourcePool::get
///
/// A pool of resources made by `M`, on runtime `R`. Cloning gives another
/// handle to the same pool.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// # use weir_core::{ResourcePool, pool::Manager, test_util::VirtualRuntime};
/// # struct M;
/// # impl Manager for M {
/// #     type Resource = u32;
/// #     type Error = ();
/// #     async fn create(&self) -> Result<u32, ()> { Ok(7) }
/// #     async fn recycle(&self, _: &mut u32) -> Result<(), ()> { Ok(()) }
/// # }
/// let rt = VirtualRuntime::new();
/// let pool = ResourcePool::builder(M).max_size(2).build(rt.clone()).unwrap();
/// let n = rt.block_on(async { *pool.get().await.unwrap() });
/// assert_eq!(n, 7);
/// # }
/// ```
pub struct ResourcePool<M: Manager, R: 'static> {
    inner: Arc<Inner<M, R>>,
}

impl<M: Manager, R: 'static> Clone for ResourcePool<M, R> {
    fn clone(&self) -> Self {
        ResourcePool {
            inner: self.inner.clone(),
        }
    }
}

impl<M: Manager, R: Runtime> fmt::Debug for ResourcePool<M, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourcePool")
            .field("config", &self.inner.cfg)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Settings of a [`ResourcePool`]; see [`ResourcePool::builder`].
///
/// ```
/// # use weir_core::{ResourcePool, pool::Manager};
/// # struct M;
/// # impl Manager for M {
/// #     type Resource = ();
/// #     type Error = ();
/// #     async fn create(&self) -> Result<(), ()> { Ok(()) }
/// #     async fn recycle(&self, _: &mut ()) -> Result<(), ()> { Ok(()) }
/// # }
/// let b = ResourcePool::builder(M).max_size(8).min_idle(2);
/// # drop(b);
/// ```
#[must_use = "a builder does nothing itself; call .build(rt) to make a ResourcePool"]
pub struct ResourcePoolBuilder<M> {
    manager: M,
    cfg: Config,
    name: Name,
}

impl<M> fmt::Debug for ResourcePoolBuilder<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourcePoolBuilder")
            .field("config", &self.cfg)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<M: Manager> ResourcePool<M, ()> {
    /// A builder for a pool of `manager`'s resources, with the defaults:
    /// `max_size` 16, no `min_idle`, no idle or lifetime limit, no acquire
    /// timeout (wait as long as it takes), `test_on_acquire` on.
    ///
    /// ```
    /// # use weir_core::{ResourcePool, pool::Manager};
    /// # struct M;
    /// # impl Manager for M {
    /// #     type Resource = ();
    /// #     type Error = ();
    /// #     async fn create(&self) -> Result<(), ()> { Ok(()) }
    /// #     async fn recycle(&self, _: &mut ()) -> Result<(), ()> { Ok(()) }
    /// # }
    /// let b = ResourcePool::builder(M);
    /// # drop(b);
    /// ```
    pub fn builder(manager: M) -> ResourcePoolBuilder<M> {
        ResourcePoolBuilder {
            manager,
            cfg: Config {
                max_size: 16,
                min_idle: 0,
                idle_timeout: None,
                max_lifetime: None,
                acquire_timeout: None,
                test_on_acquire: true,
            },
            name: Name::default(),
        }
    }
}

/// The doctests of the builder's setters share this manager.
macro_rules! doc_manager {
    () => {
        r#"
# use weir_core::{ResourcePool, pool::Manager};
# struct M;
# impl Manager for M {
#     type Resource = ();
#     type Error = ();
#     async fn create(&self) -> Result<(), ()> { Ok(()) }
#     async fn recycle(&self, _: &mut ()) -> Result<(), ()> { Ok(()) }
# }"#
    };
}

impl<M: Manager> ResourcePoolBuilder<M> {
    /// Names the pool in its tracing events and metric labels (the `name`
    /// label; see [`obs`](crate::obs)). Default: `"default"`.
    ///
    /// ```
    /// # use weir_core::{ResourcePool, pool::Manager};
    /// # struct M;
    /// # impl Manager for M {
    /// #     type Resource = ();
    /// #     type Error = ();
    /// #     async fn create(&self) -> Result<(), ()> { Ok(()) }
    /// #     async fn recycle(&self, _: &mut ()) -> Result<(), ()> { Ok(()) }
    /// # }
    /// let b = ResourcePool::builder(M).name("db");
    /// # drop(b);
    /// ```
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Name::new(name);
        self
    }

    #[doc = "The most resources alive at once, counting those being created"]
    #[doc = "(default 16). Must be at least one."]
    #[doc = ""]
    #[doc = "```"]
    #[doc = doc_manager!()]
    #[doc = "let b = ResourcePool::builder(M).max_size(32);"]
    #[doc = "# drop(b);"]
    #[doc = "```"]
    pub fn max_size(mut self, n: usize) -> Self {
        self.cfg.max_size = n;
        self
    }

    #[doc = "How many idle resources a background task keeps ready (default"]
    #[doc = "0). Must not exceed `max_size`."]
    #[doc = ""]
    #[doc = "```"]
    #[doc = doc_manager!()]
    #[doc = "let b = ResourcePool::builder(M).max_size(8).min_idle(2);"]
    #[doc = "# drop(b);"]
    #[doc = "```"]
    pub fn min_idle(mut self, n: usize) -> Self {
        self.cfg.min_idle = n;
        self
    }

    #[doc = "Drops a resource that stayed idle this long. Must be non-zero."]
    #[doc = ""]
    #[doc = "```"]
    #[doc = doc_manager!()]
    #[doc = "let b = ResourcePool::builder(M).idle_timeout(std::time::Duration::from_secs(300));"]
    #[doc = "# drop(b);"]
    #[doc = "```"]
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.cfg.idle_timeout = Some(d);
        self
    }

    #[doc = "Drops a resource this long after its creation (when idle, or when"]
    #[doc = "it is returned). Must be non-zero."]
    #[doc = ""]
    #[doc = "```"]
    #[doc = doc_manager!()]
    #[doc = "let b = ResourcePool::builder(M).max_lifetime(std::time::Duration::from_secs(1800));"]
    #[doc = "# drop(b);"]
    #[doc = "```"]
    pub fn max_lifetime(mut self, d: Duration) -> Self {
        self.cfg.max_lifetime = Some(d);
        self
    }

    #[doc = "How long `get` may take in all (waiting, creating, recycling)"]
    #[doc = "before it fails with `PoolError::Timeout`. Must be non-zero."]
    #[doc = ""]
    #[doc = "```"]
    #[doc = doc_manager!()]
    #[doc = "let b = ResourcePool::builder(M).acquire_timeout(std::time::Duration::from_secs(2));"]
    #[doc = "# drop(b);"]
    #[doc = "```"]
    pub fn acquire_timeout(mut self, d: Duration) -> Self {
        self.cfg.acquire_timeout = Some(d);
        self
    }

    #[doc = "Whether `Manager::recycle` checks an idle resource before it is"]
    #[doc = "handed out again (default on)."]
    #[doc = ""]
    #[doc = "```"]
    #[doc = doc_manager!()]
    #[doc = "let b = ResourcePool::builder(M).test_on_acquire(false);"]
    #[doc = "# drop(b);"]
    #[doc = "```"]
    pub fn test_on_acquire(mut self, on: bool) -> Self {
        self.cfg.test_on_acquire = on;
        self
    }

    /// Builds the pool on runtime `rt`, and starts its background task if
    /// `min_idle`, `idle_timeout` or `max_lifetime` is set.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the field: `max_size` zero, `min_idle`
    /// above `max_size`, or a zero `idle_timeout`, `max_lifetime` or
    /// `acquire_timeout`.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// # use weir_core::{ResourcePool, pool::Manager};
    /// # struct M;
    /// # impl Manager for M {
    /// #     type Resource = ();
    /// #     type Error = ();
    /// #     async fn create(&self) -> Result<(), ()> { Ok(()) }
    /// #     async fn recycle(&self, _: &mut ()) -> Result<(), ()> { Ok(()) }
    /// # }
    /// let e = ResourcePool::builder(M).max_size(2).min_idle(3)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap_err();
    /// assert_eq!(e.field(), "min_idle");
    /// # }
    /// ```
    pub fn build<R: Runtime>(self, rt: R) -> Result<ResourcePool<M, R>, ConfigError> {
        let c = Check::new("ResourcePool");
        let cfg = self.cfg;
        c.positive("max_size", cfg.max_size)?;
        c.not_above("min_idle", cfg.min_idle, "max_size", cfg.max_size)?;
        c.positive_if_set("idle_timeout", cfg.idle_timeout)?;
        c.positive_if_set("max_lifetime", cfg.max_lifetime)?;
        c.positive_if_set("acquire_timeout", cfg.acquire_timeout)?;
        let background =
            cfg.min_idle > 0 || cfg.idle_timeout.is_some() || cfg.max_lifetime.is_some();
        let obs = ResourcePoolObs::new(self.name);
        let inner = Arc::new(Inner::new(self.manager, rt.clone(), cfg, obs));
        if background {
            rt.spawn(maintain(Arc::downgrade(&inner), rt.clone()))
                .detach();
        }
        Ok(ResourcePool { inner })
    }
}

impl<M: Manager, R: Runtime> ResourcePool<M, R> {
    /// A resource: an idle one (checked by `recycle` first), a new one if
    /// the pool is below `max_size`, or the next one returned, in arrival
    /// order.
    ///
    /// # Cancellation
    ///
    /// The returned future is a request, not a handle to work running
    /// elsewhere: **dropping it cancels it**, like any future one awaits. It
    /// leaves the queue of waiters, and gives back whatever it held at that
    /// moment: a resource granted to it goes to the next waiter or the idle
    /// list, a `create` or `recycle` it was running is dropped and its slot
    /// freed. Nothing runs on after the drop.
    ///
    /// # Errors
    ///
    /// [`PoolError::Timeout`] at `acquire_timeout`, [`PoolError::Create`]
    /// with the manager's error, [`PoolError::Panicked`] if the manager's
    /// `create` panicked, [`PoolError::Closed`] after
    /// [`close`](ResourcePool::close).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// # use std::time::Duration;
    /// # use weir_core::{ResourcePool, pool::{Manager, PoolError}, test_util::VirtualRuntime};
    /// # struct M;
    /// # impl Manager for M {
    /// #     type Resource = ();
    /// #     type Error = ();
    /// #     async fn create(&self) -> Result<(), ()> { Ok(()) }
    /// #     async fn recycle(&self, _: &mut ()) -> Result<(), ()> { Ok(()) }
    /// # }
    /// let rt = VirtualRuntime::new();
    /// let pool = ResourcePool::builder(M).max_size(1)
    ///     .acquire_timeout(Duration::from_secs(2)).build(rt.clone()).unwrap();
    /// rt.block_on(async {
    ///     let _only = pool.get().await.unwrap();
    ///     assert!(matches!(pool.get().await, Err(PoolError::Timeout)));
    /// });
    /// assert_eq!(rt.elapsed(), Duration::from_secs(2));
    /// # }
    /// ```
    pub async fn get(&self) -> Result<Pooled<M>, PoolError<M::Error>> {
        self.inner.get().await
    }

    /// A snapshot of the gauges and counters.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// # use weir_core::{ResourcePool, pool::Manager, test_util::VirtualRuntime};
    /// # struct M;
    /// # impl Manager for M {
    /// #     type Resource = ();
    /// #     type Error = ();
    /// #     async fn create(&self) -> Result<(), ()> { Ok(()) }
    /// #     async fn recycle(&self, _: &mut ()) -> Result<(), ()> { Ok(()) }
    /// # }
    /// let pool = ResourcePool::builder(M).build(VirtualRuntime::new()).unwrap();
    /// assert_eq!(pool.stats().size, 0);
    /// # }
    /// ```
    pub fn stats(&self) -> PoolStats {
        self.inner.stats()
    }

    /// The latest panic the pool caught in its manager, if any: the only
    /// report of a panic in the background task, which has no caller.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// # use weir_core::{ResourcePool, pool::{Hook, Manager}, test_util::VirtualRuntime};
    /// struct Warm;
    /// impl Manager for Warm {
    ///     type Resource = ();
    ///     type Error = ();
    ///     async fn create(&self) -> Result<(), ()> { panic!("bad credentials") }
    ///     async fn recycle(&self, _: &mut ()) -> Result<(), ()> { Ok(()) }
    /// }
    /// let rt = VirtualRuntime::new();
    /// let pool = ResourcePool::builder(Warm).min_idle(1).build(rt.clone()).unwrap();
    /// rt.block_on(rt.idle());
    /// let p = pool.last_panic().unwrap();
    /// assert_eq!((p.hook(), p.in_background()), (Hook::Create, true));
    /// assert_eq!(pool.stats().size, 0, "the slot came back");
    /// # }
    /// ```
    pub fn last_panic(&self) -> Option<ManagerPanic> {
        self.inner.last_panic()
    }

    /// Closes the pool: idle resources are dropped, waiting and later
    /// `get`s fail with [`PoolError::Closed`], and resources in use are
    /// dropped when returned.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// # use weir_core::{ResourcePool, pool::{Manager, PoolError}, test_util::VirtualRuntime};
    /// # struct M;
    /// # impl Manager for M {
    /// #     type Resource = ();
    /// #     type Error = ();
    /// #     async fn create(&self) -> Result<(), ()> { Ok(()) }
    /// #     async fn recycle(&self, _: &mut ()) -> Result<(), ()> { Ok(()) }
    /// # }
    /// let rt = VirtualRuntime::new();
    /// let pool = ResourcePool::builder(M).build(rt.clone()).unwrap();
    /// pool.close();
    /// assert!(pool.is_closed());
    /// assert!(matches!(rt.block_on(pool.get()), Err(PoolError::Closed)));
    /// # }
    /// ```
    pub fn close(&self) {
        self.inner.close();
    }

    /// Whether [`close`](ResourcePool::close) was called.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// # use weir_core::{ResourcePool, pool::Manager, test_util::VirtualRuntime};
    /// # struct M;
    /// # impl Manager for M {
    /// #     type Resource = ();
    /// #     type Error = ();
    /// #     async fn create(&self) -> Result<(), ()> { Ok(()) }
    /// #     async fn recycle(&self, _: &mut ()) -> Result<(), ()> { Ok(()) }
    /// # }
    /// let pool = ResourcePool::builder(M).build(VirtualRuntime::new()).unwrap();
    /// assert!(!pool.is_closed());
    /// # }
    /// ```
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}

/// The background task: drops idle resources at their limit and keeps
/// `min_idle` ready. It holds the pool weakly, so dropping the last
/// handle ends it. Nothing the manager or a resource does ends it: panics
/// are caught, and after a failed create it backs off (see the module
/// docs) rather than retrying in a loop.
async fn maintain<M: Manager, R: Runtime>(pool: Weak<Inner<M, R>>, rt: R) {
    let mut backoff = Backoff::default();
    loop {
        let next = {
            let Some(inner) = pool.upgrade() else { return };
            let now = rt.now();
            let may_create = backoff.until.is_none_or(|t| t <= now);
            let Some(m) = inner.maintain(now, may_create) else {
                return;
            };
            if may_create {
                backoff.until = None;
            }
            // A resource's own `Drop` may panic; that must not end the task.
            drop_contained(m.expired);
            m.wakers.into_iter().for_each(|w| w.wake());
            let mut reserved = Reserved {
                inner: &inner,
                left: m.create,
            };
            let mut failed = false;
            while reserved.left > 0 {
                let res = caught(Hook::Create, true, inner.manager.create()).await;
                reserved.left -= 1;
                failed |= !inner.created_in_background(res);
            }
            if failed {
                backoff.failed(rt.now());
            } else if m.create > 0 {
                backoff.fails = 0;
            }
            match (m.next, backoff.until) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        };
        let mut sleep = pin!(next.map(|at| rt.sleep_until(at)));
        poll_fn(|cx| {
            let Some(inner) = pool.upgrade() else {
                return Poll::Ready(());
            };
            if inner.poll_kicked(cx) {
                return Poll::Ready(());
            }
            match sleep.as_mut().as_pin_mut() {
                Some(s) => s.poll(cx),
                None => Poll::Pending,
            }
        })
        .await;
    }
}

/// The background task's retry schedule after failed creates.
#[derive(Default)]
struct Backoff {
    /// Failed rounds in a row.
    fails: u32,
    /// No create before this instant.
    until: Option<Instant>,
}

impl Backoff {
    fn failed(&mut self, now: Instant) {
        let delay = CREATE_RETRY
            .saturating_mul(1u32 << self.fails.min(16))
            .min(CREATE_RETRY_MAX);
        self.fails = self.fails.saturating_add(1);
        self.until = Some(deadline_after(now, delay));
    }
}

#[cfg(all(test, weir_loom))]
mod loom_tests;
