//! Why a bulkhead refused a caller.

use core::fmt;

/// Why [`Bulkhead::acquire`](super::Bulkhead::acquire) or
/// [`Bulkhead::try_acquire`](super::Bulkhead::try_acquire) returned no
/// permit. Every refusal has one of these reasons and is counted under it in
/// [`BulkheadStats`](super::BulkheadStats): no caller is dropped silently.
///
/// ```
/// use weir_core::limit::BulkheadError;
///
/// let e = BulkheadError::WaitTimeout;
/// assert_eq!(e.to_string(), "bulkhead: waited the longest allowed for a permit");
/// assert!(e.is_overload());
///
/// let full = BulkheadError::QueueFull { max_concurrent: 8, queue_capacity: 0 };
/// assert_eq!(
///     full.to_string(),
///     "bulkhead full: all 8 permits in use and the queue is at its capacity of 0 permits (queue_capacity)"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BulkheadError {
    /// No permit was free and the caller could not take a place in the
    /// queue: the queue was full (counted in permits), the caller does not
    /// wait (`try_acquire`, or `acquire_timeout` of zero), or, under
    /// [`QueueOrder::Lifo`](super::QueueOrder::Lifo), a newer caller
    /// pushed this one out of a full queue. Carries the two limits that
    /// made it so, which its message names.
    QueueFull {
        /// The permits that may be held at once (all of them were).
        max_concurrent: u32,
        /// The permits that may wait at once (`queue_capacity`; 0 means nobody
        /// waits).
        queue_capacity: u32,
    },
    /// The caller waited in the queue for `acquire_timeout` without getting a
    /// permit.
    WaitTimeout,
    /// The bulkhead was [closed](super::Bulkhead::close), before or while the
    /// caller waited.
    Closed,
    /// The caller asked for more permits at once than the limit in force,
    /// which no amount of waiting could grant: either when it called, or
    /// while it waited, when [`set_max_concurrent`] lowered the limit below
    /// its request (it is then refused at that moment, so that it does not
    /// hold back the callers behind it).
    ///
    /// [`set_max_concurrent`]: super::Bulkhead::set_max_concurrent
    Oversized,
}

impl BulkheadError {
    /// Whether the refusal says "too busy right now" (queue full, wait
    /// timeout), as opposed to "never" (closed, oversized): only the former
    /// is worth retrying later.
    ///
    /// ```
    /// use weir_core::limit::BulkheadError;
    /// assert!(BulkheadError::QueueFull { max_concurrent: 1, queue_capacity: 0 }.is_overload());
    /// assert!(!BulkheadError::Closed.is_overload());
    /// ```
    pub fn is_overload(&self) -> bool {
        matches!(
            self,
            BulkheadError::QueueFull { .. } | BulkheadError::WaitTimeout
        )
    }
}

impl fmt::Display for BulkheadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BulkheadError::QueueFull {
                max_concurrent,
                queue_capacity,
            } => {
                return write!(
                    f,
                    "bulkhead full: all {max_concurrent} permits in use and the queue is at its \
                     capacity of {queue_capacity} permits (queue_capacity)"
                );
            }
            BulkheadError::WaitTimeout => "bulkhead: waited the longest allowed for a permit",
            BulkheadError::Closed => "bulkhead: closed",
            BulkheadError::Oversized => "bulkhead: asked for more permits than the limit in force",
        })
    }
}

impl std::error::Error for BulkheadError {}
