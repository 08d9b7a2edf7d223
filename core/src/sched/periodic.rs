//! Periodic jobs: a small driver task per periodic job submits one run per
//! tick through the scheduler's queue, so runs obey priorities, the
//! concurrency bound and the statistics like any job.

use core::fmt;
use core::future::poll_fn;
use core::pin::{Pin, pin};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::shared::Shared;
use crate::ConfigError;
use crate::loom::sync::Mutex;
use crate::{Job, sched::TaskError};
use crate::{
    Runtime,
    rt::{JoinHandle, deadline_after},
};

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

#[derive(Debug)]
pub(crate) struct PeriodicCtl {
    inner: Mutex<CtlState>,
}

impl PeriodicCtl {
    fn new() -> Self {
        PeriodicCtl {
            inner: Mutex::new(CtlState::default()),
        }
    }
}

#[derive(Debug, Default)]
struct CtlState {
    stopped: bool,
    waker: Option<Waker>,
    runs: u64,
    failures: u64,
    missed: u64,
}

impl PeriodicCtl {
    pub(crate) fn stop(&self) {
        let waker = {
            let mut st = self.inner.lock();
            st.stopped = true;
            st.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn poll_stopped(&self, cx: &mut Context<'_>) -> bool {
        let mut st = self.inner.lock();
        if st.stopped {
            return true;
        }
        if !st.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            st.waker = Some(cx.waker().clone());
        }
        false
    }

    fn record(&self, failed: bool) {
        let mut st = self.inner.lock();
        st.runs += 1;
        if failed {
            st.failures += 1;
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
        self.ctl.stop();
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
        self.ctl.inner.lock().stopped
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
        self.ctl.inner.lock().runs
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
        self.ctl.inner.lock().failures
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
        self.ctl.inner.lock().missed
    }
}

pub(crate) fn start<R, Fac, Fut>(
    shared: &Arc<Shared<R>>,
    interval: Duration,
    missed: MissedTick,
    factory: Fac,
) -> Result<PeriodicHandle, PeriodicError>
where
    R: Runtime,
    Fac: FnMut() -> Fut + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: RunOutcome + Send + 'static,
{
    if interval.is_zero() {
        return Err(ConfigError::new("Scheduler", "interval", crate::Rule::Zero).into());
    }
    let ctl = Arc::new(PeriodicCtl::new());
    {
        let mut st = shared.state.lock();
        if shared_closed(&st) {
            return Err(PeriodicError::Shutdown);
        }
        st.periodics.retain(|w| w.strong_count() > 0);
        st.periodics.push(Arc::downgrade(&ctl));
    }
    let first = deadline_after(shared.rt.now(), interval);
    // Every run takes the context of the code that submitted the job.
    let ctx = crate::context::Context::current();
    shared
        .rt
        .spawn(ctx.scope(drive(
            shared.clone(),
            ctl.clone(),
            interval,
            missed,
            factory,
            first,
        )))
        .detach();
    Ok(PeriodicHandle { ctl })
}

fn shared_closed<R: Runtime>(st: &super::shared::State<R>) -> bool {
    st.is_closed()
}

async fn drive<R, Fac, Fut>(
    shared: Arc<Shared<R>>,
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
        let mut sleep = pin!(shared.rt.sleep_until(tick));
        let stopped = poll_fn(|cx| {
            if ctl.poll_stopped(cx) {
                Poll::Ready(true)
            } else {
                sleep.as_mut().poll(cx).map(|()| false)
            }
        })
        .await;
        if stopped || shared.is_closed() {
            break;
        }
        match catch_unwind(AssertUnwindSafe(&mut factory)) {
            Err(_) => ctl.record(true),
            Ok(fut) => match shared.submit(Job::new(fut)) {
                Err(_) => ctl.inner.lock().missed += 1,
                Ok(mut handle) => {
                    let out = poll_fn(|cx| {
                        if ctl.poll_stopped(cx) {
                            return Poll::Ready(None);
                        }
                        Pin::new(&mut handle).poll(cx).map(Some)
                    })
                    .await;
                    match out {
                        None => {
                            handle.cancel();
                            break;
                        }
                        Some(Ok(o)) => ctl.record(o.is_failure()),
                        Some(Err(TaskError::Panicked(_))) => ctl.record(true),
                        // Cancelled by shutdown: the loop ends below.
                        Some(Err(_)) => {}
                    }
                }
            },
        }
        tick = next_tick(tick, interval, missed, shared.rt.now());
    }
    ctl.stop();
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
