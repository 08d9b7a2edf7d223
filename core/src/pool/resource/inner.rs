//! The pool's state behind one lock, the FIFO of waiters, and `get`.
//!
//! Slot accounting: `size` counts every resource alive or being created, and
//! only grows under the lock after checking `size < max_size`. A freed slot
//! (a resource discarded, detached, or a failed `create`) goes to the first
//! waiter as the right to create, or disappears; a returned resource goes
//! to the first waiter, or to the idle list. So waiters are served in
//! arrival order and nobody can overtake them.
//!
//! Lock order: the state lock may be held while a waiter's lock is taken,
//! never the other way round.

use core::future::poll_fn;
use core::pin::{Pin, pin};
use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::catch::caught;
use super::error::{Hook, ManagerPanic};
use super::{Manager, PoolError, PoolStats, Pooled};
use crate::loom::sync::Mutex;
use crate::obs::resource_pool::ResourcePoolObs;
use crate::{Runtime, rt::deadline_after};

#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) max_size: usize,
    pub(crate) min_idle: usize,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) max_lifetime: Option<Duration>,
    pub(crate) acquire_timeout: Option<Duration>,
    pub(crate) test_on_acquire: bool,
}

/// A resource with the instants its limits are measured from (read from
/// the clock only when the matching limit is set).
pub(crate) struct Entry<T> {
    pub(crate) res: T,
    created_at: Option<Instant>,
    idle_since: Option<Instant>,
}

/// One round of background work, decided under the lock.
pub(crate) struct Maintenance<T> {
    /// Expired idle resources, to drop outside the lock.
    pub(crate) expired: Vec<Entry<T>>,
    /// Slots reserved for new idle resources.
    pub(crate) create: usize,
    /// When the next idle resource expires.
    pub(crate) next: Option<Instant>,
    pub(crate) wakers: Vec<Waker>,
}

/// What a waiter is handed.
enum Grant<T> {
    Resource(Entry<T>),
    /// The right to create a resource in a slot already counted in `size`.
    Create,
    Closed,
}

struct Waiter<T> {
    slot: Mutex<WaitSlot<T>>,
}

struct WaitSlot<T> {
    grant: Option<Grant<T>>,
    waker: Option<Waker>,
}

pub(crate) struct State<T> {
    idle: VecDeque<Entry<T>>,
    size: usize,
    creating: usize,
    in_use: usize,
    waiters: VecDeque<Arc<Waiter<T>>>,
    /// Waiter nodes of finished waits, reused so that waiting allocates
    /// nothing in steady state.
    spare_waiters: Vec<Arc<Waiter<T>>>,
    closed: bool,
    created: u64,
    recycled: u64,
    discarded: u64,
    timeouts: u64,
    create_errors: u64,
    panics: u64,
    /// The latest panic caught in a manager hook.
    last_panic: Option<ManagerPanic>,
    /// The reaper should look again now.
    reaper_kick: bool,
    /// The instant the reaper sleeps until (`None`: until kicked).
    reaper_at: Option<Instant>,
    reaper_waker: Option<Waker>,
}

pub(crate) struct Inner<M: Manager, R> {
    pub(crate) manager: M,
    pub(crate) rt: R,
    pub(crate) cfg: Config,
    pub(crate) state: Mutex<State<M::Resource>>,
    obs: ResourcePoolObs,
}

/// What a pool does when a handed-out resource comes back or leaves; lets
/// [`Pooled`] be generic over the manager only.
pub(crate) trait Sink<M: Manager>: Send + Sync {
    fn put(&self, entry: Entry<M::Resource>);
    fn detach(&self, res: &mut M::Resource);
}

impl<M: Manager, R: Runtime> Inner<M, R> {
    pub(crate) fn new(manager: M, rt: R, cfg: Config, obs: ResourcePoolObs) -> Self {
        Inner {
            obs,
            manager,
            rt,
            cfg,
            state: Mutex::new(State {
                idle: VecDeque::new(),
                size: 0,
                creating: 0,
                in_use: 0,
                waiters: VecDeque::new(),
                spare_waiters: Vec::new(),
                closed: false,
                created: 0,
                recycled: 0,
                discarded: 0,
                timeouts: 0,
                create_errors: 0,
                panics: 0,
                last_panic: None,
                reaper_kick: false,
                reaper_at: None,
                reaper_waker: None,
            }),
        }
    }

