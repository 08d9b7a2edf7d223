//! The futures that wait for units: a reservation plus one runtime sleep.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::time::Duration;

use pin_project_lite::pin_project;

use super::gcra::Reservation;
use super::{Clock, InsufficientCapacity, RateLimiter};
use crate::{Runtime, rt::deadline_after};

pin_project! {
    /// The future of [`RateLimiter::acquire_many`]: resolves once the units are
    /// granted, or at once with [`InsufficientCapacity`].
    ///
    /// It holds the reservation and the runtime's sleep inline: waiting
    /// allocates nothing beyond what the runtime's timer does. Dropping it
    /// before completion gives the reservation back when possible (see
    /// [`RateLimiter::acquire_many`]).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::RateLimiter;
    /// use weir_core::test_util::VirtualRuntime;
    ///
    /// let rt = VirtualRuntime::new();
    /// let limiter = RateLimiter::builder().quota(weir_core::Quota::new(1, Duration::from_secs(1))).build(rt.clone())?;
    /// limiter.try_acquire()?;
    /// let waiter = limiter.acquire_many(1);
    /// rt.block_on(waiter).unwrap();
    /// assert_eq!(rt.elapsed(), Duration::from_secs(1));
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct AcquireMany<'a, R: Runtime, C: Clock> {
        limiter: &'a RateLimiter<R, C>,
        n: u32,
        step: Step,
        #[pin]
        sleep: Option<R::Sleep>,
    }

    impl<'a, R: Runtime, C: Clock> PinnedDrop for AcquireMany<'a, R, C> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Step::Waiting(r) = *this.step {
                let limiter = *this.limiter;
                limiter.state().cancel(limiter.params(), r, *this.n);
            }
        }
    }
}

/// Where an [`AcquireMany`] stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Not polled yet: nothing reserved.
    Start,
    /// Holding a reservation due at `ready_at` (ns since the epoch).
    Waiting(Reservation),
    /// A zero-unit probe, sleeping until one unit might pass.
    Probing,
    /// Resolved; nothing is held.
    Done,
}

impl<'a, R: Runtime, C: Clock> AcquireMany<'a, R, C> {
    pub(super) fn new(limiter: &'a RateLimiter<R, C>, n: u32) -> Self {
        AcquireMany {
            limiter,
            n,
            step: Step::Start,
            sleep: None,
        }
    }
}

/// Sets `sleep` to end `wait_ns` from now on the runtime's clock.
fn sleep_for<R: Runtime>(rt: &R, mut sleep: Pin<&mut Option<R::Sleep>>, wait_ns: u64) {
    let deadline = deadline_after(rt.now(), Duration::from_nanos(wait_ns));
    sleep.set(Some(rt.sleep_until(deadline)));
}

impl<R: Runtime, C: Clock> Future for AcquireMany<'_, R, C> {
    type Output = Result<(), InsufficientCapacity>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let limiter = *this.limiter;
        let (state, params) = (limiter.state(), limiter.params());
        loop {
            match *this.step {
                Step::Done => return Poll::Ready(Ok(())),
                Step::Start => {
                    if *this.n > params.burst {
                        *this.step = Step::Done;
                        return Poll::Ready(Err(InsufficientCapacity {
                            requested: *this.n,
                            burst: params.burst,
                        }));
                    }
                    let now = limiter.inner_now_ns();
                    if *this.n == 0 {
                        match state.probe(params, now) {
                            Ok(()) => {
                                *this.step = Step::Done;
                                return Poll::Ready(Ok(()));
                            }
                            Err(at) => {
                                *this.step = Step::Probing;
                                sleep_for(limiter.runtime(), this.sleep.as_mut(), at - now);
                            }
                        }
                        continue;
                    }
                    let r = state.reserve(params, now, *this.n);
                    limiter
                        .obs()
                        .reserved(Duration::from_nanos(r.ready_at.saturating_sub(now)));
                    if r.ready_at <= now {
                        *this.step = Step::Done;
                        return Poll::Ready(Ok(()));
                    }
                    *this.step = Step::Waiting(r);
                    sleep_for(limiter.runtime(), this.sleep.as_mut(), r.ready_at - now);
                }
                Step::Waiting(r) => {
                    if let Some(sleep) = this.sleep.as_mut().as_pin_mut() {
                        ready!(sleep.poll(cx));
                    }
                    // The runtime's timer fired; the check clock has the
                    // last word, in case it runs behind the timer.
                    let now = limiter.inner_now_ns();
                    if r.ready_at <= now {
                        this.sleep.set(None);
                        *this.step = Step::Done;
                        return Poll::Ready(Ok(()));
                    }
                    sleep_for(limiter.runtime(), this.sleep.as_mut(), r.ready_at - now);
                }
                Step::Probing => {
                    if let Some(sleep) = this.sleep.as_mut().as_pin_mut() {
                        ready!(sleep.poll(cx));
                    }
                    // Others may have taken the unit meanwhile: look again.
                    *this.step = Step::Start;
                }
            }
        }
    }
}

impl<R: Runtime, C: Clock> fmt::Debug for AcquireMany<'_, R, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcquireMany")
            .field("n", &self.n)
            .field("step", &self.step)
            .finish()
    }
}

pin_project! {
    /// The future of [`RateLimiter::acquire`]: one unit, which can always be
    /// granted eventually.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::RateLimiter;
    /// use weir_core::test_util::VirtualRuntime;
    ///
    /// let rt = VirtualRuntime::new();
    /// let limiter = RateLimiter::builder().quota(weir_core::Quota::new(1, Duration::from_secs(2))).build(rt.clone())?;
    /// rt.block_on(async {
    ///     limiter.acquire().await;
    ///     limiter.acquire().await;
    /// });
    /// assert_eq!(rt.elapsed(), Duration::from_secs(2));
    /// # }
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct Acquire<'a, R: Runtime, C: Clock> {
        #[pin]
        inner: AcquireMany<'a, R, C>,
    }
}

impl<'a, R: Runtime, C: Clock> Acquire<'a, R, C> {
    pub(super) fn new(inner: AcquireMany<'a, R, C>) -> Self {
        Acquire { inner }
    }
}

impl<R: Runtime, C: Clock> Future for Acquire<'_, R, C> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let granted = ready!(self.project().inner.poll(cx));
        // One unit never exceeds the burst, which is at least one.
        debug_assert!(granted.is_ok());
        Poll::Ready(())
    }
}

impl<R: Runtime, C: Clock> fmt::Debug for Acquire<'_, R, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Acquire").field(&self.inner).finish()
    }
}
