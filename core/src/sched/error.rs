//! What can go wrong with a job, and a refused submission.

use core::fmt;
use std::any::Any;

/// Why a job produced no output.
///
/// ```
/// use weir_core::sched::TaskError;
///
/// let e = TaskError::Expired;
/// assert_eq!(e.to_string(), "job expired: its deadline passed before it started");
/// assert!(!e.is_panic());
/// ```
#[non_exhaustive]
pub enum TaskError {
    /// The job's future panicked; the payload is what
    /// `std::panic::catch_unwind` returned. The scheduler kept going.
    Panicked(Box<dyn Any + Send + 'static>),
    /// [`TaskHandle::cancel`](super::TaskHandle::cancel) was called before the
    /// job finished.
    Cancelled,
    /// The job's deadline passed before it started; it never ran.
    Expired,
    /// The scheduler was shut down with
    /// [`Shutdown::Abort`](crate::Shutdown::Abort) before the job finished.
    Shutdown,
}

impl TaskError {
    /// Whether the job panicked.
    ///
    /// ```
    /// use weir_core::sched::TaskError;
    /// assert!(TaskError::Panicked(Box::new("x")).is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self, TaskError::Panicked(_))
    }

    /// The panic message when the payload is a string, as `panic!` makes it.
    ///
    /// ```
    /// use weir_core::sched::TaskError;
    /// assert_eq!(TaskError::Panicked(Box::new("boom")).panic_message(), Some("boom"));
    /// assert_eq!(TaskError::Cancelled.panic_message(), None);
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            TaskError::Panicked(p) => p
                .downcast_ref::<&'static str>()
                .copied()
                .or_else(|| p.downcast_ref::<String>().map(String::as_str)),
            _ => None,
        }
    }

    /// The panic payload, to resume the panic with
    /// `std::panic::resume_unwind`; `Err(self)` for every other error.
    ///
    /// ```
    /// use weir_core::sched::TaskError;
    /// assert!(TaskError::Expired.try_into_panic().is_err());
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, TaskError> {
        match self {
            TaskError::Panicked(p) => Ok(p),
            other => Err(other),
        }
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Panicked(_) => f
                .debug_tuple("Panicked")
                .field(&self.panic_message().unwrap_or("<non-string payload>"))
                .finish(),
            TaskError::Cancelled => f.write_str("Cancelled"),
            TaskError::Expired => f.write_str("Expired"),
            TaskError::Shutdown => f.write_str("Shutdown"),
        }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Panicked(_) => match self.panic_message() {
                Some(m) => write!(f, "job panicked: {m}"),
                None => f.write_str("job panicked"),
            },
            TaskError::Cancelled => f.write_str("job was cancelled"),
            TaskError::Expired => f.write_str("job expired: its deadline passed before it started"),
            TaskError::Shutdown => f.write_str("job was aborted by scheduler shutdown"),
        }
    }
}

impl std::error::Error for TaskError {}

/// Why a submission was refused.
///
/// ```
/// use weir_core::sched::RejectReason;
/// assert_ne!(RejectReason::QueueFull, RejectReason::Shutdown);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectReason {
    /// `queue_capacity` jobs were already waiting to start.
    QueueFull,
    /// The scheduler is shutting down or shut down.
    Shutdown,
}

/// A refused submission: the work is handed back untouched.
///
/// ```
/// use weir_core::{Job, sched::{RejectReason, Rejected}};
///
/// let r = Rejected::new(Job::new(async { 3 }), RejectReason::QueueFull);
/// assert_eq!(r.reason(), RejectReason::QueueFull);
/// let fut = r.into_inner().into_inner();
/// assert_eq!(futures_lite::future::block_on(fut), 3);
/// ```
pub struct Rejected<J> {
    job: J,
    reason: RejectReason,
}

impl<J> Rejected<J> {
    /// A refusal of `job` for `reason`.
    ///
    /// ```
    /// let r = weir_core::sched::Rejected::new(7, weir_core::sched::RejectReason::Shutdown);
    /// assert_eq!(r.into_inner(), 7);
    /// ```
    pub fn new(job: J, reason: RejectReason) -> Self {
        Rejected { job, reason }
    }

    /// Why the job was refused.
    ///
    /// ```
    /// let r = weir_core::sched::Rejected::new((), weir_core::sched::RejectReason::Shutdown);
    /// assert_eq!(r.reason(), weir_core::sched::RejectReason::Shutdown);
    /// ```
    pub fn reason(&self) -> RejectReason {
        self.reason
    }

    /// The refused job, to retry, run elsewhere or drop.
    ///
    /// ```
    /// let r = weir_core::sched::Rejected::new("job", weir_core::sched::RejectReason::QueueFull);
    /// assert_eq!(r.into_inner(), "job");
    /// ```
    pub fn into_inner(self) -> J {
        self.job
    }
}

impl<J> fmt::Debug for Rejected<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejected")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

impl<J> fmt::Display for Rejected<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            RejectReason::QueueFull => f.write_str("job rejected: the scheduler's queue is full"),
            RejectReason::Shutdown => f.write_str("job rejected: the scheduler is shut down"),
        }
    }
}

impl<J> std::error::Error for Rejected<J> {}
