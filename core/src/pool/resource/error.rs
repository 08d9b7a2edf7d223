//! What `get` can fail with, a panic caught in a manager, and the pool's
//! counters.

use core::fmt;
use std::any::Any;

/// Why [`ResourcePool::get`](super::ResourcePool::get) gave no resource.
///
/// ```
/// use weir_core::pool::PoolError;
/// let e: PoolError<std::io::Error> = PoolError::Timeout;
/// assert_eq!(e.to_string(), "no resource became available before the acquire timeout");
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PoolError<E> {
    /// `acquire_timeout` passed before a resource became available.
    Timeout,
    /// The manager failed to create a resource; its error is kept intact.
    Create(E),
    /// The pool was closed.
    Closed,
    /// The manager's `create` panicked in this `get`. The panic was caught,
    /// the slot given back, and the panic counted in
    /// [`PoolStats::panics`].
    Panicked(ManagerPanic),
}

impl<E: fmt::Debug> fmt::Debug for PoolError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::Timeout => f.write_str("Timeout"),
            PoolError::Create(e) => f.debug_tuple("Create").field(e).finish(),
            PoolError::Closed => f.write_str("Closed"),
            PoolError::Panicked(p) => f.debug_tuple("Panicked").field(p).finish(),
        }
    }
}

impl<E: fmt::Display> fmt::Display for PoolError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::Timeout => {
                f.write_str("no resource became available before the acquire timeout")
            }
            PoolError::Create(e) => write!(f, "creating a resource failed: {e}"),
            PoolError::Closed => f.write_str("the pool is closed"),
            PoolError::Panicked(p) => p.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for PoolError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PoolError::Create(e) => Some(e),
            PoolError::Panicked(p) => Some(p),
            _ => None,
        }
    }
}

/// Which [`Manager`](super::Manager) hook panicked.
///
/// ```
/// use weir_core::pool::Hook;
/// assert_ne!(Hook::Create, Hook::Recycle);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Hook {
    /// [`Manager::create`](super::Manager::create).
    Create,
    /// [`Manager::recycle`](super::Manager::recycle).
    Recycle,
    /// [`Manager::detach`](super::Manager::detach).
    Detach,
}

/// A panic the pool caught in its [`Manager`](super::Manager): which hook,
/// whether the pool's background task was running it, and the message.
///
/// A caller's `get` whose `create` panics gets it in
/// [`PoolError::Panicked`]; every caught panic is counted in
/// [`PoolStats::panics`], and the latest one is kept for
/// [`ResourcePool::last_panic`](super::ResourcePool::last_panic) (a panic
/// in the background task has no caller to report to).
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use weir_core::{ResourcePool, pool::{Hook, Manager, PoolError}};
/// use weir_core::test_util::VirtualRuntime;
///
/// struct Broken;
/// impl Manager for Broken {
///     type Resource = ();
///     type Error = ();
///     async fn create(&self) -> Result<(), ()> { panic!("no route to host") }
///     async fn recycle(&self, _: &mut ()) -> Result<(), ()> { Ok(()) }
/// }
///
/// let rt = VirtualRuntime::new();
/// let pool = ResourcePool::builder(Broken).max_size(1).build(rt.clone()).unwrap();
/// match rt.block_on(pool.get()) {
///     Err(PoolError::Panicked(p)) => {
///         assert_eq!(p.hook(), Hook::Create);
///         assert_eq!(p.message(), Some("no route to host"));
///         assert!(!p.in_background());
///     }
///     other => panic!("{other:?}"),
/// }
/// assert_eq!((pool.stats().panics, pool.stats().size), (1, 0));
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagerPanic {
    hook: Hook,
    background: bool,
    message: Option<String>,
}

impl ManagerPanic {
    /// Reads the message out of a payload (`panic!` makes a `&str` or a
    /// `String`); the payload itself stays with the caller.
    pub(crate) fn new(hook: Hook, background: bool, payload: &(dyn Any + Send)) -> Self {
        let message = payload
            .downcast_ref::<&'static str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned());
        ManagerPanic {
            hook,
            background,
            message,
        }
    }

    /// The hook that panicked.
    ///
    /// ```
    /// # fn f(p: &weir_core::pool::ManagerPanic) {
    /// if p.hook() == weir_core::pool::Hook::Create { /* ... */ }
    /// # }
    /// ```
    pub fn hook(&self) -> Hook {
        self.hook
    }

    /// Whether the pool's background task (keeping `min_idle`) was running
    /// the hook, rather than a caller's `get`.
    ///
    /// ```
    /// # fn f(p: &weir_core::pool::ManagerPanic) {
    /// let _ = p.in_background();
    /// # }
    /// ```
    pub fn in_background(&self) -> bool {
        self.background
    }

    /// The panic message, when the panic carried a string (as `panic!`
    /// does).
    ///
    /// ```
    /// # fn f(p: &weir_core::pool::ManagerPanic) {
    /// eprintln!("{}", p.message().unwrap_or("<no message>"));
    /// # }
    /// ```
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}

impl fmt::Display for ManagerPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hook = match self.hook {
            Hook::Create => "create",
            Hook::Recycle => "recycle",
            Hook::Detach => "detach",
        };
        write!(f, "Manager::{hook} panicked")?;
        if self.background {
            f.write_str(" in the pool's background task")?;
        }
        match &self.message {
            Some(m) => write!(f, ": {m}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for ManagerPanic {}

/// A snapshot of a pool's gauges and counters.
///
/// `size == idle + in_use + being created` at every instant.
///
/// ```
/// let s = weir_core::pool::PoolStats::default();
/// assert_eq!(s.size, 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Resources alive or being created.
    pub size: usize,
    /// Resources waiting in the pool.
    pub idle: usize,
    /// Resources handed out.
    pub in_use: usize,
    /// Callers waiting in `get`.
    pub waiting: usize,
    /// Resources created successfully.
    pub created: u64,
    /// Idle resources that passed `recycle` and were handed out again.
    pub recycled: u64,
    /// Resources dropped by the pool: failed `recycle`, idle or lifetime
    /// limit, detached, or returned after close.
    pub discarded: u64,
    /// `get` calls that ran out of time.
    pub timeouts: u64,
    /// `create` calls that failed (returned an error or panicked).
    pub create_errors: u64,
    /// Manager hooks (`create`, `recycle`, `detach`) that panicked; the
    /// pool caught each one and gave its slot back.
    pub panics: u64,
}
