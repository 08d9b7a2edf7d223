//! Cancellation tokens that form a tree, and deadlines that cancel them.
//!
//! A [`CancellationToken`] is a cheap, cloneable flag with a waitable
//! future. Cancelling a token cancels every token derived from it with
//! [`child`](CancellationToken::child), and never its parent: a request
//! scope can cancel its sub-calls without touching its siblings, and a
//! server shutdown cancels every scope at once.
//!
//! weir's waiting points (semaphore acquire, queue receive, rate-limit wait,
//! retry back-off, scheduler jobs) are plain futures, so a token reaches all
//! of them through [`run_until_cancelled`](CancellationToken::run_until_cancelled):
//! the waiting future is dropped the moment the token fires, and dropping is
//! how every weir primitive gives back what the waiter held.
//!
//! ```
//! use weir_core::cancel::CancellationToken;
//!
//! let shutdown = CancellationToken::new();
//! let request = shutdown.child();
//! let call = request.child();
//!
//! request.cancel();
//! assert!(call.is_cancelled());      // reaches down the tree
//! assert!(!shutdown.is_cancelled()); // never up
//! ```

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::{Arc, Weak};
use std::time::Instant;

use event_listener::{Event, EventListener};

// The tree's ownership (Arc/Weak) is std's even under loom, which has no
// Weak; the protocol loom checks is the flag and the children lock.
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::rt::Runtime;

/// A cloneable cancellation flag; clones share it, children inherit it.
///
/// ```
/// use weir_core::cancel::CancellationToken;
///
/// let token = CancellationToken::new();
/// let clone = token.clone();
/// clone.cancel();
/// assert!(token.is_cancelled());
/// ```
#[derive(Clone)]
pub struct CancellationToken {
    node: Arc<Node>,
}

struct Node {
    /// Set once, never cleared. Written before `children` is locked for the
    /// cascade, so a child registered after the cascade sees it under the
    /// same lock (the mutex orders the two).
    cancelled: AtomicBool,
    /// Woken on cancellation; waiters re-check `cancelled` after
    /// registering, so a cancel between check and registration is not lost.
    event: Event,
    /// Children still alive, as weak references: a child that is dropped
    /// costs its parent nothing but a dead slot, pruned on the next growth.
    children: Mutex<Vec<Weak<Node>>>,
    /// Held strongly so that an intermediate token dropped by its owner
    /// still links its live descendants to the root.
    _parent: Option<Arc<Node>>,
}

impl Node {
    fn cancel(&self) {
        if self.cancelled.swap(true, Ordering::AcqRel) {
            return;
        }
        self.event.notify(usize::MAX);
        let children = core::mem::take(&mut *self.children.lock());
        for child in children {
            if let Some(child) = child.upgrade() {
                child.cancel();
            }
        }
    }
}

impl CancellationToken {
    /// A new root token, not cancelled.
    ///
    /// ```
    /// let t = weir_core::cancel::CancellationToken::new();
    /// assert!(!t.is_cancelled());
    /// ```
    pub fn new() -> Self {
        Self::with_parent(None)
    }

    fn with_parent(parent: Option<Arc<Node>>) -> Self {
        CancellationToken {
            node: Arc::new(Node {
                cancelled: AtomicBool::new(false),
                event: Event::new(),
                children: Mutex::new(Vec::new()),
                _parent: parent,
            }),
        }
    }

    /// A token cancelled when this one is (or already cancelled, if this one
    /// is), and which can be cancelled on its own without affecting this one.
    ///
    /// ```
    /// let parent = weir_core::cancel::CancellationToken::new();
    /// let child = parent.child();
    /// child.cancel();
    /// assert!(!parent.is_cancelled());
    /// ```
    pub fn child(&self) -> CancellationToken {
        let child = CancellationToken::with_parent(Some(self.node.clone()));
        let mut children = self.node.children.lock();
        if self.node.cancelled.load(Ordering::Acquire) {
            drop(children);
            child.node.cancelled.store(true, Ordering::Release);
            return child;
        }
        if children.len() == children.capacity() {
            children.retain(|c| c.strong_count() > 0);
        }
        children.push(Arc::downgrade(&child.node));
        child
    }