    fn has_time_limits(&self) -> bool {
        self.cfg.idle_timeout.is_some() || self.cfg.max_lifetime.is_some()
    }

    /// When `entry` must leave the idle list.
    fn expiry(&self, entry: &Entry<M::Resource>) -> Option<Instant> {
        let idle = entry
            .idle_since
            .zip(self.cfg.idle_timeout)
            .map(|(t, d)| deadline_after(t, d));
        let life = entry
            .created_at
            .zip(self.cfg.max_lifetime)
            .map(|(t, d)| deadline_after(t, d));
        match (idle, life) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn lifetime_over(&self, entry: &Entry<M::Resource>, now: Instant) -> bool {
        entry
            .created_at
            .zip(self.cfg.max_lifetime)
            .is_some_and(|(t, d)| deadline_after(t, d) <= now)
    }

    fn now_if_limited(&self) -> Option<Instant> {
        self.has_time_limits().then(|| self.rt.now())
    }

    /// A slot was freed (already taken off `size`): hands it to the first
    /// waiter as the right to create.
    fn give_slot(&self, st: &mut State<M::Resource>) -> Option<Waker> {
        if st.closed {
            return None;
        }
        let waiter = st.waiters.pop_front()?;
        st.size += 1;
        st.creating += 1;
        grant(&waiter, Grant::Create)
    }

    /// A resource comes back: to the first waiter, else to the idle list.
    /// Returns what to drop (outside the lock) and whom to wake.
    fn put_locked(
        &self,
        st: &mut State<M::Resource>,
        mut entry: Entry<M::Resource>,
        now: Option<Instant>,
    ) -> (Option<M::Resource>, Option<Waker>) {
        if st.closed || now.is_some_and(|now| self.lifetime_over(&entry, now)) {
            st.size -= 1;
            st.discarded += 1;
            self.obs.discarded(st.size);
            let w = self.give_slot(st);
            return (Some(entry.res), w);
        }
        if self.cfg.idle_timeout.is_some() {
            entry.idle_since = now;
        }
        if let Some(waiter) = st.waiters.pop_front() {
            st.in_use += 1;
            return (None, grant(&waiter, Grant::Resource(entry)));
        }
        let expiry = self.expiry(&entry);
        st.idle.push_back(entry);
        let kick = match (expiry, st.reaper_at) {
            (Some(e), Some(at)) => e < at,
            (Some(_), None) => true,
            (None, _) => false,
        };
        (None, if kick { self.kick(st) } else { None })
    }

    pub(crate) fn kick(&self, st: &mut State<M::Resource>) -> Option<Waker> {
        st.reaper_kick = true;
        st.reaper_waker.take()
    }

    /// Whether the reaper should top the idle list up to `min_idle`.
    fn below_min_idle(&self, st: &State<M::Resource>) -> bool {
        self.cfg.min_idle > 0
            && st.idle.len() + st.creating < self.cfg.min_idle
            && st.size < self.cfg.max_size
    }

    /// A handed-out resource (or one being checked) is dropped for good.
    fn discard_in_use(&self, st: &mut State<M::Resource>) -> (Option<Waker>, Option<Waker>) {
        st.in_use -= 1;
        st.size -= 1;
        st.discarded += 1;
        self.obs.discarded(st.size);
        let w = self.give_slot(st);
        let k = if self.below_min_idle(st) {
            self.kick(st)
        } else {
            None
        };
        (w, k)
    }

    pub(crate) async fn get(self: &Arc<Self>) -> Result<Pooled<M>, PoolError<M::Error>> {
        let deadline = self
            .cfg
            .acquire_timeout
            .map(|t| deadline_after(self.rt.now(), t));
        let first = {
            let mut st = self.state.lock();
            if st.closed {
                return Err(PoolError::Closed);
            }
            let mut kick = None;
            let g = if !st.waiters.is_empty() {
                None
            } else if let Some(entry) = st.idle.pop_back() {
                st.in_use += 1;
                if self.below_min_idle(&st) {
                    kick = self.kick(&mut st);
                }
                Some(Grant::Resource(entry))
            } else if st.size < self.cfg.max_size {
                st.size += 1;
                st.creating += 1;
                Some(Grant::Create)
            } else {
                None
            };
            let g = match g {
                Some(g) => Ok(g),
                None => {
                    let waiter = st.spare_waiters.pop().unwrap_or_else(|| {
                        Arc::new(Waiter {
                            slot: Mutex::new(WaitSlot {
                                grant: None,
                                waker: None,
                            }),
                        })
                    });
                    st.waiters.push_back(waiter.clone());
                    Err(waiter)
                }
            };
            drop(st);
            if let Some(k) = kick {
                k.wake();
            }
            g
        };
        let mut grant = match first {
            Ok(g) => g,
            Err(waiter) => {
                let wait = Wait {
                    inner: self,
                    waiter,
                    done: false,
                };
                match within(&self.rt, deadline, wait).await {
                    Some(g) => g,
                    None => {
                        self.state.lock().timeouts += 1;
                        self.obs.timed_out();
                        return Err(PoolError::Timeout);
                    }
                }
            }
        };
        loop {
            match grant {
                Grant::Closed => return Err(PoolError::Closed),
                Grant::Resource(entry) => {
                    let mut held = Held {
                        inner: self,
                        entry: Some(entry),
                    };
                    let usable = match self.now_if_limited() {
                        Some(now) => held
                            .entry()
                            .is_some_and(|e| self.expiry(e).is_none_or(|x| x > now)),
                        None => true,
                    };
                    let usable = usable
                        && (!self.cfg.test_on_acquire || {
                            let Some(entry) = held.entry.as_mut() else {
                                unreachable!("held until handed out")
                            };
                            let check = self.manager.recycle(&mut entry.res);
                            match within(&self.rt, deadline, caught(Hook::Recycle, false, check))
                                .await
                            {
                                Some(Ok(Ok(()))) => {
                                    self.state.lock().recycled += 1;
                                    true
                                }
                                Some(Ok(Err(_))) => false,
                                // Its state is unknown after a panic:
                                // discarded like a failed check.
                                Some(Err(p)) => {
                                    record_panic(&mut self.state.lock(), p);
                                    false
                                }
                                None => {
                                    drop(held);
                                    self.state.lock().timeouts += 1;
                                    self.obs.timed_out();
                                    return Err(PoolError::Timeout);
                                }
                            }
                        });
                    if usable {
                        return Ok(Pooled::new(held.take(), self.clone()));
                    }
                    // Unusable: drop it and create a new one in its slot,
                    // keeping this caller's turn.
                    let entry = held.take();
                    {
                        let mut st = self.state.lock();
                        st.in_use -= 1;
                        st.creating += 1;
                        st.discarded += 1;
                        self.obs.discarded(st.size);
                    }
                    drop(entry);
                    grant = Grant::Create;
                }
                Grant::Create => {
                    let slot = CreateSlot {
                        inner: self,
                        armed: true,
                    };
                    let create = caught(Hook::Create, false, self.manager.create());
                    return match within(&self.rt, deadline, create).await {
                        Some(Ok(Ok(res))) => {
                            let created_at = self.cfg.max_lifetime.map(|_| self.rt.now());
                            slot.disarm();
                            let mut st = self.state.lock();
                            st.creating -= 1;
                            st.in_use += 1;
                            st.created += 1;
                            self.obs.created(st.size);
                            drop(st);
                            let entry = Entry {
                                res,
                                created_at,
                                idle_since: None,
                            };
                            Ok(Pooled::new(entry, self.clone()))
                        }
                        Some(Ok(Err(e))) => {
                            self.state.lock().create_errors += 1;
                            self.obs.create_failed();
                            drop(slot);
                            Err(PoolError::Create(e))
                        }
                        Some(Err(p)) => {
                            {
                                let mut st = self.state.lock();
                                st.create_errors += 1;
                                self.obs.create_failed();
                                record_panic(&mut st, p.clone());
                            }
                            drop(slot);
                            Err(PoolError::Panicked(p))
                        }
                        None => {
                            drop(slot);
                            self.state.lock().timeouts += 1;
                            self.obs.timed_out();
                            Err(PoolError::Timeout)
                        }
                    };
                }
            }
        }
    }

    pub(crate) fn stats(&self) -> PoolStats {
        let st = self.state.lock();
        PoolStats {
            size: st.size,
            idle: st.idle.len(),
            in_use: st.in_use,
            waiting: st.waiters.len(),
            created: st.created,
            recycled: st.recycled,
            discarded: st.discarded,
            timeouts: st.timeouts,
            create_errors: st.create_errors,
            panics: st.panics,
        }
    }

    pub(crate) fn last_panic(&self) -> Option<ManagerPanic> {
        self.state.lock().last_panic.clone()
    }

    /// Closes the pool: idle resources are dropped, waiters fail with
    /// `Closed`, in-use resources are dropped when they come back.
    pub(crate) fn close(&self) {
        let (idle, wakers) = {
            let mut st = self.state.lock();
            st.closed = true;
            let idle: Vec<_> = st.idle.drain(..).collect();
            st.size -= idle.len();
            st.discarded += idle.len() as u64;
            let mut wakers: Vec<Waker> = st
                .waiters
                .drain(..)
                .filter_map(|w| grant(&w, Grant::Closed))
                .collect();
            wakers.extend(self.kick(&mut st));
            (idle, wakers)
        };
        drop(idle);
        wakers.into_iter().for_each(Waker::wake);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    /// One round of the background task: drops expired idle resources and,
    /// if `may_create`, reserves slots to top up `min_idle`. Returns the
    /// resources to drop, how many to create, and when to look again.
    pub(crate) fn maintain(
        &self,
        now: Instant,
        may_create: bool,
    ) -> Option<Maintenance<M::Resource>> {
        let mut st = self.state.lock();
        if st.closed {
            return None;
        }
        st.reaper_kick = false;
        let mut expired = Vec::new();
        let mut wakers = Vec::new();
        if self.has_time_limits() {
            let mut i = 0;
            while i < st.idle.len() {
                if self.expiry(&st.idle[i]).is_some_and(|x| x <= now) {
                    if let Some(e) = st.idle.remove(i) {
                        expired.push(e);
                    }
                    st.size -= 1;
                    st.discarded += 1;
                    self.obs.discarded(st.size);
                    wakers.extend(self.give_slot(&mut st));
                } else {
                    i += 1;
                }
            }
        }
        let deficit = self
            .cfg
            .min_idle
            .saturating_sub(st.idle.len() + st.creating);
        let create = if may_create {
            deficit.min(self.cfg.max_size - st.size)
        } else {
            0
        };
        st.size += create;
        st.creating += create;
        let next = st.idle.iter().filter_map(|e| self.expiry(e)).min();
        st.reaper_at = next;
        Some(Maintenance {
            expired,
            create,
            next,
            wakers,
        })
    }

    /// The background task created a resource (or failed to, or the
    /// create panicked), settling one slot it reserved.
    pub(crate) fn created_in_background(
        &self,
        res: Result<Result<M::Resource, M::Error>, ManagerPanic>,
    ) -> bool {
        let now = self.now_if_limited();
        let mut st = self.state.lock();
        st.creating -= 1;
        match res {
            Ok(Ok(res)) => {
                st.created += 1;
                self.obs.created(st.size);
                let entry = Entry {
                    res,
                    created_at: self.cfg.max_lifetime.and(now),
                    idle_since: now,
                };
                let (drop_me, w) = self.put_locked(&mut st, entry, now);
                drop(st);
                if let Some(w) = w {
                    w.wake();
                }
                // Made after close: dropped at once, on the background
                // task, which a panicking `Drop` must not end.
                crate::util::panic::drop_contained(drop_me);
                true
            }
            Ok(Err(_)) | Err(_) => {
                if let Err(p) = res {
                    record_panic(&mut st, p);
                }
                st.create_errors += 1;
                self.obs.create_failed();
                st.size -= 1;
                let w = self.give_slot(&mut st);
                drop(st);
                if let Some(w) = w {
                    w.wake();
                }
                false
            }
        }
    }

    /// Waits until `at` or until kicked; `None` waits for a kick only.
    pub(crate) fn poll_kicked(&self, cx: &mut Context<'_>) -> bool {
        let mut st = self.state.lock();
        if st.reaper_kick || st.closed {
            return true;
        }
        if !st
            .reaper_waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            st.reaper_waker = Some(cx.waker().clone());
        }
        false
    }
}

impl<M: Manager, R: Runtime> Sink<M> for Inner<M, R> {
    fn put(&self, entry: Entry<M::Resource>) {
        let now = self.now_if_limited();
        let (drop_me, w) = {
            let mut st = self.state.lock();
            st.in_use -= 1;
            self.put_locked(&mut st, entry, now)
        };
        drop(drop_me);
        if let Some(w) = w {
            w.wake();
        }
    }

