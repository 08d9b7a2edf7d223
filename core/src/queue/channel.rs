//! MPMC channels: a lock-free queue (bounded ring or unbounded segments)
//! with two wait lists, one for each side.
//!
//! The queue is `concurrent-queue`'s, chosen because closing it is part of
//! the same atomic word as its tail: a push either lands before the close and
//! stays receivable, or fails and hands the value back. With a separate
//! "closed" flag a push could slip in after the last receiver saw the queue
//! closed and empty, and that value would be lost.
//!
//! Waiting uses `event-listener` with listeners pinned inside the waiting
//! future (`listener!`), so a wait allocates nothing. Every wait follows the
//! same three steps: try, register a listener, try again, and only then
//! sleep; an item pushed between the first try and the registration is
//! caught by the second try, one pushed after the registration notifies the
//! listener. A notified listener that is dropped (a cancelled `recv`) passes
//! its notification on to the next listener, so no wake-up is lost.
//!
//! Receivers waiting through the `Stream` are the exception, and wait on a
//! list of their own. A stream keeps its listener in the receiver between
//! polls, and cannot see that the `next()` future polling it was dropped
//! (`select!`, a timeout): an abandoned stream would hold a notification,
//! undelivered, for as long as the receiver lives, while a value sits
//! queued and another receiver sleeps. So a push notifies one `recv` waiter
//! as usual and, in addition, *every* waiting stream: a stream never takes
//! a notification that another receiver needs. The price is that several
//! idle streams on one queue all wake for each value (one of them takes it);
//! worker pools should wait in `recv`.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crossbeam_utils::Backoff;

use super::error::{RecvError, SendError, TryRecvError, TrySendError};
use crate::loom::event::{Event, EventListener, Listener};
use crate::loom::listen;
use crate::loom::queue::{PopError, PushError, Queue};
use crate::loom::sync::Arc;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::{ConfigError, Rule};

/// What senders and receivers share.
struct Chan<T> {
    queue: Queue<T>,
    /// Senders waiting for room; notified once per freed slot and by close.
    /// Never listened to on an unbounded queue.
    send_ops: Event,
    /// Receivers waiting for a value in `recv`, `recv_many` or
    /// `recv_blocking`; notified once per pushed value and by close.
    recv_ops: Event,
    /// Receivers waiting through the `Stream`; all notified on every pushed
    /// value and by close, because any of them may have been abandoned
    /// (see the module docs).
    stream_ops: Event,
    /// Live `Sender` handles; the last one to go closes the queue.
    senders: AtomicUsize,
    /// Live `Receiver` handles; the last one to go closes the queue.
    receivers: AtomicUsize,
    bounded: bool,
}

impl<T> Chan<T> {
    fn close(&self) -> bool {
        if self.queue.close() {
            // Everyone who waits must look again: senders to get their value
            // back, receivers to drain and then see `Closed`.
            self.send_ops.notify(usize::MAX);
            self.recv_ops.notify(usize::MAX);
            self.stream_ops.notify(usize::MAX);
            true
        } else {
            false
        }
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.queue.push(value) {
            Ok(()) => {
                // One more value: one more receiver may proceed. `additional`
                // so that two quick pushes wake two receivers, not one.
                self.recv_ops.notify_additional(1);
                // Streams waiting now are each told; one already told and
                // not yet back costs only an atomic load here. Relaxed: the
                // fence of the notification just above already orders the
                // push before this look at the listeners.
                self.stream_ops.notify_relaxed(usize::MAX);
                Ok(())
            }
            Err(PushError::Full(v)) => Err(TrySendError::Full(v)),
            Err(PushError::Closed(v)) => Err(TrySendError::Closed(v)),
        }
    }

    fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.queue.pop() {
            Ok(v) => {
                if self.bounded {
                    self.send_ops.notify_additional(1);
                }
                Ok(v)
            }
            Err(PopError::Empty) => Err(TryRecvError::Empty),
            Err(PopError::Closed) => Err(TryRecvError::Closed),
        }
    }
}

/// The blocking side spins (then yields) briefly before it parks: parking a
/// thread and unparking it costs two system calls, far more than the other
/// side, running on another core, usually takes to make room or deliver.
/// The async side does not spin: a task that waits frees its worker thread
/// for other tasks, which is the point of being async. Under loom no
/// spinning: it would only multiply the interleavings.
fn spin_a_little(backoff: &Backoff) -> bool {
    if cfg!(weir_loom) || backoff.is_completed() {
        return false;
    }
    backoff.snooze();
    true
}