    /// Cancels this token and every token below it; wakes every waiter.
    /// Idempotent.
    ///
    /// ```
    /// let t = weir_core::cancel::CancellationToken::new();
    /// t.cancel();
    /// t.cancel();
    /// assert!(t.is_cancelled());
    /// ```
    pub fn cancel(&self) {
        self.node.cancel();
    }

    /// Whether this token (or an ancestor) was cancelled.
    ///
    /// ```
    /// let t = weir_core::cancel::CancellationToken::new();
    /// assert!(!t.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.node.cancelled.load(Ordering::Acquire)
    }

    /// Completes when the token is cancelled.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let t = weir_core::cancel::CancellationToken::new();
    /// t.cancel();
    /// t.cancelled().await;
    /// # });
    /// ```
    pub fn cancelled(&self) -> Cancelled {
        Cancelled {
            node: self.node.clone(),
            listener: None,
        }
    }

    /// Runs `future` until it completes (`Some(output)`) or the token is
    /// cancelled (`None`, and `future` is dropped at once). A token already
    /// cancelled does not poll `future` at all.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let t = weir_core::cancel::CancellationToken::new();
    /// assert_eq!(t.run_until_cancelled(async { 5 }).await, Some(5));
    /// t.cancel();
    /// assert_eq!(t.run_until_cancelled(async { 5 }).await, None);
    /// # });
    /// ```
    pub fn run_until_cancelled<F: Future>(&self, future: F) -> RunUntilCancelled<F> {
        RunUntilCancelled {
            cancelled: self.cancelled(),
            future: Some(future),
        }
    }

    /// A guard that cancels this token when dropped, for scopes that must
    /// cancel their children on every exit path, panics included.
    ///
    /// ```
    /// let t = weir_core::cancel::CancellationToken::new();
    /// {
    ///     let _guard = t.clone().drop_guard();
    /// }
    /// assert!(t.is_cancelled());
    /// ```
    pub fn drop_guard(self) -> DropGuard {
        DropGuard { token: Some(self) }
    }

    /// Cancels this token at `deadline` on `rt`'s clock, unless it is
    /// cancelled earlier. The timer task holds the token weakly: dropping
    /// every handle of the token ends the timer's claim on it, and the task
    /// ends at the deadline or at cancellation, whichever comes first.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::cancel::CancellationToken;
    /// use weir_core::rt::{Runtime, VirtualRuntime};
    ///
    /// let rt = VirtualRuntime::new();
    /// let token = CancellationToken::new();
    /// token.cancel_at(&rt, rt.now() + Duration::from_secs(3));
    /// rt.block_on(token.cancelled());
    /// assert_eq!(rt.elapsed(), Duration::from_secs(3));
    /// # }
    /// ```
    pub fn cancel_at<R: Runtime>(&self, rt: &R, deadline: Instant) {
        use crate::rt::JoinHandle;
        let weak = Arc::downgrade(&self.node);
        let sleep = rt.sleep_until(deadline);
        let cancelled = self.cancelled();
        rt.spawn(async move {
            let fired = Race {
                a: core::pin::pin!(sleep),
                b: core::pin::pin!(cancelled),
            }
            .await;
            if fired {
                if let Some(node) = weak.upgrade() {
                    node.cancel();
                }
            }
        })
        .detach();
    }
}

/// Polls two futures; `true` when `a` finished first.
struct Race<A, B> {
    a: A,
    b: B,
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

impl Default for CancellationToken {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for CancellationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancellationToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

/// Completes when its token is cancelled. From
/// [`CancellationToken::cancelled`].
pub struct Cancelled {
    node: Arc<Node>,
    listener: Option<EventListener>,
}

impl fmt::Debug for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancelled")
            .field("cancelled", &self.node.cancelled.load(Ordering::Acquire))
            .finish()
    }
}

