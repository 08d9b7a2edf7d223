//! What a queue operation says when it cannot do its job; every error that
//! refuses a value carries it back.

use core::fmt;

/// An async or blocking send failed because the queue is closed; the value
/// comes back in field `0`.
///
/// `Debug` does not require `T: Debug`, so the error works with `?` and
/// boxed errors whatever the payload.
///
/// ```
/// let (tx, rx) = weir_core::queue::bounded::<u32>(4).unwrap();
/// rx.close();
/// let err = tx.send_blocking(7).unwrap_err();
/// assert_eq!(err.into_inner(), 7);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The value that was not sent.
    ///
    /// ```
    /// let e = weir_core::queue::SendError("job");
    /// assert_eq!(e.into_inner(), "job");
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending on a closed queue")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// A non-waiting send (or push) failed; the value comes back.
///
/// ```
/// use weir_core::queue::TrySendError;
///
/// let (tx, _rx) = weir_core::queue::bounded::<u32>(1).unwrap();
/// tx.try_send(1).unwrap();
/// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
/// tx.close();
/// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The queue is at capacity; retry later or wait with `send`.
    Full(T),
    /// The queue is closed; no later send can succeed.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    ///
    /// ```
    /// assert_eq!(weir_core::queue::TrySendError::Full(5).into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }

    /// Whether the queue was full (as opposed to closed).
    ///
    /// ```
    /// assert!(weir_core::queue::TrySendError::Full(()).is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }

    /// Whether the queue was closed.
    ///
    /// ```
    /// assert!(weir_core::queue::TrySendError::Closed(()).is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, TrySendError::Closed(_))
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("sending on a full queue"),
            TrySendError::Closed(_) => f.write_str("sending on a closed queue"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(e: SendError<T>) -> Self {
        TrySendError::Closed(e.0)
    }
}

/// A waiting receive failed: the queue is closed and empty, so nothing will
/// ever arrive.
///
/// ```
/// let (tx, rx) = weir_core::queue::unbounded::<u32>();
/// tx.send_blocking(1).unwrap();
/// drop(tx); // closes; the value sent before stays receivable
/// assert_eq!(rx.recv_blocking(), Ok(1));
/// assert_eq!(rx.recv_blocking(), Err(weir_core::queue::RecvError));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("receiving on a closed and empty queue")
    }
}

impl std::error::Error for RecvError {}

/// A non-waiting receive (or pop) found nothing.
///
/// ```
/// use weir_core::queue::TryRecvError;
///
/// let (tx, rx) = weir_core::queue::bounded::<u32>(2).unwrap();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing is queued now; something may arrive later.
    Empty,
    /// The queue is closed and empty; nothing will ever arrive.
    Closed,
}

impl TryRecvError {
    /// Whether the queue was merely empty.
    ///
    /// ```
    /// assert!(weir_core::queue::TryRecvError::Empty.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        matches!(self, TryRecvError::Empty)
    }

    /// Whether the queue is closed for good.
    ///
    /// ```
    /// assert!(weir_core::queue::TryRecvError::Closed.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, TryRecvError::Closed)
    }
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("receiving on an empty queue"),
            TryRecvError::Closed => f.write_str("receiving on a closed and empty queue"),
        }
    }
}

impl std::error::Error for TryRecvError {}

impl From<RecvError> for TryRecvError {
    fn from(_: RecvError) -> Self {
        TryRecvError::Closed
    }
}