/// Creates a bounded MPMC queue holding at most `cap` values.
///
/// A sender waits (or `try_send` fails with `Full`) while `cap` values are
/// queued.
///
/// # Errors
///
/// `cap == 0` is refused with a [`ConfigError`] (field `cap`, rule
/// [`Rule::Zero`]): weir has no rendezvous channel, because a queue that can
/// never hold a value cannot hand one back on close, and a rendezvous hides
/// the back-pressure point a flow-control queue exists to show. Use
/// `bounded(1)` for the closest behaviour.
///
/// # Example
///
/// ```
/// let (tx, rx) = weir_core::queue::bounded::<&str>(8).unwrap();
/// tx.send_blocking("hello").unwrap();
/// assert_eq!(rx.recv_blocking(), Ok("hello"));
/// assert!(weir_core::queue::bounded::<u8>(0).is_err());
/// ```
pub fn bounded<T>(cap: usize) -> Result<(Sender<T>, Receiver<T>), ConfigError> {
    if cap == 0 {
        return Err(ConfigError::new("queue::bounded", "cap", Rule::Zero));
    }
    Ok(pair(Queue::bounded(cap), true))
}

/// Creates an unbounded MPMC queue: sends never wait, memory grows with the
/// backlog.
///
/// # Example
///
/// ```
/// let (tx, rx) = weir_core::queue::unbounded::<u64>();
/// for i in 0..1000 {
///     tx.try_send(i).unwrap();
/// }
/// assert_eq!(rx.len(), 1000);
/// assert_eq!(rx.capacity(), None);
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    pair(Queue::unbounded(), false)
}

fn pair<T>(queue: Queue<T>, bounded: bool) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Chan {
        queue,
        send_ops: Event::new(),
        recv_ops: Event::new(),
        stream_ops: Event::new(),
        senders: AtomicUsize::new(1),
        receivers: AtomicUsize::new(1),
        bounded,
    });
    (
        Sender { chan: chan.clone() },
        Receiver {
            chan,
            listener: None,
        },
    )
}

