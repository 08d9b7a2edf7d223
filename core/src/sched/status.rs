//! Where a job is in its life: the status its handle reports.

/// Where a job is in its life.
///
/// ```
/// use weir_core::sched::Status;
/// assert!(Status::Completed.is_finished());
/// assert!(!Status::Delayed.is_finished());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// Waiting for its start time.
    Delayed,
    /// Ready, waiting for a free slot.
    Pending,
    /// Its future is running.
    Running,
    /// Its future ran to its end.
    Completed,
    /// Its future panicked.
    Panicked,
    /// Cancelled through its handle.
    Cancelled,
    /// Its deadline passed before it started.
    Expired,
    /// Aborted by [`Shutdown::Abort`](crate::Shutdown::Abort).
    Shutdown,
}

impl Status {
    /// Whether the job has reached its final state.
    ///
    /// ```
    /// assert!(weir_core::sched::Status::Expired.is_finished());
    /// assert!(!weir_core::sched::Status::Running.is_finished());
    /// ```
    pub fn is_finished(self) -> bool {
        !matches!(self, Status::Delayed | Status::Pending | Status::Running)
    }
}
