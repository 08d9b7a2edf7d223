//! A runtime whose clock moves only when told to, for deterministic tests.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicBool, Ordering};
use std::collections::{BTreeMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::{
    Runtime,
    rt::{JoinError, JoinHandle, deadline_after},
};

/// How long `block_on` waits for a wake from another thread before it
/// declares a deadlock. Only reached when no task is ready, no timer is
/// pending and no blocking closure runs, which in a test is almost always a
/// bug in the code under test.
const STALL_LIMIT: Duration = Duration::from_secs(10);

/// A single-threaded executor with a virtual clock.
///
/// Time stands still until the test moves it with
/// [`advance`](VirtualRuntime::advance), or, with auto-advance on (the
/// default), until every task waits: then the clock jumps to the earliest
/// pending sleep, as tokio's paused clock does. Sleepers fire in deadline
/// order (ties in the order they were first polled), each observing
/// [`now`](Runtime::now) equal to its own deadline.
///
/// Blocking closures run on real threads; while one runs the clock does not
/// auto-advance. Work done on threads the runtime does not know about is
/// invisible to auto-advance: route it through
/// [`spawn_blocking`](Runtime::spawn_blocking) or turn auto-advance off.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use weir_core::{Runtime, test_util::VirtualRuntime};
///
/// let rt = VirtualRuntime::new();
/// let t0 = rt.now();
/// rt.block_on({
///     let rt = rt.clone();
///     async move { rt.sleep(Duration::from_secs(3600)).await }
/// });
/// assert_eq!(rt.now() - t0, Duration::from_secs(3600)); // in microseconds of real time
/// ```
#[derive(Clone)]
pub struct VirtualRuntime {
    inner: Arc<Inner>,
}

struct Inner {
    start: Instant,
    state: Mutex<State>,
    /// Signalled whenever a task, the main future or a blocking closure
    /// changes what `block_on` should do next.
    wakeup: Condvar,
}

struct State {
    elapsed: Duration,
    /// Pending sleeps by (deadline, registration order).
    timers: BTreeMap<(Instant, u64), Waker>,
    next_timer: u64,
    ready: VecDeque<Arc<Task>>,
    main_woken: bool,
    /// Futures waiting for the moment when nothing else can run.
    idle_waiters: Vec<Waker>,
    idle_epoch: u64,
    blocking_in_flight: usize,
    auto_advance: bool,
    in_block_on: bool,
}

impl Inner {
    fn now(&self, state: &State) -> Instant {
        self.start + state.elapsed
    }

    /// Moves the clock to `to` (never backwards) and collects the wakers of
    /// every sleeper due by then into `due`. The caller wakes them after
    /// unlocking: a waker may lock the state itself.
    fn set_time(&self, state: &mut State, to: Instant, due: &mut Vec<Waker>) {
        let to = to.max(self.now(state));
        state.elapsed = to - self.start;
        while let Some(entry) = state.timers.first_entry() {
            if entry.key().0 > to {
                break;
            }
            due.push(entry.remove());
        }
    }
}

impl VirtualRuntime {
    /// A runtime at virtual time zero, with auto-advance on.
    pub fn new() -> Self {
        VirtualRuntime {
            inner: Arc::new(Inner {
                start: Instant::now(),
                state: Mutex::new(State {
                    elapsed: Duration::ZERO,
                    timers: BTreeMap::new(),
                    next_timer: 0,
                    ready: VecDeque::new(),
                    main_woken: false,
                    idle_waiters: Vec::new(),
                    idle_epoch: 0,
                    blocking_in_flight: 0,
                    auto_advance: true,
                    in_block_on: false,
                }),
                wakeup: Condvar::new(),
            }),
        }
    }

    /// Turns auto-advance on or off. With it off, only
    /// [`advance`](VirtualRuntime::advance) moves the clock, and `block_on`
    /// reports a deadlock when every task waits on a sleep.
    ///
    /// ```
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// rt.set_auto_advance(false);
    /// ```
    pub fn set_auto_advance(&self, on: bool) {
        self.inner.state.lock().auto_advance = on;
    }

    /// Virtual time passed since the runtime was created.
    ///
    /// ```
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// assert_eq!(rt.elapsed(), std::time::Duration::ZERO);
    /// ```
    pub fn elapsed(&self) -> Duration {
        self.inner.state.lock().elapsed
    }

    /// The number of sleeps currently registered and not yet due.
    ///
    /// ```
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// assert_eq!(rt.pending_timers(), 0);
    /// ```
    pub fn pending_timers(&self) -> usize {
        self.inner.state.lock().timers.len()
    }

    /// Moves the clock forward by `duration`, stopping at each pending
    /// deadline on the way so that every sleeper due in the interval runs at
    /// its own instant, in deadline order, before time moves on.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_core::{Runtime, test_util::VirtualRuntime};
    ///
    /// let rt = VirtualRuntime::new();
    /// rt.set_auto_advance(false);
    /// let seen = rt.block_on({
    ///     let rt = rt.clone();
    ///     async move {
    ///         let sleeper = rt.spawn({
    ///             let rt = rt.clone();
    ///             async move {
    ///                 rt.sleep(Duration::from_secs(2)).await;
    ///                 rt.elapsed()
    ///             }
    ///         });
    ///         rt.advance(Duration::from_secs(5)).await;
    ///         sleeper.await.unwrap()
    ///     }
    /// });
    /// assert_eq!(seen, Duration::from_secs(2));
    /// assert_eq!(rt.elapsed(), Duration::from_secs(5));
    /// ```
    pub async fn advance(&self, duration: Duration) {
        let target = deadline_after(self.now(), duration);
        // Let tasks that are already ready register their sleeps first.
        self.idle().await;
        loop {
            let mut due = Vec::new();
            {
                let mut state = self.inner.state.lock();
                match state.timers.first_key_value() {
                    Some((&(deadline, _), _)) if deadline <= target => {
                        self.inner.set_time(&mut state, deadline, &mut due)
                    }
                    _ => break,
                }
            }
            due.into_iter().for_each(Waker::wake);
            self.idle().await;
        }
        let mut due = Vec::new();
        self.inner
            .set_time(&mut self.inner.state.lock(), target, &mut due);
        // Nothing can be due: every timer up to `target` fired above.
        debug_assert!(due.is_empty());
    }

    /// Completes once every other task is waiting (nothing is ready to run).
    ///
    /// ```
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// rt.block_on(rt.idle());
    /// ```
    pub fn idle(&self) -> Idle {
        Idle {
            inner: self.inner.clone(),
            epoch: None,
        }
    }

    /// Runs `future` to completion on the current thread, together with the
    /// tasks spawned on this runtime.
    ///
    /// # Panics
    ///
    /// When called while another `block_on` of the same runtime runs, and
    /// when no task can make progress: nothing is ready, no blocking closure
    /// runs, no sleep is pending (or auto-advance is off) and no other
    /// thread wakes a task for ten seconds.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        {
            let mut state = self.inner.state.lock();
            assert!(
                !state.in_block_on,
                "VirtualRuntime::block_on is not reentrant"
            );
            state.in_block_on = true;
            state.main_woken = true;
        }
        struct Exit<'a>(&'a Inner);
        impl Drop for Exit<'_> {
            fn drop(&mut self) {
                self.0.state.lock().in_block_on = false;
            }
        }
        let _exit = Exit(&self.inner);

        let main_waker = Waker::from(Arc::new(MainWaker {
            inner: Arc::downgrade(&self.inner),
        }));
        let mut cx = Context::from_waker(&main_waker);
        let mut future = core::pin::pin!(future);
        let mut to_wake: Vec<Waker> = Vec::new();
        loop {
            // Wakers are called with the state unlocked: they lock it.
            to_wake.drain(..).for_each(Waker::wake);
            let next = {
                let mut state = self.inner.state.lock();
                loop {
                    if state.main_woken {
                        state.main_woken = false;
                        break Next::Main;
                    }
                    if let Some(task) = state.ready.pop_front() {
                        break Next::Task(task);
                    }
                    if !state.idle_waiters.is_empty() {
                        state.idle_epoch += 1;
                        to_wake.append(&mut state.idle_waiters);
                        break Next::Others;
                    }
                    if state.blocking_in_flight > 0 {
                        self.inner.wakeup.wait(&mut state);
                        continue;
                    }
                    if state.auto_advance {
                        if let Some((&(deadline, _), _)) = state.timers.first_key_value() {
                            self.inner.set_time(&mut state, deadline, &mut to_wake);
                            break Next::Others;
                        }
                    }
                    let timed_out = self
                        .inner
                        .wakeup
                        .wait_for(&mut state, STALL_LIMIT)
                        .timed_out();
                    assert!(
                        !timed_out || !state.ready.is_empty() || state.main_woken,
                        "VirtualRuntime deadlock: every task waits, no blocking closure runs \
                         and no sleep can fire (pending sleeps: {}, auto-advance: {})",
                        state.timers.len(),
                        state.auto_advance
                    );
                }
            };
            match next {
                Next::Main => {
                    if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                        return out;
                    }
                }
                Next::Task(task) => task.run(),
                Next::Others => {}
            }
        }
    }

    fn schedule(inner: &Inner, task: Arc<Task>) {
        inner.state.lock().ready.push_back(task);
        inner.wakeup.notify_one();
    }
}