/// The sending end of a queue; clone it for more senders.
///
/// When the last sender is dropped the queue closes: receivers drain what
/// is queued, then see `Closed`.
///
/// ```
/// let (tx, rx) = weir_core::queue::bounded::<u8>(2).unwrap();
/// let tx2 = tx.clone();
/// tx2.try_send(1).unwrap();
/// drop((tx, tx2));
/// assert!(rx.is_closed());
/// ```
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for room while the queue is full.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value when the queue is (or becomes) closed.
    ///
    /// # Cancellation
    ///
    /// Dropping the future before it completes drops the value, and the
    /// queue is unchanged; a wake-up it received passes to another waiting
    /// sender. Waiting allocates nothing.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let (tx, rx) = weir_core::queue::bounded::<u8>(1).unwrap();
    /// tx.send(1).await.unwrap();
    /// assert_eq!(rx.recv().await, Ok(1));
    /// # });
    /// ```
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        let mut value = value;
        loop {
            match self.chan.try_send(value) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Closed(v)) => return Err(SendError(v)),
                Err(TrySendError::Full(v)) => value = v,
            }
            listen!(self.chan.send_ops => room);
            match self.chan.try_send(value) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Closed(v)) => return Err(SendError(v)),
                Err(TrySendError::Full(v)) => value = v,
            }
            room.await;
        }
    }

    /// Sends `value` if there is room now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], with the value.
    ///
    /// ```
    /// let (tx, _rx) = weir_core::queue::bounded::<u8>(1).unwrap();
    /// assert!(tx.try_send(1).is_ok());
    /// assert!(tx.try_send(2).unwrap_err().is_full());
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(value)
    }

    /// Sends `value`, blocking the thread while the queue is full. For
    /// synchronous code only: called inside an async task it stalls the
    /// executor's thread.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value when the queue is (or becomes) closed.
    ///
    /// ```
    /// let (tx, rx) = weir_core::queue::bounded::<u8>(1).unwrap();
    /// let t = std::thread::spawn(move || {
    ///     tx.send_blocking(1).unwrap();
    ///     tx.send_blocking(2).unwrap(); // waits until the main thread receives
    /// });
    /// assert_eq!(rx.recv_blocking(), Ok(1));
    /// assert_eq!(rx.recv_blocking(), Ok(2));
    /// t.join().unwrap();
    /// ```
    pub fn send_blocking(&self, value: T) -> Result<(), SendError<T>> {
        let mut value = value;
        let backoff = Backoff::new();
        loop {
            match self.chan.try_send(value) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Closed(v)) => return Err(SendError(v)),
                Err(TrySendError::Full(v)) => value = v,
            }
            if spin_a_little(&backoff) {
                continue;
            }
            listen!(self.chan.send_ops => room);
            match self.chan.try_send(value) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Closed(v)) => return Err(SendError(v)),
                Err(TrySendError::Full(v)) => value = v,
            }
            room.wait();
        }
    }

    /// Closes the queue; returns `true` if this call closed it.
    ///
    /// Later sends fail and hand their value back; waiting senders wake and
    /// get theirs back; receivers drain what is queued, then see `Closed`.
    ///
    /// ```
    /// let (tx, rx) = weir_core::queue::unbounded::<u8>();
    /// tx.try_send(1).unwrap();
    /// assert!(tx.close());
    /// assert!(!tx.close());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert!(rx.try_recv().unwrap_err().is_closed());
    /// ```
    pub fn close(&self) -> bool {
        self.chan.close()
    }

    /// Whether the queue is closed.
    ///
    /// ```
    /// let (tx, rx) = weir_core::queue::unbounded::<u8>();
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.queue.is_closed()
    }

    /// How many values are queued now.
    ///
    /// ```
    /// let (tx, _rx) = weir_core::queue::unbounded::<u8>();
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.queue.len()
    }

    /// Whether no value is queued now.
    ///
    /// ```
    /// let (tx, _rx) = weir_core::queue::unbounded::<u8>();
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.chan.queue.is_empty()
    }

    /// Whether a bounded queue holds `capacity` values now (never true for
    /// an unbounded one).
    ///
    /// ```
    /// let (tx, _rx) = weir_core::queue::bounded::<u8>(1).unwrap();
    /// tx.try_send(1).unwrap();
    /// assert!(tx.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.chan.queue.is_full()
    }

    /// The capacity of a bounded queue; `None` when unbounded.
    ///
    /// ```
    /// let (tx, _rx) = weir_core::queue::bounded::<u8>(3).unwrap();
    /// assert_eq!(tx.capacity(), Some(3));
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        self.chan.queue.capacity()
    }

    /// How many `Sender` handles are alive.
    ///
    /// ```
    /// let (tx, _rx) = weir_core::queue::unbounded::<u8>();
    /// let _tx2 = tx.clone();
    /// assert_eq!(tx.sender_count(), 2);
    /// ```
    pub fn sender_count(&self) -> usize {
        self.chan.senders.load(Ordering::Relaxed)
    }

    /// How many `Receiver` handles are alive.
    ///
    /// ```
    /// let (tx, rx) = weir_core::queue::unbounded::<u8>();
    /// drop(rx);
    /// assert_eq!(tx.receiver_count(), 0);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.chan.receivers.load(Ordering::Relaxed)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        // Relaxed: a clone is made from a live handle, so the count is
        // already above zero and cannot reach it concurrently.
        self.chan.senders.fetch_add(1, Ordering::Relaxed);
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // AcqRel: the handle that brings the count to zero closes, after
        // every other handle's last send (their decrements release it).
        if self.chan.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.chan.close();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The receiving end of a queue; clone it for more receivers. Each value is
/// received by exactly one receiver.
///
/// When the last receiver is dropped the queue closes and values still
/// queued are dropped with it; senders then get their values back.
///
/// The receiver is also a [`Stream`](futures_core::Stream) that ends when the
/// queue is closed and drained. Prefer [`recv`](Receiver::recv) on hot
/// paths: waiting through the `Stream` keeps a boxed listener in the
/// receiver (one allocation per wait), while `recv` keeps it on its own
/// future's stack.
///
/// Dropping a waiting `next()` (in `select!`, under a timeout) loses no
/// value and keeps no wake-up from other receivers: every receiver waiting
/// as a stream is woken for each value sent, and a receiver waiting in
/// `recv` gets its own notification. So several receivers idling as streams
/// on one queue all wake for every value; wait in `recv` when many workers
/// share a queue.
///
/// ```
/// let (tx, rx) = weir_core::queue::unbounded::<u8>();
/// let rx2 = rx.clone();
/// tx.try_send(1).unwrap();
/// tx.try_send(2).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// assert_eq!(rx2.try_recv(), Ok(2));
/// ```
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
    /// The `Stream` implementation's pending wait, kept across polls.
    listener: Option<EventListener>,
}

