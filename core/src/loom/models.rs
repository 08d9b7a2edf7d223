//! loom-visible stand-ins (`--cfg weir_loom` only) for what the normal
//! build takes from parking_lot, concurrent-queue and event-listener, none
//! of which is built on loom, so loom could not see their synchronisation.
//! Each keeps the contract weir relies on:
//!
//! * `Mutex`: loom's, without poisoning; its guard can be handed to
//!   `Condvar::wait` by `&mut`, as parking_lot's can;
//! * `Queue`: push, pop and close are each atomic with respect to the
//!   others (concurrent-queue's guarantee: close lives in the tail word);
//! * `Event`: `notify(n)` makes sure `n` listeners are notified,
//!   `notify_additional(n)` notifies `n` more, and a notified listener that
//!   is dropped passes its notification on (event-listener's guarantees).
//!
//! The loom models then check weir's own protocols on top: try, listen, try
//! again, then wait; close waking everyone; the handle counts closing the
//! queue; cancellation losing no value and no wake-up.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use std::collections::VecDeque;

use crate::loom::sync::Arc;

/// loom's mutex with the non-poisoning interface of the normal build.
#[derive(Debug)]
pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> Mutex<T> {
    pub(crate) fn new(t: T) -> Self {
        Mutex(loom::sync::Mutex::new(t))
    }
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        MutexGuard {
            inner: Some(self.0.lock().unwrap_or_else(|e| e.into_inner())),
        }
    }
    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.0
            .try_lock()
            .ok()
            .map(|g| MutexGuard { inner: Some(g) })
    }
}

/// loom's guard in an `Option`, so that `Condvar::wait(&mut guard)` can
/// hand it to loom's by-value `wait` and put back the one it returns.
/// `None` only inside `wait`.
pub(crate) struct MutexGuard<'a, T> {
    inner: Option<loom::sync::MutexGuard<'a, T>>,
}

impl<T> core::ops::Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.inner
            .as_ref()
            .expect("a guard is only empty inside Condvar::wait")
    }
}

impl<T> core::ops::DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.inner
            .as_mut()
            .expect("a guard is only empty inside Condvar::wait")
    }
}

/// loom's condition variable with parking_lot's interface.
#[derive(Debug)]
pub(crate) struct Condvar(loom::sync::Condvar);

impl Condvar {
    pub(crate) fn new() -> Self {
        Condvar(loom::sync::Condvar::new())
    }
    pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
        let g = guard
            .inner
            .take()
            .expect("a guard is only empty inside Condvar::wait");
        guard.inner = Some(self.0.wait(g).unwrap_or_else(|e| e.into_inner()));
    }
    /// loom has no time: this waits for a notification (loom 0.7's
    /// `wait_timeout` does the same), so a model must not rely on a timeout
    /// to make progress.
    pub(crate) fn wait_for<T>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        _timeout: core::time::Duration,
    ) {
        self.wait(guard);
    }
    pub(crate) fn notify_one(&self) {
        self.0.notify_one();
    }
    pub(crate) fn notify_all(&self) {
        self.0.notify_all();
    }
}

#[derive(Debug)]
pub(crate) enum PushError<T> {
    Full(T),
    Closed(T),
}

#[derive(Debug)]
pub(crate) enum PopError {
    Empty,
    Closed,
}

pub(crate) struct Queue<T> {
    state: Mutex<(VecDeque<T>, bool)>,
    cap: Option<usize>,
}