impl Default for VirtualRuntime {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for VirtualRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.lock();
        f.debug_struct("VirtualRuntime")
            .field("elapsed", &state.elapsed)
            .field("pending_timers", &state.timers.len())
            .field("ready_tasks", &state.ready.len())
            .field("auto_advance", &state.auto_advance)
            .finish()
    }
}

impl Runtime for VirtualRuntime {
    type Sleep = VirtualSleep;
    type JoinHandle<T: Send + 'static> = VirtualTask<T>;

    fn now(&self) -> Instant {
        let state = self.inner.state.lock();
        self.inner.now(&state)
    }

    fn sleep_until(&self, deadline: Instant) -> VirtualSleep {
        VirtualSleep {
            inner: self.inner.clone(),
            deadline,
            key: None,
        }
    }

    fn spawn<F>(&self, future: F) -> VirtualTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let slot = Arc::new(Slot::new());
        let task = Arc::new(Task {
            future: Mutex::new(Some(Box::pin(Run {
                future: Some(Box::pin(future)),
                slot: slot.clone(),
            }))),
            queued: AtomicBool::new(true),
            aborted: AtomicBool::new(false),
            inner: Arc::downgrade(&self.inner),
        });
        Self::schedule(&self.inner, task.clone());
        VirtualTask {
            slot,
            task: Some(task),
        }
    }

    fn spawn_blocking<F, R>(&self, f: F) -> VirtualTask<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let slot = Arc::new(Slot::new());
        self.inner.state.lock().blocking_in_flight += 1;
        let inner = self.inner.clone();
        let done = slot.clone();
        let spawned = std::thread::Builder::new()
            .name("weir-virtual-blocking".into())
            .spawn(move || {
                let out = catch_unwind(AssertUnwindSafe(f)).map_err(JoinError::Panicked);
                done.complete(out);
                inner.state.lock().blocking_in_flight -= 1;
                inner.wakeup.notify_one();
            });
        if let Err(e) = spawned {
            // Out of threads: report it on the handle instead of panicking.
            self.inner.state.lock().blocking_in_flight -= 1;
            slot.complete(Err(JoinError::Panicked(Box::new(format!(
                "cannot start a blocking thread: {e}"
            )))));
        }
        VirtualTask { slot, task: None }
    }
}