impl<T> Receiver<T> {
    /// Receives the next value, waiting while the queue is empty.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once the queue is closed and drained.
    ///
    /// # Cancellation
    ///
    /// Dropping the future loses no value (a value is taken only when the
    /// future completes) and no wake-up (a notification it received passes
    /// to another waiting receiver). Waiting allocates nothing.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let (tx, rx) = weir_core::queue::bounded::<u8>(4).unwrap();
    /// tx.send(9).await.unwrap();
    /// drop(tx);
    /// assert_eq!(rx.recv().await, Ok(9));
    /// assert!(rx.recv().await.is_err());
    /// # });
    /// ```
    pub async fn recv(&self) -> Result<T, RecvError> {
        loop {
            match self.chan.try_recv() {
                Ok(v) => return Ok(v),
                Err(TryRecvError::Closed) => return Err(RecvError),
                Err(TryRecvError::Empty) => {}
            }
            listen!(self.chan.recv_ops => arrival);
            match self.chan.try_recv() {
                Ok(v) => return Ok(v),
                Err(TryRecvError::Closed) => return Err(RecvError),
                Err(TryRecvError::Empty) => {}
            }
            arrival.await;
        }
    }

    /// Receives a value if one is queued now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] now, or [`TryRecvError::Closed`] for good.
    ///
    /// ```
    /// let (tx, rx) = weir_core::queue::bounded::<u8>(1).unwrap();
    /// assert!(rx.try_recv().unwrap_err().is_empty());
    /// tx.try_send(3).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(3));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Receives the next value, blocking the thread while the queue is
    /// empty. For synchronous code only.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once the queue is closed and drained.
    ///
    /// ```
    /// let (tx, rx) = weir_core::queue::bounded::<u8>(1).unwrap();
    /// std::thread::spawn(move || tx.send_blocking(5).unwrap());
    /// assert_eq!(rx.recv_blocking(), Ok(5));
    /// assert!(rx.recv_blocking().is_err()); // the sender thread dropped its end
    /// ```
    pub fn recv_blocking(&self) -> Result<T, RecvError> {
        let backoff = Backoff::new();
        loop {
            match self.chan.try_recv() {
                Ok(v) => return Ok(v),
                Err(TryRecvError::Closed) => return Err(RecvError),
                Err(TryRecvError::Empty) => {}
            }
            if spin_a_little(&backoff) {
                continue;
            }
            listen!(self.chan.recv_ops => arrival);
            match self.chan.try_recv() {
                Ok(v) => return Ok(v),
                Err(TryRecvError::Closed) => return Err(RecvError),
                Err(TryRecvError::Empty) => {}
            }
            arrival.wait();
        }
    }

    /// Receives up to `n` values into `buf`, waiting until at least one is
    /// available; returns how many were appended. `n == 0` returns `Ok(0)`
    /// at once.
    ///
    /// Values come in queue order. `buf` grows only if its spare capacity is
    /// below what is taken: reuse one buffer to keep the loop
    /// allocation-free. `n == usize::MAX` means "all that is queued".
    ///
    /// # Errors
    ///
    /// [`RecvError`] once the queue is closed and drained.
    ///
    /// # Cancellation
    ///
    /// Cancel-safe as [`recv`](Receiver::recv): values are taken only in the
    /// poll that completes the future.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let (tx, rx) = weir_core::queue::bounded::<u8>(8).unwrap();
    /// for i in 0..5 {
    ///     tx.send(i).await.unwrap();
    /// }
    /// let mut buf = Vec::with_capacity(8);
    /// assert_eq!(rx.recv_many(&mut buf, 3).await, Ok(3));
    /// assert_eq!(rx.recv_many(&mut buf, 8).await, Ok(2));
    /// assert_eq!(buf, [0, 1, 2, 3, 4]);
    /// # });
    /// ```
    pub async fn recv_many(&self, buf: &mut Vec<T>, n: usize) -> Result<usize, RecvError> {
        if n == 0 {
            return Ok(0);
        }
        let first = self.recv().await?;
        // Reserve for what is there, not for `n`: `n` may be `usize::MAX`
        // ("everything"), which must not make `reserve` panic.
        buf.reserve(n.min(self.chan.queue.len() + 1));
        buf.push(first);
        let mut got = 1;
        while got < n {
            match self.chan.try_recv() {
                Ok(v) => {
                    buf.push(v);
                    got += 1;
                }
                Err(_) => break,
            }
        }
        Ok(got)
    }

