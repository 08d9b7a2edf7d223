//! The public face: builder, submission, stats, shutdown.

use core::fmt;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use super::periodic::{self, PeriodicError, PeriodicHandle, RunOutcome};
use super::shared::Shared;
use crate::Runtime;
use crate::obs::{Name, sched::SchedObs};
use crate::{ConfigError, Rule};
use crate::{
    Job,
    sched::{MissedTick, Rejected, SchedStats, TaskHandle, TaskId},
};

/// Runs futures with priorities, delays and deadlines, at most
/// `max_concurrent` at a time, holding at most `queue_capacity` waiting.
///
/// Cloning gives another handle to the same scheduler. Dropping every
/// handle does not stop accepted jobs: they run to their end (call
/// [`shutdown`](Scheduler::shutdown) to wait for them or abort them).
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::{Runtime, test_util::VirtualRuntime};
/// use weir_core::{Job, Priority, Scheduler, Shutdown};
///
/// let rt = VirtualRuntime::new();
/// rt.block_on({
///     let rt = rt.clone();
///     async move {
///         let sched = Scheduler::builder().max_concurrent(4).queue_capacity(100).build(rt.clone())?;
///         let later = sched.submit(
///             Job::new(async { "later" }).priority(Priority::HIGH).delay(Duration::from_millis(500)),
///         ).unwrap();
///         assert_eq!(later.await.unwrap(), "later");
///         assert_eq!(rt.elapsed(), Duration::from_millis(500));
///         sched.shutdown(Shutdown::Graceful).await;
///         Ok::<_, weir_core::ConfigError>(())
///     }
/// }).unwrap();
/// # }
/// ```
pub struct Scheduler<R: 'static> {
    shared: Arc<Shared<R>>,
    obs: SchedObs,
}

impl<R: 'static> Clone for Scheduler<R> {
    fn clone(&self) -> Self {
        Scheduler {
            shared: self.shared.clone(),
            obs: self.obs.clone(),
        }
    }
}

impl<R: Runtime> fmt::Debug for Scheduler<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scheduler")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Settings of a [`Scheduler`]; see [`Scheduler::builder`].
///
/// ```
/// let b = weir_core::Scheduler::builder().max_concurrent(8);
/// # drop(b);
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing itself; call .build(rt) to make a Scheduler"]
pub struct SchedulerBuilder {
    max_concurrent: usize,
    queue_capacity: usize,
    name: Name,
}

impl SchedulerBuilder {
    /// Names the scheduler in its tracing events and metric labels (the
    /// `name` label; see [`obs`](crate::obs)). Default: `"default"`.
    ///
    /// ```
    /// let b = weir_core::Scheduler::builder().name("crawler");
    /// # drop(b);
    /// ```
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Name::new(name);
        self
    }

    /// How many jobs may run at once (default 16). Must be at least one.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::Scheduler;
    /// let e = Scheduler::builder().max_concurrent(0).build(weir_core::test_util::VirtualRuntime::new()).unwrap_err();
    /// assert_eq!(e.field(), "max_concurrent");
    /// # }
    /// ```
    pub fn max_concurrent(mut self, n: usize) -> Self {
        self.max_concurrent = n;
        self
    }

    /// How many jobs may wait to start, delayed ones included (default
    /// 1024); a submission beyond it is rejected and the job handed back.
    /// Must be at least one.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::Scheduler;
    /// let e = Scheduler::builder().queue_capacity(0).build(weir_core::test_util::VirtualRuntime::new()).unwrap_err();
    /// assert_eq!(e.field(), "queue_capacity");
    /// # }
    /// ```
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = n;
        self
    }

    /// Builds the scheduler on runtime `rt`.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `max_concurrent` or `queue_capacity` when it
    /// is zero.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let sched = weir_core::Scheduler::builder().build(weir_core::test_util::VirtualRuntime::new());
    /// assert!(sched.is_ok());
    /// # }
    /// ```
    pub fn build<R: Runtime>(self, rt: R) -> Result<Scheduler<R>, ConfigError> {
        if self.max_concurrent == 0 {
            return Err(ConfigError::new("Scheduler", "max_concurrent", Rule::Zero));
        }
        if self.queue_capacity == 0 {
            return Err(ConfigError::new("Scheduler", "queue_capacity", Rule::Zero));
        }
        Ok(Scheduler {
            shared: Arc::new(Shared::new(rt, self.max_concurrent, self.queue_capacity)),
            obs: SchedObs::new(self.name),
        })
    }
}

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

