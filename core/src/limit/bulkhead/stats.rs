//! A snapshot of a bulkhead's counters.

/// What a bulkhead is doing and has done, read from its atomic counters
/// without a lock (so fields read at slightly different moments).
///
/// Calls are counted once each: every call to `acquire`/`try_acquire`
/// (and their `_n` forms) ends up in exactly one of `admitted`, a
/// `rejected_*` counter or `cancelled`, or is still waiting (in
/// `queued_waiters`). A waiter whose grant arrived just as its future was
/// dropped counts as admitted; its permits go to the next waiter.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// let b = weir_core::Bulkhead::builder().max_concurrent(1)
///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
/// let p = b.try_acquire().unwrap();
/// assert!(b.try_acquire().is_err());
/// let s = b.stats();
/// assert_eq!((s.in_flight, s.admitted, s.rejected_queue_full), (1, 1, 1));
/// assert_eq!(s.rejected(), 1);
/// # drop(p);
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct BulkheadStats {
    /// The limit in force.
    pub max_concurrent: u32,
    /// Permits held now.
    pub in_flight: u32,
    /// Permits asked for by the callers waiting now.
    pub queued: u64,
    /// Callers waiting now.
    pub queued_waiters: u64,
    /// Calls that got their permits.
    pub admitted: u64,
    /// Calls refused with `QueueFull`.
    pub rejected_queue_full: u64,
    /// Calls refused with `WaitTimeout`.
    pub rejected_wait_timeout: u64,
    /// Calls refused with `Closed`.
    pub rejected_closed: u64,
    /// Calls refused with `Oversized`.
    pub rejected_oversized: u64,
    /// Waiting calls whose future was dropped before an outcome.
    pub cancelled: u64,
}

impl BulkheadStats {
    /// Calls refused, for any reason.
    ///
    /// ```
    /// let s = weir_core::limit::BulkheadStats::default();
    /// assert_eq!(s.rejected(), 0);
    /// ```
    pub fn rejected(&self) -> u64 {
        self.rejected_queue_full
            + self.rejected_wait_timeout
            + self.rejected_closed
            + self.rejected_oversized
    }
}
