//! The futures and guards a token hands out, and the typed outcome of a
//! cancelled wait.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use super::CancellationToken;
use crate::loom::event::EventListener;

/// A wait that was ended by its [`CancellationToken`]. From
/// [`CancellationToken::cancellable`].
///
/// ```
/// use weir_core::{CancellationToken, cancel::CancelledError};
///
/// let t = CancellationToken::new();
/// t.cancel();
/// let out = futures_lite::future::block_on(t.cancellable(std::future::pending::<()>()));
/// assert_eq!(out, Err(CancelledError));
/// assert_eq!(CancelledError.to_string(), "cancelled");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CancelledError;

impl fmt::Display for CancelledError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cancelled")
    }
}

impl std::error::Error for CancelledError {}

/// Completes when its token is cancelled. From
/// [`CancellationToken::cancelled`]; holds a handle of the token.
///
/// ```
/// # futures_lite::future::block_on(async {
/// let t = weir_core::CancellationToken::new();
/// let wait = t.cancelled();
/// drop(t.clone().drop_guard()); // cancels
/// wait.await;
/// # });
/// ```
pub struct Cancelled {
    token: CancellationToken,
    listener: Option<EventListener>,
}

impl Cancelled {
    pub(super) fn new(token: CancellationToken) -> Self {
        Cancelled {
            token,
            listener: None,
        }
    }
}

impl fmt::Debug for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancelled")
            .field("cancelled", &self.token.is_cancelled())
            .finish()
    }
}

impl Future for Cancelled {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        loop {
            if this.token.is_cancelled() {
                return Poll::Ready(());
            }
            match this.listener.as_mut() {
                // Registered before the re-check above on the next turn, so
                // a cancel in between still wakes us.
                None => this.listener = Some(this.token.node.event.listen()),
                Some(listener) => {
                    if Pin::new(listener).poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    this.listener = None;
                }
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// Runs a future until its token is cancelled. From
    /// [`CancellationToken::run_until_cancelled`].
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let t = weir_core::CancellationToken::new();
    /// let run: weir_core::cancel::RunUntilCancelled<_> = t.run_until_cancelled(async { 1 });
    /// assert_eq!(run.await, Some(1));
    /// # });
    /// ```
    pub struct RunUntilCancelled<F> {
        cancelled: Cancelled,
        #[pin]
        future: Option<F>,
    }
}

impl<F> RunUntilCancelled<F> {
    pub(super) fn new(cancelled: Cancelled, future: F) -> Self {
        RunUntilCancelled {
            cancelled,
            future: Some(future),
        }
    }
}

impl<F> fmt::Debug for RunUntilCancelled<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunUntilCancelled")
            .field("cancelled", &self.cancelled)
            .field("done", &self.future.is_none())
            .finish()
    }
}

impl<F: Future> Future for RunUntilCancelled<F> {
    type Output = Option<F::Output>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if Pin::new(&mut *this.cancelled).poll(cx).is_ready() {
            // Drop the work now: that is what gives its permits back.
            this.future.set(None);
            return Poll::Ready(None);
        }
        match this.future.as_mut().as_pin_mut() {
            Some(f) => match f.poll(cx) {
                Poll::Ready(out) => {
                    this.future.set(None);
                    Poll::Ready(Some(out))
                }
                Poll::Pending => Poll::Pending,
            },
            None => Poll::Ready(None),
        }
    }
}

pin_project_lite::pin_project! {
    /// Runs a future until its token is cancelled, then ends with
    /// [`CancelledError`]. From [`CancellationToken::cancellable`].
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let t = weir_core::CancellationToken::new();
    /// let run: weir_core::cancel::Cancellable<_> = t.cancellable(async { 1 });
    /// assert_eq!(run.await, Ok(1));
    /// # });
    /// ```
    pub struct Cancellable<F> {
        #[pin]
        run: RunUntilCancelled<F>,
    }
}

impl<F> Cancellable<F> {
    pub(super) fn new(run: RunUntilCancelled<F>) -> Self {
        Cancellable { run }
    }
}

impl<F> fmt::Debug for Cancellable<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancellable")
            .field("cancelled", &self.run.cancelled)
            .field("done", &self.run.future.is_none())
            .finish()
    }
}

impl<F: Future> Future for Cancellable<F> {
    type Output = Result<F::Output, CancelledError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project()
            .run
            .poll(cx)
            .map(|out| out.ok_or(CancelledError))
    }
}

/// Cancels its token when dropped. From [`CancellationToken::drop_guard`].
///
/// ```
/// let t = weir_core::CancellationToken::new();
/// drop(t.clone().drop_guard());
/// assert!(t.is_cancelled());
/// ```
pub struct DropGuard {
    token: Option<CancellationToken>,
}

impl DropGuard {
    pub(super) fn new(token: CancellationToken) -> Self {
        DropGuard { token: Some(token) }
    }

    /// Gives the token back without cancelling it.
    ///
    /// ```
    /// let t = weir_core::CancellationToken::new();
    /// let t2 = t.clone().drop_guard().disarm();
    /// drop(t2);
    /// assert!(!t.is_cancelled());
    /// ```
    pub fn disarm(mut self) -> CancellationToken {
        self.token
            .take()
            .expect("a DropGuard holds its token until dropped")
    }
}

impl fmt::Debug for DropGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DropGuard")
            .field("token", &self.token)
            .finish()
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(t) = self.token.take() {
            t.cancel();
        }
    }
}

/// Polls two futures; `true` when `a` finished first.
pub(super) struct Race<A, B> {
    pub(super) a: A,
    pub(super) b: B,
}

impl<A, B> Future for Race<Pin<&mut A>, Pin<&mut B>>
where
    A: Future<Output = ()>,
    B: Future<Output = ()>,
{
    type Output = bool;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        if self.b.as_mut().poll(cx).is_ready() {
            return Poll::Ready(false);
        }
        self.a.as_mut().poll(cx).map(|()| true)
    }
}
