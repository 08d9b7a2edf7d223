//! Periodic jobs: a small driver task per periodic job submits one run per
//! tick through the scheduler's queue, so runs obey priorities, the
//! concurrency bound and the statistics like any job.
//!
//! A periodic job is a client of the scheduler like any other: it submits
//! through [`Scheduler::submit`] and stops when its own token is cancelled,
//! a child of the token the scheduler cancels at shutdown. It never reaches
//! into the scheduler's state.

use core::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::error::{RejectReason, TaskError};
use super::job::Job;
use super::scheduler::Scheduler;
use crate::CancellationToken;
use crate::error::ConfigError;
use crate::loom::sync::Mutex;
use crate::rt::runtime::{JoinHandle, Runtime, deadline_after};

/// What a periodic job does when a run took longer than its interval and
/// ticks were missed.
///
/// With an interval of 10 s (ticks at 10, 20, 30, ... s) and a run started
/// at 10 s that ends at 35 s:
///
/// * [`Skip`](MissedTick::Skip): the ticks at 20 and 30 s are dropped; the
///   next run starts at 40 s, keeping the original phase.
/// * [`CatchUp`](MissedTick::CatchUp): the runs for 20 and 30 s start at
///   once, one after the other, then 40 s as planned.
///
/// Runs of one periodic job never overlap.
///
/// ```
/// use weir_core::sched::MissedTick;
/// assert_ne!(MissedTick::Skip, MissedTick::CatchUp);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MissedTick {
    /// Drop missed ticks and resume at the next tick in phase.
    Skip,
    /// Run once for every missed tick, back to back, until caught up.
    CatchUp,
}

/// What a periodic run returned: `()` never fails, a `Result` fails when it
/// is `Err`. A panic is a failure too.
///
/// ```
/// use weir_core::sched::RunOutcome;
/// assert!(!().is_failure());
/// assert!(Err::<(), &str>("down").is_failure());
/// ```
pub trait RunOutcome {
    /// Whether the run counts as failed.
    fn is_failure(&self) -> bool;
}

impl RunOutcome for () {
    fn is_failure(&self) -> bool {
        false
    }
}

impl<T, E> RunOutcome for Result<T, E> {
    fn is_failure(&self) -> bool {
        self.is_err()
    }
}

/// Why a periodic job was not accepted.
///
/// ```
/// use weir_core::sched::PeriodicError;
/// assert_eq!(PeriodicError::Shutdown.to_string(), "periodic job rejected: the scheduler is shut down");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeriodicError {
    /// A setting is invalid (a zero interval).
    Config(ConfigError),
    /// The scheduler is shutting down or shut down.
    Shutdown,
}

impl fmt::Display for PeriodicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeriodicError::Config(e) => write!(f, "periodic job rejected: {e}"),
            PeriodicError::Shutdown => {
                f.write_str("periodic job rejected: the scheduler is shut down")
            }
        }
    }
}

impl std::error::Error for PeriodicError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PeriodicError::Config(e) => Some(e),
            PeriodicError::Shutdown => None,
        }
    }
}

impl From<ConfigError> for PeriodicError {
    fn from(e: ConfigError) -> Self {
        PeriodicError::Config(e)
    }
}

/// What a periodic job's handle and its driver share: the token that stops
/// it and the counters.
#[derive(Debug)]
struct PeriodicCtl {
    /// A child of the scheduler's shutdown token: cancelled by
    /// [`PeriodicHandle::cancel`], by shutdown, or by the driver as it ends.
    stop: CancellationToken,
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    runs: u64,
    failures: u64,
    missed: u64,
}

impl PeriodicCtl {
    fn record(&self, failed: bool) {
        let mut c = self.counts.lock();
        c.runs += 1;
        if failed {
            c.failures += 1;
        }
    }
}