    fn detach(&self, res: &mut M::Resource) {
        // The slot is freed whatever the hook does; its panic is the
        // caller's (it runs in the caller's `detach`), after the count.
        let hook = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.manager.detach(res);
        }));
        let (w, k) = {
            let mut st = self.state.lock();
            if let Err(payload) = &hook {
                record_panic(&mut st, ManagerPanic::new(Hook::Detach, false, &**payload));
            }
            self.discard_in_use(&mut st)
        };
        w.into_iter().chain(k).for_each(Waker::wake);
        if let Err(payload) = hook {
            std::panic::resume_unwind(payload);
        }
    }
}

impl<M: Manager, R> Drop for Inner<M, R> {
    fn drop(&mut self) {
        // Let a sleeping background task notice that the pool is gone.
        if let Some(w) = self.state.lock().reaper_waker.take() {
            w.wake();
        }
    }
}

fn record_panic<T>(st: &mut State<T>, p: ManagerPanic) {
    st.panics += 1;
    st.last_panic = Some(p);
}

/// Slots the background task reserved (counted in `size` and `creating`)
/// and has not settled yet: given back if the task is dropped mid-create,
/// so not even a cancelled runtime leaks them.
pub(crate) struct Reserved<'a, M: Manager, R: Runtime> {
    pub(crate) inner: &'a Inner<M, R>,
    pub(crate) left: usize,
}