impl Future for Cancelled {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.node.cancelled.load(Ordering::Acquire) {
                return Poll::Ready(());
            }
            match self.listener.as_mut() {
                // Registered before the re-check above on the next turn, so
                // a cancel in between still wakes us.
                None => self.listener = Some(self.node.event.listen()),
                Some(listener) => {
                    if Pin::new(listener).poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    self.listener = None;
                }
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// Runs a future until its token is cancelled. From
    /// [`CancellationToken::run_until_cancelled`].
    pub struct RunUntilCancelled<F> {
        cancelled: Cancelled,
        #[pin]
        future: Option<F>,
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

/// Cancels its token when dropped. From [`CancellationToken::drop_guard`].
pub struct DropGuard {
    token: Option<CancellationToken>,
}

impl DropGuard {
    /// Gives the token back without cancelling it.
    ///
    /// ```
    /// let t = weir_core::cancel::CancellationToken::new();
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

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::future::{block_on, poll_once};

    #[test]
    fn cancel_reaches_every_descendant_and_no_ancestor() {
        let root = CancellationToken::new();
        let a = root.child();
        let a1 = a.child();
        let a2 = a.child();
        let b = root.child();
        a.cancel();
        assert!(a.is_cancelled() && a1.is_cancelled() && a2.is_cancelled());
        assert!(!root.is_cancelled() && !b.is_cancelled());
        root.cancel();
        assert!(b.is_cancelled());
    }

    #[test]
    fn child_of_a_cancelled_token_is_born_cancelled() {
        let root = CancellationToken::new();
        root.cancel();
        assert!(root.child().child().is_cancelled());
    }

    #[test]
    fn waiter_is_woken_by_cancel_of_an_ancestor() {
        let root = CancellationToken::new();
        let leaf = root.child().child();
        let mut wait = Box::pin(leaf.cancelled());
        assert!(block_on(poll_once(&mut wait)).is_none());
        root.cancel();
        assert!(block_on(poll_once(&mut wait)).is_some());
    }

    #[test]
    fn run_until_cancelled_drops_the_future_at_once() {
        let t = CancellationToken::new();
        let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        struct Flag(std::sync::Arc<std::sync::atomic::AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let flag = Flag(dropped.clone());
        let mut run = Box::pin(t.run_until_cancelled(async move {
            let _flag = flag;
            std::future::pending::<()>().await
        }));
        assert!(block_on(poll_once(&mut run)).is_none());
        assert!(!dropped.load(std::sync::atomic::Ordering::SeqCst));
        t.cancel();
        assert_eq!(block_on(poll_once(&mut run)), Some(None));
        assert!(dropped.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[test]
    fn dropped_children_do_not_accumulate() {
        let root = CancellationToken::new();
        for _ in 0..10_000 {
            drop(root.child());
        }
        // Dead slots are pruned whenever the list would grow, so it never
        // grows past its first allocation.
        let children = root.node.children.lock();
        assert!(children.capacity() <= 4, "{} slots", children.capacity());
        assert!(children.iter().all(|c| c.strong_count() == 0));
    }

    #[test]
    fn drop_guard_cancels_on_unwind() {
        let t = CancellationToken::new();
        let t2 = t.clone();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _g = t2.drop_guard();
            panic!("user code panicked");
        }));
        assert!(r.is_err());
        assert!(t.is_cancelled());
    }
}

#[cfg(all(test, weir_loom))]
mod loom_tests {
    use super::*;

    /// A child registered while its parent is being cancelled is cancelled:
    /// either the cascade finds it, or it sees the flag under the lock.
    #[test]
    fn loom_child_registration_races_cancel() {
        loom::model(|| {
            let root = CancellationToken::new();
            let r2 = root.clone();
            let t = loom::thread::spawn(move || r2.cancel());
            let child = root.child();
            t.join().unwrap();
            assert!(child.is_cancelled());
        });
    }
}
