//! How a scheduler shuts down, and what it reports.

use std::borrow::Cow;

use super::priority::TaskId;

/// How [`Scheduler::shutdown`] treats accepted jobs.
///
/// ```
/// use weir_core::Shutdown;
/// assert_ne!(Shutdown::Graceful, Shutdown::Abort);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shutdown {
    /// Run every accepted job (delayed ones at their time; deadlines still
    /// apply), then return.
    Graceful,
    /// End every waiting job and stop every running one with
    /// [`TaskError::Shutdown`](super::TaskError::Shutdown), and report them.
    Abort,
}

/// A job an aborting shutdown stopped.
///
/// ```
/// use weir_core::sched::{AbortedJob, TaskId};
/// let a = AbortedJob::new(TaskId::from_raw(3), Some("sync".into()), true);
/// assert_eq!((a.id(), a.name(), a.was_running()), (TaskId::from_raw(3), Some("sync"), true));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AbortedJob {
    id: TaskId,
    name: Option<Cow<'static, str>>,
    was_running: bool,
}

impl AbortedJob {
    /// A record of job `id`.
    ///
    /// ```
    /// let a = weir_core::sched::AbortedJob::new(weir_core::sched::TaskId::from_raw(1), None, false);
    /// assert!(!a.was_running());
    /// ```
    pub fn new(id: TaskId, name: Option<Cow<'static, str>>, was_running: bool) -> Self {
        AbortedJob {
            id,
            name,
            was_running,
        }
    }

    /// The job's id.
    ///
    /// ```
    /// let a = weir_core::sched::AbortedJob::new(weir_core::sched::TaskId::from_raw(1), None, false);
    /// assert_eq!(a.id().as_u64(), 1);
    /// ```
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The job's name, if it had one.
    ///
    /// ```
    /// let a = weir_core::sched::AbortedJob::new(weir_core::sched::TaskId::from_raw(1), Some("x".into()), false);
    /// assert_eq!(a.name(), Some("x"));
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Whether it was running (its future dropped) rather than waiting (it
    /// never ran).
    ///
    /// ```
    /// let a = weir_core::sched::AbortedJob::new(weir_core::sched::TaskId::from_raw(1), None, true);
    /// assert!(a.was_running());
    /// ```
    pub fn was_running(&self) -> bool {
        self.was_running
    }
}

/// What [`Scheduler::shutdown`] did.
///
/// ```
/// let r = weir_core::sched::ShutdownReport::default();
/// assert!(r.aborted().is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    aborted: Vec<AbortedJob>,
}

impl ShutdownReport {
    pub(crate) fn new(aborted: Vec<AbortedJob>) -> Self {
        ShutdownReport { aborted }
    }

    /// The jobs an aborting shutdown stopped, by id; empty after a graceful
    /// one.
    ///
    /// ```
    /// assert_eq!(weir_core::sched::ShutdownReport::default().aborted().len(), 0);
    /// ```
    pub fn aborted(&self) -> &[AbortedJob] {
        &self.aborted
    }
}
