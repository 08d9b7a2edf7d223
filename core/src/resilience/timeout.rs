//! Timeouts that really stop the work: on expiry the inner future is dropped.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;

use crate::obs;
use crate::{ConfigError, Rule};
use crate::{Runtime, rt::deadline_after};

/// The error of a future that did not finish before its deadline.
///
/// By the time a caller sees it, the inner future has been dropped: whatever
/// it held (a connection, a permit, a buffer) has been released.
///
/// ```
/// use weir_core::resilience::Elapsed;
/// # use std::time::Instant;
/// let e = Elapsed::new(Instant::now());
/// assert_eq!(e.to_string(), "deadline elapsed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed {
    deadline: Instant,
}

impl Elapsed {
    /// An `Elapsed` for `deadline`; useful when mapping other errors into it.
    ///
    /// ```
    /// # use std::time::Instant;
    /// let now = Instant::now();
    /// assert_eq!(weir_core::resilience::Elapsed::new(now).deadline(), now);
    /// ```
    pub fn new(deadline: Instant) -> Self {
        Elapsed { deadline }
    }

    /// The deadline that passed.
    ///
    /// ```
    /// # use std::time::Instant;
    /// let now = Instant::now();
    /// assert_eq!(weir_core::resilience::Elapsed::new(now).deadline(), now);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline elapsed")
    }
}

impl std::error::Error for Elapsed {}

/// Runs `future` for at most `duration` on `rt`'s clock.
///
/// Resolves to the future's output, or to [`Elapsed`] once `duration` has
/// passed; then the future is dropped at once, so the work stops. When the
/// future and the timer are ready in the same poll, the future's output
/// wins. `Duration::MAX` means no timeout.
///
/// Inside [`Retry::run`](crate::Retry::run) this is the
/// per-attempt timeout; around it, [`timeout_at`] is the overall deadline.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::resilience::timeout;
/// use weir_core::{Runtime, test_util::VirtualRuntime};
///
/// let rt = VirtualRuntime::new();
/// let out = rt.block_on(timeout(&rt, Duration::from_secs(1), rt.sleep(Duration::from_secs(5))));
/// assert!(out.is_err());
/// assert_eq!(rt.elapsed(), Duration::from_secs(1));
/// # }
/// ```
pub fn timeout<R: Runtime, F: Future>(
    rt: &R,
    duration: Duration,
    future: F,
) -> TimeoutFuture<R::Sleep, F> {
    timeout_at(rt, deadline_after(rt.now(), duration), future)
}

/// Runs `future` until the instant `deadline` on `rt`'s clock; see
/// [`timeout`]. A deadline already past still polls the future once, so a
/// ready future succeeds.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::resilience::timeout_at;
/// use weir_core::{Runtime, test_util::VirtualRuntime};
///
/// let rt = VirtualRuntime::new();
/// let deadline = rt.now() + Duration::from_secs(2);
/// assert_eq!(rt.block_on(timeout_at(&rt, deadline, async { 7 })), Ok(7));
/// # }
/// ```
pub fn timeout_at<R: Runtime, F: Future>(
    rt: &R,
    deadline: Instant,
    future: F,
) -> TimeoutFuture<R::Sleep, F> {
    TimeoutFuture {
        future: Some(future),
        sleep: rt.sleep_until(deadline),
        deadline,
    }
}

pin_project! {
    /// The future returned by [`timeout`], [`timeout_at`] and
    /// [`Timeout::call`].
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let fut = weir_core::resilience::timeout(&rt, Duration::from_secs(1), async { 1 });
    /// assert_eq!(rt.block_on(fut), Ok(1));
    /// # }
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct TimeoutFuture<S, F> {
        // `None` once the deadline passed: the inner future is dropped
        // right there, not when this future is.
        #[pin]
        future: Option<F>,
        #[pin]
        sleep: S,
        deadline: Instant,
    }
}

impl<S, F> fmt::Debug for TimeoutFuture<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimeoutFuture")
            .field("deadline", &self.deadline)
            .field("running", &self.future.is_some())
            .finish()
    }
}

impl<S: Future<Output = ()>, F: Future> Future for TimeoutFuture<S, F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            return Poll::Ready(Err(Elapsed::new(*this.deadline)));
        };
        if let Poll::Ready(out) = future.poll(cx) {
            return Poll::Ready(Ok(out));
        }
        match this.sleep.poll(cx) {
            Poll::Ready(()) => {
                obs::timeout::elapsed(*this.deadline);
                this.future.set(None);
                Poll::Ready(Err(Elapsed::new(*this.deadline)))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A reusable timeout policy: a runtime and a duration, validated once.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::Timeout;
/// use weir_core::{Runtime, test_util::VirtualRuntime};
///
/// let rt = VirtualRuntime::new();
/// let t = Timeout::new(rt.clone(), Duration::from_millis(100)).unwrap();
/// let slow = rt.sleep(Duration::from_secs(1));
/// assert!(rt.block_on(t.call(slow)).is_err());
/// assert!(Timeout::new(rt, Duration::ZERO).is_err());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Timeout<R: Runtime> {
    rt: R,
    duration: Duration,
}

impl<R: Runtime> Timeout<R> {
    /// A timeout of `duration` on `rt`'s clock.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] with [`Rule::Zero`] when `duration` is zero.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let e = weir_core::Timeout::new(rt, std::time::Duration::ZERO).unwrap_err();
    /// assert_eq!(e.field(), "duration");
    /// # }
    /// ```
    pub fn new(rt: R, duration: Duration) -> Result<Self, ConfigError> {
        if duration.is_zero() {
            return Err(ConfigError::new("Timeout", "duration", Rule::Zero));
        }
        Ok(Timeout { rt, duration })
    }

    /// The configured duration.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let t = weir_core::Timeout::new(rt, Duration::from_secs(3)).unwrap();
    /// assert_eq!(t.duration(), Duration::from_secs(3));
    /// # }
    /// ```
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// Runs `future` under this timeout; see [`timeout`].
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let t = weir_core::Timeout::new(rt.clone(), Duration::from_secs(3)).unwrap();
    /// assert_eq!(rt.block_on(t.call(async { "ok" })), Ok("ok"));
    /// # }
    /// ```
    pub fn call<F: Future>(&self, future: F) -> TimeoutFuture<R::Sleep, F> {
        timeout(&self.rt, self.duration, future)
    }
}
