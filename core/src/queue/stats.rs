//! What a priority queue reports about itself.

/// Counts since a [`PriorityQueue`](crate::PriorityQueue) was built, and
/// its length now; see [`PriorityQueue::stats`](crate::PriorityQueue::stats).
/// With the feature `metrics` the same counts are exported (see
/// [`obs`](crate::obs)).
///
/// ```
/// let q = weir_core::PriorityQueue::<u8>::builder().lanes(1).capacity(1).build().unwrap();
/// q.close();
/// assert!(q.try_push(0, 1).is_err());
/// assert_eq!(q.stats().refused_closed, 1);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PriorityQueueStats {
    /// Values pushed.
    pub pushed: u64,
    /// Values popped.
    pub popped: u64,
    /// `try_push` calls refused because every slot was taken (a `push`
    /// that waits for room is not counted).
    pub refused_full: u64,
    /// Pushes refused because the queue was closed.
    pub refused_closed: u64,
    /// Values queued now.
    pub len: usize,
}
