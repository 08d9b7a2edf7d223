//! The job a caller submits: a future plus when and how urgently to run it.

use core::fmt;
use std::borrow::Cow;
use std::time::{Duration, Instant};

use crate::Priority;

/// A future to run on a [`Scheduler`](crate::Scheduler), with its priority,
/// start time, deadline and name.
///
/// Nothing runs until the job is [submitted](crate::Scheduler::submit).
///
/// ```
/// use std::time::Duration;
/// use weir_core::{Job, Priority};
///
/// let job = Job::new(async { 1 + 1 })
///     .priority(Priority::HIGH)
///     .delay(Duration::from_millis(500))
///     .name("warm-cache");
/// assert_eq!(job.get_priority(), Priority::HIGH);
/// assert_eq!(job.get_name(), Some("warm-cache"));
/// ```
#[must_use = "a job does nothing until it is submitted to a Scheduler"]
pub struct Job<F> {
    pub(crate) future: F,
    pub(crate) priority: Priority,
    pub(crate) start: Start,
    pub(crate) deadline: Option<Instant>,
    pub(crate) name: Option<Cow<'static, str>>,
}

/// When a job becomes ready.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Start {
    Now,
    After(Duration),
    At(Instant),
}

impl<F: Future> Job<F> {
    /// A job running `future` at [`Priority::NORMAL`], as soon as possible,
    /// without deadline or name.
    ///
    /// ```
    /// let job = weir_core::Job::new(async {});
    /// assert_eq!(job.get_priority(), weir_core::Priority::NORMAL);
    /// ```
    pub fn new(future: F) -> Self {
        Job {
            future,
            priority: Priority::NORMAL,
            start: Start::Now,
            deadline: None,
            name: None,
        }
    }
}

impl<F> Job<F> {
    /// Sets the priority.
    ///
    /// ```
    /// use weir_core::{Job, Priority};
    /// let job = Job::new(async {}).priority(Priority::LOW);
    /// assert_eq!(job.get_priority(), Priority::LOW);
    /// ```
    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// Makes the job ready `delay` after it is submitted (measured on the
    /// scheduler's runtime clock). Replaces an earlier
    /// [`start_at`](Job::start_at).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let job = weir_core::Job::new(async {}).delay(Duration::from_secs(1));
    /// # drop(job);
    /// ```
    pub fn delay(mut self, delay: Duration) -> Self {
        self.start = Start::After(delay);
        self
    }

    /// Makes the job ready at `instant` (an instant of the scheduler's
    /// runtime clock; a past instant means "now"). Replaces an earlier
    /// [`delay`](Job::delay).
    ///
    /// ```
    /// # use std::time::Instant;
    /// let job = weir_core::Job::new(async {}).start_at(Instant::now());
    /// # drop(job);
    /// ```
    pub fn start_at(mut self, instant: Instant) -> Self {
        self.start = Start::At(instant);
        self
    }

    /// The job must have started before `instant`; if it has not, it never
    /// runs and its handle resolves to
    /// [`TaskError::Expired`](super::TaskError::Expired) at that instant.
    /// A job that has started is not affected.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// let job = weir_core::Job::new(async {}).deadline(Instant::now() + Duration::from_secs(5));
    /// assert!(job.get_deadline().is_some());
    /// ```
    pub fn deadline(mut self, instant: Instant) -> Self {
        self.deadline = Some(instant);
        self
    }

    /// Names the job, for [`TaskHandle::name`](super::TaskHandle::name) and
    /// shutdown reports.
    ///
    /// ```
    /// let job = weir_core::Job::new(async {}).name(format!("fetch {}", 7));
    /// assert_eq!(job.get_name(), Some("fetch 7"));
    /// ```
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The priority set so far.
    ///
    /// ```
    /// let job = weir_core::Job::new(async {});
    /// assert_eq!(job.get_priority().level(), 128);
    /// ```
    pub fn get_priority(&self) -> Priority {
        self.priority
    }

    /// The deadline set so far.
    ///
    /// ```
    /// assert!(weir_core::Job::new(async {}).get_deadline().is_none());
    /// ```
    pub fn get_deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The name set so far.
    ///
    /// ```
    /// assert_eq!(weir_core::Job::new(async {}).get_name(), None);
    /// ```
    pub fn get_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The future, giving up the rest of the job (for example after a
    /// rejection).
    ///
    /// ```
    /// let fut = weir_core::Job::new(async { 5 }).into_inner();
    /// assert_eq!(futures_lite::future::block_on(fut), 5);
    /// ```
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F> fmt::Debug for Job<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("name", &self.name)
            .field("priority", &self.priority)
            .field("start", &self.start)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}