impl<M: Manager, R: Runtime> Drop for Reserved<'_, M, R> {
    fn drop(&mut self) {
        if self.left == 0 {
            return;
        }
        let wakers: Vec<Waker> = {
            let mut st = self.inner.state.lock();
            st.size -= self.left;
            st.creating -= self.left;
            (0..self.left)
                .filter_map(|_| self.inner.give_slot(&mut st))
                .collect()
        };
        wakers.into_iter().for_each(Waker::wake);
    }
}

/// Keeps a finished waiter's node for the next wait. The node is out of the
/// queue (so only this `Wait` holds it) and holds no grant.
fn recycle_waiter<T>(st: &mut State<T>, waiter: &Arc<Waiter<T>>) {
    // Bounded so that a burst of waiters does not pin memory for ever.
    const KEEP: usize = 64;
    if st.spare_waiters.len() < KEEP && Arc::strong_count(waiter) == 1 {
        waiter.slot.lock().waker = None;
        st.spare_waiters.push(waiter.clone());
    }
}

fn grant<T>(waiter: &Waiter<T>, g: Grant<T>) -> Option<Waker> {
    let mut slot = waiter.slot.lock();
    slot.grant = Some(g);
    slot.waker.take()
}

/// Runs `f`, giving up at `deadline`; the timer is made only if `f` does
/// not finish on its first poll.
async fn within<R: Runtime, F: Future>(
    rt: &R,
    deadline: Option<Instant>,
    f: F,
) -> Option<F::Output> {
    let Some(deadline) = deadline else {
        return Some(f.await);
    };
    let mut f = pin!(f);
    let mut sleep = pin!(None::<R::Sleep>);
    poll_fn(|cx| {
        if let Poll::Ready(v) = f.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        if sleep.is_none() {
            sleep.set(Some(rt.sleep_until(deadline)));
        }
        match sleep.as_mut().as_pin_mut() {
            Some(s) => s.poll(cx).map(|()| None),
            None => Poll::Pending,
        }
    })
    .await
}

