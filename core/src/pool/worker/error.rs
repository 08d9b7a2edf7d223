//! Why a job handed to a [`WorkerPool`](super::WorkerPool) produced no output.

use core::fmt;
use std::any::Any;

/// Why a job produced no output; a job that never ran comes back inside.
///
/// `F` is the job's closure type: [`Rejected`](WorkerError::Rejected) and
/// [`Closed`](WorkerError::Closed) hand the closure back, so nothing given to
/// the pool is lost.
///
/// ```
/// use weir_core::{WorkerPool, pool::{RejectionPolicy, WorkerError}};
///
/// let pool = WorkerPool::builder().max_threads(1).queue_capacity(1)
///     .rejection(RejectionPolicy::Reject).build()?;
/// pool.shutdown();
/// match pool.run_blocking(|| 1) {
///     Err(WorkerError::Closed(job)) => assert_eq!(job(), 1),
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
pub enum WorkerError<F> {
    /// The queue was full and the policy is
    /// [`Reject`](super::RejectionPolicy::Reject); the job never ran.
    Rejected(F),
    /// The pool was shut down before the job started; the job never ran.
    Closed(F),
    /// The job panicked; the payload is what `catch_unwind` returned. The
    /// worker thread survived.
    Panicked(Box<dyn Any + Send + 'static>),
}

impl<F> WorkerError<F> {
    /// The job, if it never ran (rejected or closed).
    ///
    /// ```
    /// use weir_core::pool::WorkerError;
    /// let e = WorkerError::Rejected(|| 5);
    /// assert_eq!(e.into_job().map(|job| job()), Some(5));
    /// ```
    pub fn into_job(self) -> Option<F> {
        match self {
            WorkerError::Rejected(f) | WorkerError::Closed(f) => Some(f),
            WorkerError::Panicked(_) => None,
        }
    }

    /// Whether the job ran and panicked.
    ///
    /// ```
    /// use weir_core::pool::WorkerError;
    /// let e: WorkerError<fn()> = WorkerError::Panicked(Box::new("boom"));
    /// assert!(e.is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self, WorkerError::Panicked(_))
    }

    /// The panic message, when the job panicked with a string.
    ///
    /// ```
    /// use weir_core::pool::WorkerError;
    /// let e: WorkerError<fn()> = WorkerError::Panicked(Box::new(String::from("boom")));
    /// assert_eq!(e.panic_message(), Some("boom"));
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            WorkerError::Panicked(p) => p
                .downcast_ref::<&'static str>()
                .copied()
                .or_else(|| p.downcast_ref::<String>().map(String::as_str)),
            _ => None,
        }
    }
}

impl<F> fmt::Debug for WorkerError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkerError::Rejected(_) => f.write_str("Rejected(..)"),
            WorkerError::Closed(_) => f.write_str("Closed(..)"),
            WorkerError::Panicked(_) => match self.panic_message() {
                Some(m) => write!(f, "Panicked({m:?})"),
                None => f.write_str("Panicked(..)"),
            },
        }
    }
}

impl<F> fmt::Display for WorkerError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkerError::Rejected(_) => f.write_str("worker pool queue is full; job rejected"),
            WorkerError::Closed(_) => f.write_str("worker pool is shut down; job not run"),
            WorkerError::Panicked(_) => match self.panic_message() {
                Some(m) => write!(f, "job panicked: {m}"),
                None => f.write_str("job panicked"),
            },
        }
    }
}

impl<F> std::error::Error for WorkerError<F> {}
