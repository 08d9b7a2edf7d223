//! The [`Runtime`] trait and what a spawn hands back.

use core::fmt;
use core::future::Future;
use std::any::Any;
use std::time::{Duration, Instant};

/// An executor seen through the four things weir needs from it.
///
/// Implemented by the unit types `weir::Smol`, `weir::Tokio` and
/// `weir::AsyncStd` (in the adapter crates) and by [`VirtualRuntime`](crate::test_util::VirtualRuntime) (feature
/// `test-util`). Implementations are cheap to clone; a primitive keeps its own
/// copy.
///
/// # Contract
///
/// * [`now`](Runtime::now) never goes backwards.
/// * A sleep never completes before its deadline as seen by `now`.
/// * A spawned task runs to completion unless aborted; its panic is caught and
///   reported as [`JoinError::Panicked`] on its handle, and the executor keeps
///   running other tasks.
/// * [`spawn_blocking`](Runtime::spawn_blocking) runs the closure on a thread
///   that is not an async worker thread.
///
/// The integration suite (`tests/runtime_contract.rs`) checks this contract on
/// every adapter.
///
/// # Example
///
/// A helper written once for every executor:
///
/// ```
/// use std::time::Duration;
/// use weir_core::Runtime;
///
/// async fn twice_later<R: Runtime>(rt: &R, x: u32) -> u32 {
///     rt.sleep(Duration::from_millis(5)).await;
///     x * 2
/// }
/// # let _ = twice_later::<weir_core::test_util::VirtualRuntime>;
/// ```
pub trait Runtime: Clone + Send + Sync + fmt::Debug + 'static {
    /// The future returned by [`sleep`](Runtime::sleep) and
    /// [`sleep_until`](Runtime::sleep_until).
    type Sleep: Future<Output = ()> + Send + 'static;

    /// The handle of a spawned task.
    type JoinHandle<T: Send + 'static>: JoinHandle<T>;

    /// The current instant on this runtime's clock.
    fn now(&self) -> Instant;

    /// A future that completes at `deadline` or as soon as possible after it.
    fn sleep_until(&self, deadline: Instant) -> Self::Sleep;

    /// A future that completes once `duration` has passed.
    ///
    /// A duration too large to represent as an instant sleeps "forever"
    /// (about thirty years) rather than overflowing.
    fn sleep(&self, duration: Duration) -> Self::Sleep {
        self.sleep_until(deadline_after(self.now(), duration))
    }

    /// Runs `future` as a new task.
    ///
    /// Dropping the handle detaches the task on every runtime (the smol
    /// adapter turns `async_task`'s cancel-on-drop into a detach, so the rule
    /// is the same everywhere); [`JoinHandle::abort`] stops it.
    fn spawn<F>(&self, future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Runs the blocking closure `f` on a thread reserved for blocking work.
    fn spawn_blocking<F, R>(&self, f: F) -> Self::JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static;
}

/// The instant `duration` after `now`, saturating at a far-future instant.
///
/// Used wherever a user-supplied duration becomes a deadline, so that
/// `Duration::MAX` means "never" instead of a panic.
///
/// ```
/// use std::time::{Duration, Instant};
/// let now = Instant::now();
/// assert!(weir_core::rt::deadline_after(now, Duration::MAX) > now);
/// assert_eq!(weir_core::rt::deadline_after(now, Duration::from_secs(1)), now + Duration::from_secs(1));
/// ```
pub fn deadline_after(now: Instant, duration: Duration) -> Instant {
    // Thirty years: far enough to mean "never" and small enough that every
    // platform's Instant can hold it.
    const FAR: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);
    now.checked_add(duration)
        .or_else(|| now.checked_add(FAR))
        .unwrap_or(now)
}

/// A spawned task's handle: await it for the task's output.
///
/// Resolves to `Ok(output)`, or to a [`JoinError`] when the task panicked or
/// was aborted.
///
/// # Example
///
/// ```
/// use weir_core::{Runtime, rt::JoinHandle, test_util::VirtualRuntime};
///
/// let rt = VirtualRuntime::new();
/// let out = rt.block_on({
///     let rt = rt.clone();
///     async move { rt.spawn(async { 6 * 7 }).await }
/// });
/// assert_eq!(out.unwrap(), 42);
/// ```
pub trait JoinHandle<T>: Future<Output = Result<T, JoinError>> + Send + Unpin + 'static {
    /// Asks the executor to stop the task: its future is dropped without
    /// being polled to completion, and awaiting this handle then yields
    /// [`JoinError::Cancelled`] (unless the task had already finished).
    ///
    /// A blocking closure that already started cannot be stopped: it runs to
    /// the end, and whether the handle then yields its output or
    /// `Cancelled` is the executor's choice (tokio yields the output).
    fn abort(&mut self);

    /// Lets the task run on without a handle; its output is discarded.
    fn detach(self);
}

/// Why a spawned task produced no output.
pub enum JoinError {
    /// The task panicked; the payload is what `std::panic::catch_unwind`
    /// returned.
    Panicked(Box<dyn Any + Send + 'static>),
    /// The task was aborted before it finished.
    Cancelled,
}

impl JoinError {
    /// Whether the task panicked.
    ///
    /// ```
    /// use weir_core::rt::JoinError;
    /// assert!(!JoinError::Cancelled.is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self, JoinError::Panicked(_))
    }

    /// Whether the task was aborted.
    ///
    /// ```
    /// use weir_core::rt::JoinError;
    /// assert!(JoinError::Cancelled.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, JoinError::Cancelled)
    }

    /// The panic message when the payload is a string, as `panic!` makes it.
    ///
    /// ```
    /// use weir_core::rt::JoinError;
    /// let e = JoinError::Panicked(Box::new("boom"));
    /// assert_eq!(e.panic_message(), Some("boom"));
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            JoinError::Panicked(p) => p
                .downcast_ref::<&'static str>()
                .copied()
                .or_else(|| p.downcast_ref::<String>().map(String::as_str)),
            JoinError::Cancelled => None,
        }
    }

    /// The panic payload, to resume the panic with
    /// `std::panic::resume_unwind`; `Err(self)` when the task was cancelled.
    ///
    /// ```
    /// use weir_core::rt::JoinError;
    /// assert!(JoinError::Cancelled.try_into_panic().is_err());
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self {
            JoinError::Panicked(p) => Ok(p),
            JoinError::Cancelled => Err(self),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Panicked(_) => f
                .debug_tuple("Panicked")
                .field(&self.panic_message().unwrap_or("<non-string payload>"))
                .finish(),
            JoinError::Cancelled => f.write_str("Cancelled"),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Panicked(_) => match self.panic_message() {
                Some(m) => write!(f, "task panicked: {m}"),
                None => f.write_str("task panicked"),
            },
            JoinError::Cancelled => f.write_str("task was cancelled"),
        }
    }
}

impl std::error::Error for JoinError {}
