//! What `get` can fail with, and the pool's counters.

use core::fmt;

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
}

impl<E: fmt::Debug> fmt::Debug for PoolError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::Timeout => f.write_str("Timeout"),
            PoolError::Create(e) => f.debug_tuple("Create").field(e).finish(),
            PoolError::Closed => f.write_str("Closed"),
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
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for PoolError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PoolError::Create(e) => Some(e),
            _ => None,
        }
    }
}

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
    /// `create` calls that failed.
    pub create_errors: u64,
}