impl Scheduler<()> {
    /// A builder with the defaults: 16 concurrent jobs, 1024 waiting.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let sched = weir_core::Scheduler::builder()
    ///     .max_concurrent(2)
    ///     .build(weir_core::test_util::VirtualRuntime::new())
    ///     .unwrap();
    /// # drop(sched);
    /// # }
    /// ```
    pub fn builder() -> SchedulerBuilder {
        SchedulerBuilder {
            max_concurrent: 16,
            queue_capacity: 1024,
            name: Name::default(),
        }
    }
}

impl<R: Runtime> Scheduler<R> {
    /// Accepts `job`: it starts at once if a slot is free and nothing
    /// waits, else it waits for its time and its turn. Among ready jobs a
    /// higher priority always starts first, equal priorities in submission
    /// order.
    ///
    /// # Errors
    ///
    /// [`Rejected`] holding the job, untouched, when `queue_capacity` jobs
    /// already wait or the scheduler is shutting down.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::{Job, Scheduler, sched::RejectReason};
    ///
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let sched = Scheduler::builder().max_concurrent(1).queue_capacity(1).build(rt).unwrap();
    /// let _running = sched.submit(Job::new(async { 1 })).unwrap();
    /// let _waiting = sched.submit(Job::new(async { 2 })).unwrap();
    /// let refused = sched.submit(Job::new(async { 3 })).unwrap_err();
    /// assert_eq!(refused.reason(), RejectReason::QueueFull);
    /// let job = refused.into_inner(); // the work is handed back
    /// # drop(job);
    /// # }
    /// ```
    pub fn submit<F>(&self, job: Job<F>) -> Result<TaskHandle<F::Output>, Rejected<Job<F>>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.submit(job)
    }

    /// Runs `factory()`'s future every `interval`, the first time one
    /// interval from now, at normal priority, until cancelled or shut down.
    /// A run that panics or returns `Err` is counted and the next tick comes
    /// as planned; `missed` says what happens when a run overruns ticks.
    ///
    /// # Errors
    ///
    /// [`PeriodicError::Config`] naming `interval` when it is zero;
    /// [`PeriodicError::Shutdown`] when the scheduler is shutting down.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::{Scheduler, sched::MissedTick};
    ///
    /// let sched = Scheduler::builder().build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// let err = sched.submit_periodic(Duration::ZERO, MissedTick::Skip, || async {}).unwrap_err();
    /// assert!(err.to_string().contains("interval"));
    /// # }
    /// ```
    pub fn submit_periodic<Fac, Fut>(
        &self,
        interval: Duration,
        missed: MissedTick,
        factory: Fac,
    ) -> Result<PeriodicHandle, PeriodicError>
    where
        Fac: FnMut() -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: RunOutcome + Send + 'static,
    {
        periodic::start(&self.shared, interval, missed, factory)
    }

    /// A snapshot of the counters.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let sched = weir_core::Scheduler::builder().build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// assert_eq!(sched.stats().running, 0);
    /// # }
    /// ```
    pub fn stats(&self) -> SchedStats {
        self.shared.stats()
    }

    /// Stops accepting jobs (submissions are rejected with
    /// [`RejectReason::Shutdown`](super::RejectReason::Shutdown)), stops the
    /// periodic jobs, and completes once no job waits or runs; see
    /// [`Shutdown`] for what happens to accepted jobs.
    ///
    /// Like any future, it does nothing until first polled; that first poll
    /// closes the scheduler (and aborts, with [`Shutdown::Abort`]). Dropping
    /// the future afterwards cancels only the waiting: the scheduler stays
    /// closed and the jobs are run or aborted as the mode says.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::{Job, Scheduler, Shutdown, sched::TaskError};
    ///
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let sched = Scheduler::builder().build(rt.clone()).unwrap();
    /// let h = sched.submit(Job::new(async {}).delay(Duration::from_secs(60)).name("nightly")).unwrap();
    /// let report = rt.block_on(sched.shutdown(Shutdown::Abort));
    /// assert_eq!(report.aborted()[0].name(), Some("nightly"));
    /// assert!(matches!(rt.block_on(h), Err(TaskError::Shutdown)));
    /// # }
    /// ```
    pub async fn shutdown(&self, mode: Shutdown) -> ShutdownReport {
        let (aborted, periodics) = self.shared.close(mode == Shutdown::Abort);
        self.obs.shutting_down(mode, aborted.len());
        for p in periodics {
            p.stop();
        }
        self.shared.idle().await;
        self.obs.shut_down();
        ShutdownReport { aborted }
    }
}