impl<T> Queue<T> {
    pub(crate) fn bounded(cap: usize) -> Self {
        Queue {
            state: Mutex::new((VecDeque::new(), false)),
            cap: Some(cap),
        }
    }
    pub(crate) fn unbounded() -> Self {
        Queue {
            state: Mutex::new((VecDeque::new(), false)),
            cap: None,
        }
    }
    pub(crate) fn push(&self, v: T) -> Result<(), PushError<T>> {
        let mut s = self.state.lock();
        if s.1 {
            Err(PushError::Closed(v))
        } else if self.cap.is_some_and(|c| s.0.len() == c) {
            Err(PushError::Full(v))
        } else {
            s.0.push_back(v);
            Ok(())
        }
    }
    pub(crate) fn pop(&self) -> Result<T, PopError> {
        let mut s = self.state.lock();
        match s.0.pop_front() {
            Some(v) => Ok(v),
            None if s.1 => Err(PopError::Closed),
            None => Err(PopError::Empty),
        }
    }
    pub(crate) fn close(&self) -> bool {
        !core::mem::replace(&mut self.state.lock().1, true)
    }
    pub(crate) fn is_closed(&self) -> bool {
        self.state.lock().1
    }
    pub(crate) fn len(&self) -> usize {
        self.state.lock().0.len()
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub(crate) fn is_full(&self) -> bool {
        self.cap.is_some_and(|c| self.len() == c)
    }
    pub(crate) fn capacity(&self) -> Option<usize> {
        self.cap
    }
}

struct Entry {
    id: u64,
    /// `Some(additional)` once notified.
    notified: Option<bool>,
    waker: Option<Waker>,
}

#[derive(Default)]
struct EventState {
    entries: Vec<Entry>,
    next_id: u64,
}

impl EventState {
    fn notify(&mut self, n: usize, additional: bool) -> usize {
        let mut budget = if additional {
            n
        } else {
            n.saturating_sub(self.entries.iter().filter(|e| e.notified.is_some()).count())
        };
        let mut woke = 0;
        for e in self.entries.iter_mut() {
            if budget == 0 {
                break;
            }
            if e.notified.is_none() {
                e.notified = Some(additional);
                if let Some(w) = e.waker.take() {
                    w.wake();
                }
                budget -= 1;
                woke += 1;
            }
        }
        woke
    }
}

pub(crate) struct Event {
    state: Arc<Mutex<EventState>>,
}

impl Event {
    pub(crate) fn new() -> Self {
        Event {
            state: Arc::new(Mutex::new(EventState::default())),
        }
    }
    pub(crate) fn notify(&self, n: usize) -> usize {
        self.state.lock().notify(n, false)
    }
    /// No fences to model under loom: the model's lock orders it all.
    pub(crate) fn notify_relaxed(&self, n: usize) -> usize {
        self.notify(n)
    }
    pub(crate) fn notify_additional(&self, n: usize) -> usize {
        self.state.lock().notify(n, true)
    }
    pub(crate) fn listen(&self) -> EventListener {
        let mut s = self.state.lock();
        let id = s.next_id;
        s.next_id += 1;
        s.entries.push(Entry {
            id,
            notified: None,
            waker: None,
        });
        EventListener {
            state: self.state.clone(),
            id,
            done: false,
        }
    }
}

/// Drives `f` on this loom thread, parking between polls (loom's own
/// `block_on` sits behind a feature the workspace does not turn on).
pub(crate) fn block_on<F: Future>(f: F) -> F::Output {
    struct Unpark(loom::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(std::sync::Arc::new(Unpark(loom::thread::current())));
    let mut f = core::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut Context::from_waker(&waker)) {
            return v;
        }
        loom::thread::park();
    }
}

pub(crate) struct EventListener {
    state: Arc<Mutex<EventState>>,
    id: u64,
    done: bool,
}

/// The blocking side, as event-listener's `Listener::wait`.
pub(crate) trait Listener: Future<Output = ()> + Sized {
    fn wait(self) {
        block_on(self)
    }
}

impl Listener for EventListener {}

impl Future for EventListener {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let id = self.id;
        let mut s = self.state.lock();
        let Some(i) = s.entries.iter().position(|e| e.id == id) else {
            return Poll::Ready(());
        };
        if s.entries[i].notified.is_some() {
            s.entries.remove(i);
            drop(s);
            self.done = true;
            Poll::Ready(())
        } else {
            s.entries[i].waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

impl Drop for EventListener {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut s = self.state.lock();
        if let Some(i) = s.entries.iter().position(|e| e.id == self.id) {
            // A notification that nobody consumed goes to the next one.
            if let Some(additional) = s.entries.remove(i).notified {
                s.notify(1, additional);
            }
        }
    }
}