/// What `block_on` does next.
enum Next {
    Main,
    Task(Arc<Task>),
    /// Wake the collected wakers (idle waiters or due sleepers), then look
    /// again.
    Others,
}

/// The main future's waker: flags it for a poll and wakes `block_on`.
struct MainWaker {
    inner: Weak<Inner>,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(inner) = self.inner.upgrade() {
            inner.state.lock().main_woken = true;
            inner.wakeup.notify_one();
        }
    }
}

type BoxedTask = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A spawned task as the executor sees it.
struct Task {
    /// `None` once the task finished or was aborted.
    future: Mutex<Option<BoxedTask>>,
    /// Whether the task sits in the ready queue; keeps a task from being
    /// queued twice by repeated wakes.
    queued: AtomicBool,
    aborted: AtomicBool,
    inner: Weak<Inner>,
}

impl Task {
    fn run(self: Arc<Self>) {
        // Cleared before the poll so that a wake during the poll queues the
        // task again.
        self.queued.store(false, Ordering::SeqCst);
        let mut slot = self.future.lock();
        if self.aborted.load(Ordering::SeqCst) {
            // Dropping `Run` drops the user's future, then reports Cancelled.
            let aborted = slot.take();
            drop(slot);
            drop(aborted);
            return;
        }
        let Some(future) = slot.as_mut() else { return };
        let waker = Waker::from(self.clone());
        if future
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready()
        {
            *slot = None;
        }
    }
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        if !self.queued.swap(true, Ordering::SeqCst) {
            if let Some(inner) = self.inner.upgrade() {
                VirtualRuntime::schedule(&inner, self);
            }
        }
    }
}

/// Wraps a user future: catches its panic and fills its join slot. Dropped
/// before completion (abort), it drops the user future first and then
/// reports `Cancelled`, so a joiner never sees Cancelled while the future is
/// still alive.
struct Run<F: Future> {
    future: Option<Pin<Box<F>>>,
    slot: Arc<Slot<F::Output>>,
}