/// A queued `get`: resolves to what the pool grants it. Dropped before
/// that (cancelled or timed out), it leaves the queue, and passes on
/// anything granted in the meantime.
struct Wait<'a, M: Manager, R: Runtime> {
    inner: &'a Arc<Inner<M, R>>,
    waiter: Arc<Waiter<M::Resource>>,
    done: bool,
}

impl<M: Manager, R: Runtime> Future for Wait<'_, M, R> {
    type Output = Grant<M::Resource>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.waiter.slot.lock();
        if let Some(g) = slot.grant.take() {
            drop(slot);
            self.done = true;
            return Poll::Ready(g);
        }
        if !slot.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            slot.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

impl<M: Manager, R: Runtime> Drop for Wait<'_, M, R> {
    fn drop(&mut self) {
        let inner = self.inner;
        let mut st = inner.state.lock();
        if self.done {
            recycle_waiter(&mut st, &self.waiter);
            return;
        }
        if let Some(pos) = st.waiters.iter().position(|w| Arc::ptr_eq(w, &self.waiter)) {
            st.waiters.remove(pos);
            recycle_waiter(&mut st, &self.waiter);
            return;
        }
        // Granted but never taken: pass it on.
        let g = self.waiter.slot.lock().grant.take();
        recycle_waiter(&mut st, &self.waiter);
        let (drop_me, w) = match g {
            Some(Grant::Resource(entry)) => {
                st.in_use -= 1;
                let now = inner.now_if_limited();
                inner.put_locked(&mut st, entry, now)
            }
            Some(Grant::Create) => {
                st.size -= 1;
                st.creating -= 1;
                (None, inner.give_slot(&mut st))
            }
            Some(Grant::Closed) | None => (None, None),
        };
        drop(st);
        drop(drop_me);
        if let Some(w) = w {
            w.wake();
        }
    }
}