/// Controls a periodic job. Dropping it leaves the job running (a handle
/// detaches, see the [drop rules](super#drop-rules)); it stops on
/// [`cancel`](PeriodicHandle::cancel) or when the scheduler shuts down.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::{Runtime, test_util::VirtualRuntime};
/// use weir_core::{Scheduler, sched::MissedTick};
///
/// let rt = VirtualRuntime::new();
/// rt.block_on({
///     let rt = rt.clone();
///     async move {
///         let sched = Scheduler::builder().build(rt.clone()).unwrap();
///         let tick = sched
///             .submit_periodic(Duration::from_secs(10), MissedTick::Skip, || async {})
///             .unwrap();
///         rt.sleep(Duration::from_secs(35)).await;
///         assert_eq!(tick.runs(), 3); // at 10, 20 and 30 s
///         tick.cancel();
///     }
/// });
/// # }
/// ```
#[derive(Debug)]
pub struct PeriodicHandle {
    ctl: Arc<PeriodicCtl>,
}

impl PeriodicHandle {
    /// Stops the job: no further run starts, and a run in progress is
    /// cancelled.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// # use std::time::Duration;
    /// # use weir_core::{Scheduler, sched::MissedTick, test_util::VirtualRuntime};
    /// let sched = Scheduler::builder().build(VirtualRuntime::new()).unwrap();
    /// let p = sched.submit_periodic(Duration::from_secs(1), MissedTick::Skip, || async {}).unwrap();
    /// p.cancel();
    /// assert!(p.is_stopped());
    /// # }
    /// ```
    pub fn cancel(&self) {
        self.ctl.stop.cancel();
    }

    /// Whether the job was stopped (cancelled, or its scheduler shut down).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// # use std::time::Duration;
    /// # use weir_core::{Scheduler, sched::MissedTick, test_util::VirtualRuntime};
    /// let sched = Scheduler::builder().build(VirtualRuntime::new()).unwrap();
    /// let p = sched.submit_periodic(Duration::from_secs(1), MissedTick::Skip, || async {}).unwrap();
    /// assert!(!p.is_stopped());
    /// # }
    /// ```
    pub fn is_stopped(&self) -> bool {
        self.ctl.stop.is_cancelled()
    }

    /// Runs finished so far, failed ones included.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// # use std::time::Duration;
    /// # use weir_core::{Scheduler, sched::MissedTick, test_util::VirtualRuntime};
    /// let sched = Scheduler::builder().build(VirtualRuntime::new()).unwrap();
    /// let p = sched.submit_periodic(Duration::from_secs(1), MissedTick::Skip, || async {}).unwrap();
    /// assert_eq!(p.runs(), 0);
    /// # }
    /// ```
    pub fn runs(&self) -> u64 {
        self.ctl.counts.lock().runs
    }

    /// Runs that panicked or returned an error (see [`RunOutcome`]); the
    /// job carries on after each.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// # use std::time::Duration;
    /// # use weir_core::{Scheduler, sched::MissedTick, test_util::VirtualRuntime};
    /// let sched = Scheduler::builder().build(VirtualRuntime::new()).unwrap();
    /// let p = sched.submit_periodic(Duration::from_secs(1), MissedTick::Skip, || async {}).unwrap();
    /// assert_eq!(p.failures(), 0);
    /// # }
    /// ```
    pub fn failures(&self) -> u64 {
        self.ctl.counts.lock().failures
    }

    /// Ticks whose run could not be queued because the scheduler's queue
    /// was full (each also counts as a rejection in the scheduler's stats).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// # use std::time::Duration;
    /// # use weir_core::{Scheduler, sched::MissedTick, test_util::VirtualRuntime};
    /// let sched = Scheduler::builder().build(VirtualRuntime::new()).unwrap();
    /// let p = sched.submit_periodic(Duration::from_secs(1), MissedTick::Skip, || async {}).unwrap();
    /// assert_eq!(p.missed(), 0);
    /// # }
    /// ```
    pub fn missed(&self) -> u64 {
        self.ctl.counts.lock().missed
    }
}

