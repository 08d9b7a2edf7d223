//! The cancellation stage: a [`CancellationToken`] ends what runs inside
//! it with [`Error::Cancelled`], at once, whatever it is waiting on.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::Runtime;
use crate::{CancellationToken, cancel::Cancelled};
use crate::{Error, policy::Stage};

/// Ends everything inside it with [`Error::Cancelled`] as soon as its token
/// is cancelled: an attempt, a back-off sleep, a rate-limit wait, a place
/// in a bulkhead queue. What was inside is dropped then and there, which is
/// how each stage gives back what it held (a bulkhead slot, a breaker
/// permit, counted as ignored, a reserved rate-limit slot).
///
/// Written first ([`Policy::cancel_on`](crate::Policy::cancel_on) before
/// the other stages), it covers the whole call, retries and their sleeps
/// included. Written after a retry, it cancels each attempt, and the retry
/// returns the `Cancelled` at once: cancellation is never retried, whatever
/// the retry's filter says. A token cancelled before the call starts means
/// no attempt is made. For a token per call rather than per policy, see
/// [`Policy::call_with_cancel`](crate::Policy::call_with_cancel).
///
/// A call that completes without waiting costs one atomic load; one that
/// waits also registers with the token (an allocation, made by
/// [`CancellationToken::cancelled`]).
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::CancellationToken;
/// use weir_core::{Error, Policy};
/// use weir_core::Retry;
/// use weir_core::{Runtime, test_util::VirtualRuntime};
///
/// let rt = VirtualRuntime::new();
/// let shutdown = CancellationToken::new();
/// let retry = Retry::constant(Duration::from_secs(60)).build().unwrap();
/// let policy = Policy::new(rt.clone()).cancel_on(shutdown.clone()).retry(retry);
/// shutdown.cancel_at(&rt, rt.now() + Duration::from_secs(1));
/// let out = rt.block_on(policy.call(|| async { Err::<(), _>("down") }));
/// assert_eq!(out, Err(Error::Cancelled));
/// assert_eq!(rt.elapsed(), Duration::from_secs(1), "the back-off sleep was cut short");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct CancelStage {
    pub(crate) token: CancellationToken,
}

impl<R: Runtime, T, E> Stage<R, T, E> for CancelStage {
    fn run<'a, Op, Fut>(
        &'a self,
        _rt: &'a R,
        op: &'a Op,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Fn() -> Fut + Sync + 'a,
        Fut: Future<Output = Result<T, Error<E>>> + Send + 'a,
        T: Send + 'a,
        E: Send + 'a,
    {
        Cancellable::new(&self.token, op)
    }
}

pin_project! {
    /// Runs the work made by `make` until it ends or `token` is cancelled.
    pub(crate) struct Cancellable<'a, M, F> {
        token: &'a CancellationToken,
        // Taken on the first poll that finds the token not cancelled, so
        // that a cancelled token starts no work at all.
        make: Option<M>,
        #[pin]
        work: Option<F>,
        // Registered only once the work had to wait.
        cancelled: Option<Cancelled>,
    }
}

impl<'a, M, F> Cancellable<'a, M, F> {
    pub(crate) fn new(token: &'a CancellationToken, make: M) -> Self {
        Cancellable {
            token,
            make: Some(make),
            work: None,
            cancelled: None,
        }
    }
}

impl<M, F> fmt::Debug for Cancellable<'_, M, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancellable")
            .field("token", self.token)
            .field("started", &self.make.is_none())
            .finish_non_exhaustive()
    }
}

impl<T, E, M, F> Future for Cancellable<'_, M, F>
where
    M: FnOnce() -> F,
    F: Future<Output = Result<T, Error<E>>>,
{
    type Output = Result<T, Error<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        // Checked before the work is polled: once the token is cancelled,
        // the work never runs another step.
        if this.token.is_cancelled() {
            this.work.set(None);
            return Poll::Ready(Err(Error::Cancelled));
        }
        if let Some(make) = this.make.take() {
            this.work.set(Some(make()));
        }
        let Some(work) = this.work.as_mut().as_pin_mut() else {
            // Polled again after it completed, a breach of the Future
            // contract: end again rather than panic or hang.
            return Poll::Ready(Err(Error::Cancelled));
        };
        if let Poll::Ready(out) = work.poll(cx) {
            this.work.set(None);
            return Poll::Ready(out);
        }
        let cancelled = this.cancelled.get_or_insert_with(|| this.token.cancelled());
        // `Cancelled` registers before it re-checks the flag, so a cancel
        // racing this poll still wakes the task.
        if Pin::new(cancelled).poll(cx).is_ready() {
            this.work.set(None);
            return Poll::Ready(Err(Error::Cancelled));
        }
        Poll::Pending
    }
}