/// A resource taken from the idle list and not yet handed out: dropped
/// (the `get` was cancelled mid-recycle), it is discarded, freeing its slot.
struct Held<'a, M: Manager, R: Runtime> {
    inner: &'a Arc<Inner<M, R>>,
    entry: Option<Entry<M::Resource>>,
}

impl<M: Manager, R: Runtime> Held<'_, M, R> {
    fn entry(&self) -> Option<&Entry<M::Resource>> {
        self.entry.as_ref()
    }

    fn take(&mut self) -> Entry<M::Resource> {
        match self.entry.take() {
            Some(e) => e,
            None => unreachable!("a held resource is taken once"),
        }
    }
}

impl<M: Manager, R: Runtime> Drop for Held<'_, M, R> {
    fn drop(&mut self) {
        if let Some(entry) = self.entry.take() {
            let (w, k) = {
                let mut st = self.inner.state.lock();
                self.inner.discard_in_use(&mut st)
            };
            drop(entry);
            w.into_iter().chain(k).for_each(Waker::wake);
        }
    }
}

/// A slot reserved for a `create` in progress: released if the create
/// fails, times out or is cancelled, so a failure never leaks a slot.
struct CreateSlot<'a, M: Manager, R: Runtime> {
    inner: &'a Arc<Inner<M, R>>,
    armed: bool,
}

impl<M: Manager, R: Runtime> CreateSlot<'_, M, R> {
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl<M: Manager, R: Runtime> Drop for CreateSlot<'_, M, R> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (w, k) = {
            let mut st = self.inner.state.lock();
            st.size -= 1;
            st.creating -= 1;
            let w = self.inner.give_slot(&mut st);
            let k = if self.inner.below_min_idle(&st) {
                self.inner.kick(&mut st)
            } else {
                None
            };
            (w, k)
        };
        w.into_iter().chain(k).for_each(Waker::wake);
    }
}