impl<F: Future> Future for Run<F> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // `Run` is Unpin: the user future is boxed.
        let this = self.get_mut();
        let Some(future) = this.future.as_mut() else {
            return Poll::Ready(());
        };
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(out)) => {
                this.future = None;
                this.slot.complete(Ok(out));
                Poll::Ready(())
            }
            Err(payload) => {
                this.future = None;
                this.slot.complete(Err(JoinError::Panicked(payload)));
                Poll::Ready(())
            }
        }
    }
}

impl<F: Future> Drop for Run<F> {
    fn drop(&mut self) {
        if self.future.take().is_some() {
            self.slot.complete(Err(JoinError::Cancelled));
        }
    }
}

/// Where a task leaves its output for its handle.
struct Slot<T> {
    state: Mutex<SlotState<T>>,
}

struct SlotState<T> {
    output: Option<Result<T, JoinError>>,
    done: bool,
    waker: Option<Waker>,
}

impl<T> Slot<T> {
    fn new() -> Self {
        Slot {
            state: Mutex::new(SlotState {
                output: None,
                done: false,
                waker: None,
            }),
        }
    }

    fn complete(&self, output: Result<T, JoinError>) {
        let waker = {
            let mut state = self.state.lock();
            if state.done {
                return;
            }
            state.done = true;
            state.output = Some(output);
            state.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// The handle of a task spawned on a [`VirtualRuntime`]. Dropping it
/// detaches the task.
///
/// ```
/// use weir_core::{Runtime, rt::JoinHandle, test_util::VirtualRuntime};
///
/// let rt = VirtualRuntime::new();
/// let r = rt.clone();
/// let err = rt.block_on(async move {
///     let mut h = r.spawn(std::future::pending::<()>());
///     h.abort();
///     h.await.unwrap_err()
/// });
/// assert!(err.is_cancelled());
/// ```
pub struct VirtualTask<T> {
    slot: Arc<Slot<T>>,
    /// `None` for blocking closures, which cannot be aborted.
    task: Option<Arc<Task>>,
}

impl<T> fmt::Debug for VirtualTask<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VirtualTask")
            .field("finished", &self.slot.state.lock().done)
            .finish()
    }
}

impl<T> Future for VirtualTask<T> {
    type Output = Result<T, JoinError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.slot.state.lock();
        if let Some(out) = state.output.take() {
            return Poll::Ready(out);
        }
        assert!(!state.done, "VirtualTask polled after completion");
        state.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl<T: Send + 'static> JoinHandle<T> for VirtualTask<T> {
    fn abort(&mut self) {
        match &self.task {
            Some(task) => {
                task.aborted.store(true, Ordering::SeqCst);
                Waker::from(task.clone()).wake();
            }
            None => self.slot.complete(Err(JoinError::Cancelled)),
        }
    }

    fn detach(self) {}
}

/// A sleep on a [`VirtualRuntime`]'s clock.
///
/// Registered with the runtime on its first pending poll and removed when
/// dropped, so an abandoned sleep does not keep the clock's next stop.
pub struct VirtualSleep {
    inner: Arc<Inner>,
    deadline: Instant,
    key: Option<(Instant, u64)>,
}

impl fmt::Debug for VirtualSleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VirtualSleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.key.is_some())
            .finish()
    }
}

impl Future for VirtualSleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut state = this.inner.state.lock();
        if this.inner.now(&state) >= this.deadline {
            if let Some(key) = this.key.take() {
                state.timers.remove(&key);
            }
            return Poll::Ready(());
        }
        match this.key {
            Some(key) => {
                // Re-register: the entry is gone if it fired while we were
                // not looking (then `now` would be past the deadline), so an
                // existing entry only needs its waker refreshed.
                if let Some(w) = state.timers.get_mut(&key) {
                    w.clone_from(cx.waker());
                } else {
                    state.timers.insert(key, cx.waker().clone());
                }
            }
            None => {
                let key = (this.deadline, state.next_timer);
                state.next_timer += 1;
                state.timers.insert(key, cx.waker().clone());
                this.key = Some(key);
            }
        }
        Poll::Pending
    }
}

impl Drop for VirtualSleep {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.inner.state.lock().timers.remove(&key);
        }
    }
}

/// Completes once nothing else on the runtime is ready to run. See
/// [`VirtualRuntime::idle`].
pub struct Idle {
    inner: Arc<Inner>,
    epoch: Option<u64>,
}

impl fmt::Debug for Idle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Idle").finish_non_exhaustive()
    }
}

impl Future for Idle {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.inner.state.lock();
        if let Some(epoch) = self.epoch {
            if state.idle_epoch != epoch {
                return Poll::Ready(());
            }
        }
        let epoch = state.idle_epoch;
        state.idle_waiters.push(cx.waker().clone());
        drop(state);
        self.epoch = Some(epoch);
        Poll::Pending
    }
}
