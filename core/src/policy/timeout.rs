//! The timeout stage.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use crate::Runtime;
use crate::obs::timeout::TimeoutObs;
use crate::{Error, policy::Stage};

/// Drops whatever runs inside it once `duration` has passed and reports
/// [`Error::Timeout`]. Written before a retry, it bounds the whole call;
/// after it, each attempt.
///
/// The timer starts at the first poll and is only created if the work
/// inside does not finish in that poll: a call that completes at once reads
/// no clock and arms no timer.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::{Error, Policy};
/// use weir_core::{Runtime, test_util::VirtualRuntime};
///
/// let rt = VirtualRuntime::new();
/// let policy = Policy::new(rt.clone()).timeout(Duration::from_secs(2));
/// let r2 = rt.clone();
/// let out = rt.block_on(policy.call(|| {
///     let r2 = r2.clone();
///     async move { r2.sleep(Duration::from_secs(5)).await; Ok::<_, ()>(1) }
/// }));
/// assert_eq!(out, Err(Error::Timeout));
/// assert_eq!(rt.elapsed(), Duration::from_secs(2));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct TimeoutStage {
    pub(crate) duration: Duration,
    pub(crate) obs: TimeoutObs,
}

impl<R: Runtime, T, E> Stage<R, T, E> for TimeoutStage {
    fn run<'a, Op, Fut>(
        &'a self,
        rt: &'a R,
        op: &'a Op,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Fn() -> Fut + Sync + 'a,
        Fut: Future<Output = Result<T, Error<E>>> + Send + 'a,
        T: Send + 'a,
        E: Send + 'a,
    {
        Bounded {
            rt,
            obs: &self.obs,
            duration: self.duration,
            work: Some(op()),
            timer: None,
        }
    }
}

pin_project! {
    /// The work and, once it had to wait, its timer.
    struct Bounded<'a, R: Runtime, F> {
        rt: &'a R,
        obs: &'a TimeoutObs,
        duration: Duration,
        // `None` once the time is up: the work is dropped right then.
        #[pin]
        work: Option<F>,
        #[pin]
        timer: Option<R::Sleep>,
    }
}

impl<R: Runtime, T, E, F> Future for Bounded<'_, R, F>
where
    F: Future<Output = Result<T, Error<E>>>,
{
    type Output = Result<T, Error<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let Some(work) = this.work.as_mut().as_pin_mut() else {
            return Poll::Ready(Err(Error::Timeout));
        };
        if let Poll::Ready(out) = work.poll(cx) {
            return Poll::Ready(out);
        }
        if this.timer.is_none() {
            this.timer.set(Some(this.rt.sleep(*this.duration)));
        }
        let timer = this.timer.as_pin_mut().expect("armed above");
        match timer.poll(cx) {
            Poll::Ready(()) => {
                this.obs.timed_out(*this.duration);
                this.work.set(None);
                Poll::Ready(Err(Error::Timeout))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