    /// Closes the queue; returns `true` if this call closed it. Values
    /// already queued stay receivable.
    ///
    /// ```
    /// let (tx, rx) = weir_core::queue::bounded::<u8>(2).unwrap();
    /// tx.try_send(1).unwrap();
    /// rx.close();
    /// assert!(tx.try_send(2).unwrap_err().is_closed());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn close(&self) -> bool {
        self.chan.close()
    }

    /// Whether the queue is closed (it may still hold values).
    ///
    /// ```
    /// let (tx, rx) = weir_core::queue::unbounded::<u8>();
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.queue.is_closed()
    }

    /// How many values are queued now.
    ///
    /// ```
    /// let (tx, rx) = weir_core::queue::unbounded::<u8>();
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.queue.len()
    }

    /// Whether no value is queued now.
    ///
    /// ```
    /// let (_tx, rx) = weir_core::queue::unbounded::<u8>();
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.chan.queue.is_empty()
    }

    /// Whether a bounded queue holds `capacity` values now.
    ///
    /// ```
    /// let (tx, rx) = weir_core::queue::bounded::<u8>(1).unwrap();
    /// tx.try_send(1).unwrap();
    /// assert!(rx.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.chan.queue.is_full()
    }

    /// The capacity of a bounded queue; `None` when unbounded.
    ///
    /// ```
    /// let (_tx, rx) = weir_core::queue::unbounded::<u8>();
    /// assert_eq!(rx.capacity(), None);
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        self.chan.queue.capacity()
    }

    /// How many `Sender` handles are alive.
    ///
    /// ```
    /// let (tx, rx) = weir_core::queue::unbounded::<u8>();
    /// drop(tx);
    /// assert_eq!(rx.sender_count(), 0);
    /// ```
    pub fn sender_count(&self) -> usize {
        self.chan.senders.load(Ordering::Relaxed)
    }

    /// How many `Receiver` handles are alive.
    ///
    /// ```
    /// let (_tx, rx) = weir_core::queue::unbounded::<u8>();
    /// let _rx2 = rx.clone();
    /// assert_eq!(rx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.chan.receivers.load(Ordering::Relaxed)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        // Relaxed: see `Sender::clone`.
        self.chan.receivers.fetch_add(1, Ordering::Relaxed);
        Receiver {
            chan: self.chan.clone(),
            listener: None,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // AcqRel: see `Sender::drop`.
        if self.chan.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.chan.close();
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish()
    }
}

// The only field that is not `Unpin` behind a pointer is the boxed listener,
// which is `Unpin` itself; the receiver can be polled by `&mut`.
impl<T> Unpin for Receiver<T> {}

impl<T> futures_core::Stream for Receiver<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        loop {
            if let Some(listener) = self.listener.as_mut() {
                if Pin::new(listener).poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.listener = None;
            }
            loop {
                match self.chan.try_recv() {
                    Ok(v) => {
                        // Dropping a listener that was notified passes the
                        // notification on.
                        self.listener = None;
                        return Poll::Ready(Some(v));
                    }
                    Err(TryRecvError::Closed) => {
                        self.listener = None;
                        return Poll::Ready(None);
                    }
                    Err(TryRecvError::Empty) => {}
                }
                if self.listener.is_some() {
                    break;
                }
                // The stream's own list: a listener kept here may never be
                // polled again, so it must not hold a `recv_ops` hand-off.
                self.listener = Some(self.chan.stream_ops.listen());
            }
        }
    }
}

impl<T> futures_core::FusedStream for Receiver<T> {
    fn is_terminated(&self) -> bool {
        self.chan.queue.is_closed() && self.chan.queue.is_empty()
    }
}
