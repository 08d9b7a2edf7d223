//! The token itself: a handle on one node of the cancellation tree.

use core::fmt;
use core::future::Future;
use std::time::Instant;

use super::future::{Cancellable, Cancelled, DropGuard, RunUntilCancelled};
use super::tree::Node;
use crate::Runtime;
use crate::loom::sync::Arc;

/// A cloneable cancellation flag; clones share it, children inherit it.
///
/// ```
/// use weir_core::CancellationToken;
///
/// let token = CancellationToken::new();
/// let clone = token.clone();
/// clone.cancel();
/// assert!(token.is_cancelled());
/// ```
pub struct CancellationToken {
    pub(super) node: Arc<Node>,
}

impl CancellationToken {
    /// A new root token, not cancelled.
    ///
    /// ```
    /// let t = weir_core::CancellationToken::new();
    /// assert!(!t.is_cancelled());
    /// ```
    pub fn new() -> Self {
        CancellationToken { node: Node::root() }
    }

    /// A token cancelled when this one is (or already cancelled, if this one
    /// is), and which can be cancelled on its own without affecting this one.
    ///
    /// The child does not keep this token alive: drop this token and the
    /// child is still cancelled by this token's ancestors.
    ///
    /// ```
    /// let root = weir_core::CancellationToken::new();
    /// let parent = root.child_token();
    /// let child = parent.child_token();
    /// child.cancel();
    /// assert!(!parent.is_cancelled());
    ///
    /// let other = parent.child_token();
    /// drop(parent);
    /// root.cancel();
    /// assert!(other.is_cancelled());
    /// ```
    pub fn child_token(&self) -> CancellationToken {
        CancellationToken {
            node: Node::child(&self.node),
        }
    }

    /// Cancels this token and every token below it; wakes every waiter.
    /// Idempotent.
    ///
    /// ```
    /// let t = weir_core::CancellationToken::new();
    /// t.cancel();
    /// t.cancel();
    /// assert!(t.is_cancelled());
    /// ```
    pub fn cancel(&self) {
        Node::cancel(&self.node);
    }

    /// Whether this token (or an ancestor) was cancelled.
    ///
    /// ```
    /// let t = weir_core::CancellationToken::new();
    /// assert!(!t.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.node.is_cancelled()
    }

    /// Completes when the token is cancelled. The future holds its own
    /// handle on the token: it completes even if every token is dropped
    /// meanwhile and an ancestor is cancelled.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let t = weir_core::CancellationToken::new();
    /// t.cancel();
    /// t.cancelled().await;
    /// # });
    /// ```
    pub fn cancelled(&self) -> Cancelled {
        Cancelled::new(self.clone())
    }

    /// Runs `future` until it completes (`Ok(output)`) or the token is
    /// cancelled (`Err(CancelledError)`, and `future` is dropped at once). A
    /// token already cancelled does not poll `future` at all. The way to put
    /// a token on any weir wait: dropping the wait gives back what it held.
    ///
    /// ```
    /// use weir_core::{CancellationToken, cancel::CancelledError};
    ///
    /// # futures_lite::future::block_on(async {
    /// let sem = weir_core::Semaphore::new(1);
    /// let token = CancellationToken::new();
    /// let held = sem.acquire().await.unwrap();
    /// token.cancel();
    /// // The second acquire would wait; the token ends it and no permit is lost.
    /// assert!(matches!(token.cancellable(sem.acquire()).await, Err(CancelledError)));
    /// drop(held);
    /// assert_eq!(sem.available_permits(), 1);
    /// # });
    /// ```
    pub fn cancellable<F: Future>(&self, future: F) -> Cancellable<F> {
        Cancellable::new(self.run_until_cancelled(future))
    }

    /// Runs `future` until it completes (`Some(output)`) or the token is
    /// cancelled (`None`, and `future` is dropped at once). A token already
    /// cancelled does not poll `future` at all. See also
    /// [`cancellable`](CancellationToken::cancellable), the same with a
    /// typed error.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let t = weir_core::CancellationToken::new();
    /// assert_eq!(t.run_until_cancelled(async { 5 }).await, Some(5));
    /// t.cancel();
    /// assert_eq!(t.run_until_cancelled(async { 5 }).await, None);
    /// # });
    /// ```
    pub fn run_until_cancelled<F: Future>(&self, future: F) -> RunUntilCancelled<F> {
        RunUntilCancelled::new(self.cancelled(), future)
    }

    /// A guard that cancels this token when dropped, for scopes that must
    /// cancel their children on every exit path, panics included.
    ///
    /// ```
    /// let t = weir_core::CancellationToken::new();
    /// {
    ///     let _guard = t.clone().drop_guard();
    /// }
    /// assert!(t.is_cancelled());
    /// ```
    pub fn drop_guard(self) -> DropGuard {
        DropGuard::new(self)
    }

    /// Cancels this token at `deadline` on `rt`'s clock, unless it is
    /// cancelled earlier. The timer task holds a handle of the token until
    /// then, so a deadline set on a scope still cancels the scope's children
    /// after the scope's own token is dropped; the task ends at the deadline
    /// or at cancellation, whichever comes first.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::CancellationToken;
    /// use weir_core::{Runtime, test_util::VirtualRuntime};
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
        let sleep = rt.sleep_until(deadline);
        let cancelled = self.cancelled();
        let token = self.clone();
        rt.spawn(async move {
            let fired = super::future::Race {
                a: core::pin::pin!(sleep),
                b: core::pin::pin!(cancelled),
            }
            .await;
            if fired {
                token.cancel();
            }
        })
        .detach();
    }
}

impl Clone for CancellationToken {
    fn clone(&self) -> Self {
        self.node.add_handle();
        CancellationToken {
            node: self.node.clone(),
        }
    }
}

impl Drop for CancellationToken {
    fn drop(&mut self) {
        Node::drop_handle(&self.node);
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