impl<R: Runtime> Scheduler<R> {
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
    /// use weir_core::Scheduler;
    /// use weir_core::sched::MissedTick;
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
        if interval.is_zero() {
            return Err(ConfigError::new("Scheduler", "interval", crate::Rule::Zero).into());
        }
        let stop = self.closing().child_token();
        if stop.is_cancelled() {
            return Err(PeriodicError::Shutdown);
        }
        let ctl = Arc::new(PeriodicCtl {
            stop,
            counts: Mutex::new(Counts::default()),
        });
        let first = deadline_after(self.runtime().now(), interval);
        // Every run takes the context of the code that submitted the job.
        let ctx = crate::context::Context::current();
        let driver = drive(self.clone(), ctl.clone(), interval, missed, factory, first);
        self.runtime().spawn(ctx.scope(driver)).detach();
        Ok(PeriodicHandle { ctl })
    }
}

async fn drive<R, Fac, Fut>(
    sched: Scheduler<R>,
    ctl: Arc<PeriodicCtl>,
    interval: Duration,
    missed: MissedTick,
    mut factory: Fac,
    first: Instant,
) where
    R: Runtime,
    Fac: FnMut() -> Fut + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: RunOutcome + Send + 'static,
{
    let mut tick = first;
    loop {
        let sleep = sched.runtime().sleep_until(tick);
        if ctl.stop.run_until_cancelled(sleep).await.is_none() {
            break;
        }
        match catch_unwind(AssertUnwindSafe(&mut factory)) {
            Err(_) => ctl.record(true),
            Ok(fut) => match sched.submit(Job::new(fut)) {
                // Closed, and the token about to say so.
                Err(e) if e.reason() == RejectReason::Shutdown => break,
                Err(_) => ctl.counts.lock().missed += 1,
                // Stopped mid-run: the handle, dropped, cancels the run.
                Ok(handle) => match ctl.stop.run_until_cancelled(handle.cancel_on_drop()).await {
                    None => break,
                    Some(Ok(o)) => ctl.record(o.is_failure()),
                    Some(Err(TaskError::Panicked(_))) => ctl.record(true),
                    // Cancelled by shutdown: the loop ends at the next check.
                    Some(Err(_)) => {}
                },
            },
        }
        tick = next_tick(tick, interval, missed, sched.runtime().now());
    }
    ctl.stop.cancel();
}

/// The tick after `tick`, given that the run for `tick` ended at `now`.
fn next_tick(tick: Instant, interval: Duration, missed: MissedTick, now: Instant) -> Instant {
    let next = deadline_after(tick, interval);
    match missed {
        MissedTick::CatchUp => next,
        MissedTick::Skip if next >= now => next,
        MissedTick::Skip => {
            // The first tick in phase at or after `now`.
            let behind = (now - tick).as_nanos();
            let step = interval.as_nanos();
            let k = behind.div_ceil(step);
            let ahead = u64::try_from(k.saturating_mul(step)).unwrap_or(u64::MAX);
            deadline_after(tick, Duration::from_nanos(ahead))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_keeps_the_phase() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        assert_eq!(
            next_tick(t0, s(10), MissedTick::Skip, t0 + s(5)),
            t0 + s(10)
        );
        assert_eq!(
            next_tick(t0, s(10), MissedTick::Skip, t0 + s(10)),
            t0 + s(10)
        );
        assert_eq!(
            next_tick(t0, s(10), MissedTick::Skip, t0 + s(25)),
            t0 + s(30)
        );
        assert_eq!(
            next_tick(t0, s(10), MissedTick::Skip, t0 + s(30)),
            t0 + s(30)
        );
        assert_eq!(
            next_tick(t0, s(10), MissedTick::CatchUp, t0 + s(25)),
            t0 + s(10)
        );
    }
}
