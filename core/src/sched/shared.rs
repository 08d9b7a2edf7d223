//! The scheduler's state behind one lock: the ready heap, the delayed and
//! deadline heaps, the running slots and the counters; and the three places
//! that start jobs (submission, a job's end, the timer).
//!
//! Heaps are cleaned lazily: a cancelled or expired job stays in its heap
//! until it reaches the top, where it is recognised (its cell no longer
//! waits) and dropped. The counters are adjusted at the moment of the
//! transition, so they are exact at all times.

use core::cmp::Ordering as CmpOrdering;
use core::future::poll_fn;
use core::pin::pin;
use std::collections::BinaryHeap;
use std::sync::{Arc, Weak};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use super::cell::{JobCell, Queued};
use super::job::{Job, Start};
use super::periodic::PeriodicCtl;
use super::ready::ReadyQueue;
use super::stats::Histogram;
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicU64, Ordering};
use crate::{
    Priority,
    sched::{
        AbortedJob, RejectReason, Rejected, SchedStats, Status, TaskError, TaskHandle, TaskId,
    },
};
use crate::{
    Runtime,
    rt::{JoinHandle, deadline_after},
};

/// How a started job ended, for the counters.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Outcome {
    Completed,
    Failed,
    Cancelled,
}

pub(crate) struct Shared<R: 'static> {
    pub(crate) rt: R,
    max_concurrent: usize,
    queue_capacity: usize,
    /// Relaxed: ids only need to be unique; order among jobs is `seq`'s job.
    next_id: AtomicU64,
    pub(crate) state: Mutex<State<R>>,
}

type JobRef<R> = Arc<dyn Queued<R>>;

pub(crate) struct State<R: 'static> {
    ready: ReadyQueue<ReadyEntry<R>>,
    delayed: BinaryHeap<TimedEntry<R>>,
    deadlines: BinaryHeap<TimedEntry<R>>,
    pending_by_priority: Box<[usize; 256]>,
    /// Waiting jobs, delayed ones included: what `queue_capacity` bounds.
    pending: usize,
    delayed_count: usize,
    running: usize,
    /// Running jobs by slot, so that an aborting shutdown can reach them.
    slots: Vec<Option<JobRef<R>>>,
    free_slots: Vec<usize>,
    next_seq: u64,
    closed: bool,
    accepted: u64,
    completed: u64,
    failed: u64,
    cancelled: u64,
    expired: u64,
    rejected: u64,
    wait: Histogram,
    timer_active: bool,
    /// The instant the timer task sleeps until; `None` tells it to look again.
    timer_at: Option<Instant>,
    timer_waker: Option<Waker>,
    idle_waiters: Vec<Waker>,
    pub(crate) periodics: Vec<Weak<PeriodicCtl>>,
}

struct ReadyEntry<R> {
    priority: Priority,
    /// Submission order, for an aborting shutdown's report.
    seq: u64,
    /// When the job became ready, to measure its queue wait.
    ready_at: Instant,
    job: JobRef<R>,
}

struct TimedEntry<R> {
    at: Instant,
    seq: u64,
    job: JobRef<R>,
}

impl<R> PartialEq for TimedEntry<R> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl<R> Eq for TimedEntry<R> {}
impl<R> PartialOrd for TimedEntry<R> {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl<R> Ord for TimedEntry<R> {
    /// Earliest instant on top.
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// What a submission turned into, decided under the lock.
enum Admit {
    Start(usize),
    Queued {
        wake_timer: Option<Waker>,
        spawn_timer: bool,
    },
    Expired(Option<Waker>),
    Rejected(RejectReason),
}

impl<R: Runtime> Shared<R> {
    pub(crate) fn new(rt: R, max_concurrent: usize, queue_capacity: usize) -> Self {
        Shared {
            rt,
            max_concurrent,
            queue_capacity,
            next_id: AtomicU64::new(1),
            state: Mutex::new(State {
                ready: ReadyQueue::new(),
                delayed: BinaryHeap::new(),
                deadlines: BinaryHeap::new(),
                pending_by_priority: Box::new([0; 256]),
                pending: 0,
                delayed_count: 0,
                running: 0,
                slots: Vec::new(),
                free_slots: Vec::new(),
                next_seq: 0,
                closed: false,
                accepted: 0,
                completed: 0,
                failed: 0,
                cancelled: 0,
                expired: 0,
                rejected: 0,
                wait: Histogram::new(),
                timer_active: false,
                timer_at: None,
                timer_waker: None,
                idle_waiters: Vec::new(),
                periodics: Vec::new(),
            }),
        }
    }

    pub(crate) fn submit<F>(
        self: &Arc<Self>,
        job: Job<F>,
    ) -> Result<TaskHandle<F::Output>, Rejected<Job<F>>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let Job {
            future,
            priority,
            start,
            deadline,
            name,
        } = job;
        // Read the clock only when the job's timing needs it.
        let now = match (start, deadline) {
            (Start::Now, None) => None,
            _ => Some(self.rt.now()),
        };
        let start_at = match (start, now) {
            (Start::After(d), Some(now)) => Some(deadline_after(now, d)),
            (Start::At(t), _) => Some(t),
            _ => None,
        }
        .filter(|&t| now.is_some_and(|now| t > now));
        let initial = if start_at.is_some() {
            Status::Delayed
        } else {
            Status::Pending
        };

        // Ids come from a counter of their own so that the cell is allocated
        // before the lock is taken; a rejected job uses up its id.
        let id = TaskId::from_raw(self.next_id.fetch_add(1, Ordering::Relaxed));
        // The submitter's context goes with the job (see `context`).
        let future = crate::context::Context::current().scope(future);
        let cell = Arc::new(JobCell::new(
            id,
            future,
            priority,
            deadline,
            name,
            Arc::downgrade(self),
            initial,
        ));
        let mut st = self.state.lock();
        let admit = self.admit(&mut st, &cell, start_at, now);
        drop(st);
        match admit {
            Admit::Start(slot) => cell.clone().spawn(self.clone(), slot),
            Admit::Queued {
                wake_timer,
                spawn_timer,
            } => {
                if let Some(w) = wake_timer {
                    w.wake();
                }
                if spawn_timer {
                    self.rt.spawn(run_timer(self.clone())).detach();
                }
            }
            Admit::Expired(waker) => {
                if let Some(w) = waker {
                    w.wake();
                }
            }
            Admit::Rejected(reason) => {
                let future = cell.take_future();
                let cell = match Arc::try_unwrap(cell) {
                    Ok(cell) => cell,
                    Err(_) => unreachable!("a rejected job's cell was never shared"),
                };
                let (priority, deadline, name) = cell.into_parts();
                let job = Job {
                    future: future
                        .expect("a rejected job keeps its future")
                        .into_inner(),
                    priority,
                    start,
                    deadline,
                    name,
                };
                return Err(Rejected::new(job, reason));
            }
        }
        Ok(TaskHandle::new(cell))
    }

    fn admit<F>(
        &self,
        st: &mut State<R>,
        cell: &Arc<JobCell<F, R>>,
        start_at: Option<Instant>,
        now: Option<Instant>,
    ) -> Admit
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        if st.closed {
            st.rejected += 1;
            return Admit::Rejected(RejectReason::Shutdown);
        }
        let job: JobRef<R> = cell.clone();
        let deadline = job.deadline();
        let ready_now = start_at.is_none();
        if ready_now && st.running < self.max_concurrent && st.ready.is_empty() {
            if let (Some(d), Some(now)) = (deadline, now) {
                if d <= now {
                    st.accepted += 1;
                    st.pending += 1;
                    st.pending_by_priority[usize::from(job.priority().level())] += 1;
                    return Admit::Expired(self.expire(st, &job));
                }
            }
            st.accepted += 1;
            cell.set_status(Status::Running);
            st.wait.record(Duration::ZERO);
            return Admit::Start(st.start_slot(job));
        }
        if st.pending >= self.queue_capacity {
            st.rejected += 1;
            return Admit::Rejected(RejectReason::QueueFull);
        }
        st.accepted += 1;
        st.pending += 1;
        st.pending_by_priority[usize::from(job.priority().level())] += 1;
        let seq = st.next_seq;
        st.next_seq += 1;
        let mut earliest = None;
        if let Some(at) = start_at {
            st.delayed_count += 1;
            st.delayed.push(TimedEntry {
                at,
                seq,
                job: job.clone(),
            });
            earliest = Some(at);
        } else {
            let ready_at = now.unwrap_or_else(|| self.rt.now());
            if let Some(d) = deadline {
                if d <= ready_at {
                    return Admit::Expired(self.expire(st, &job));
                }
            }
            st.ready.push(
                job.priority(),
                seq,
                ReadyEntry {
                    priority: job.priority(),
                    seq,
                    ready_at,
                    job: job.clone(),
                },
            );
        }
        if let Some(d) = deadline {
            st.deadlines.push(TimedEntry { at: d, seq, job });
            earliest = Some(earliest.map_or(d, |e: Instant| e.min(d)));
        }
        let (wake_timer, spawn_timer) = match earliest {
            Some(at) => st.arm_timer(at),
            None => (None, false),
        };
        Admit::Queued {
            wake_timer,
            spawn_timer,
        }
    }

    /// Ends a waiting job with `Expired` and fixes the counters; returns the
    /// handle's waker.
    fn expire(&self, st: &mut State<R>, job: &JobRef<R>) -> Option<Waker> {
        let (was, waker) = job.finish_unstarted(TaskError::Expired)?;
        st.leave_waiting(job.priority(), was);
        st.expired += 1;
        waker
    }

    /// Cancels `job` if it still waits; false if it already started or
    /// finished (the caller then aborts it if running).
    pub(crate) fn cancel_waiting(&self, job: &dyn Queued<R>) -> bool {
        let mut st = self.state.lock();
        let Some((was, waker)) = job.finish_unstarted(TaskError::Cancelled) else {
            return false;
        };
        st.leave_waiting(job.priority(), was);
        st.cancelled += 1;
        let idle = st.take_idle_waiters();
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
        idle.into_iter().for_each(Waker::wake);
        true
    }

    /// Starts ready jobs while there is room.
    pub(crate) fn dispatch(self: &Arc<Self>) {
        loop {
            let mut wakers = Vec::new();
            let next = {
                let mut st = self.state.lock();
                self.pop_startable(&mut st, &mut wakers)
            };
            wakers.into_iter().for_each(Waker::wake);
            match next {
                Some((job, slot)) => job.spawn(self.clone(), slot),
                None => return,
            }
        }
    }

    /// The next ready job that may start now, claimed and given a slot;
    /// expired and dead entries met on the way are dealt with.
    fn pop_startable(
        &self,
        st: &mut State<R>,
        wakers: &mut Vec<Waker>,
    ) -> Option<(JobRef<R>, usize)> {
        if st.running >= self.max_concurrent || st.ready.is_empty() {
            return None;
        }
        let now = self.rt.now();
        while st.running < self.max_concurrent {
            let entry = st.ready.pop()?;
            if entry.job.deadline().is_some_and(|d| d <= now) {
                wakers.extend(self.expire(st, &entry.job));
                continue;
            }
            if !entry.job.claim() {
                continue;
            }
            st.leave_waiting(entry.priority, Status::Pending);
            st.wait
                .record(now.saturating_duration_since(entry.ready_at));
            let slot = st.start_slot(entry.job.clone());
            return Some((entry.job, slot));
        }
        None
    }

    /// Bookkeeping at a started job's end, then starts the next one if
    /// `dispatch` (not when the runtime is dropping the task).
    pub(crate) fn on_finish(self: &Arc<Self>, slot: usize, outcome: Outcome, dispatch: bool) {
        let mut wakers = Vec::new();
        let next = {
            let mut st = self.state.lock();
            st.slots[slot] = None;
            st.free_slots.push(slot);
            st.running -= 1;
            match outcome {
                Outcome::Completed => st.completed += 1,
                Outcome::Failed => st.failed += 1,
                Outcome::Cancelled => st.cancelled += 1,
            }
            let next = if dispatch {
                self.pop_startable(&mut st, &mut wakers)
            } else {
                None
            };
            wakers.extend(st.take_idle_waiters());
            next
        };
        wakers.into_iter().for_each(Waker::wake);
        if let Some((job, slot)) = next {
            job.spawn(self.clone(), slot);
            // One end frees one slot, but expired entries may have been
            // skipped; anything else stays for the next end.
        }
    }

    /// Moves due delayed jobs to the ready heap and expires due deadlines;
    /// returns the next instant the timer must wake at.
    fn process_due(
        &self,
        st: &mut State<R>,
        now: Instant,
        wakers: &mut Vec<Waker>,
    ) -> Option<Instant> {
        while let Some(top) = st.delayed.peek() {
            if top.at > now && top.job.is_waiting() {
                break;
            }
            let Some(entry) = st.delayed.pop() else { break };
            if entry.at <= now && entry.job.make_ready() {
                st.delayed_count -= 1;
                st.ready.push(
                    entry.job.priority(),
                    entry.seq,
                    ReadyEntry {
                        priority: entry.job.priority(),
                        seq: entry.seq,
                        ready_at: entry.at,
                        job: entry.job,
                    },
                );
            }
        }
        while let Some(top) = st.deadlines.peek() {
            if top.at > now && top.job.is_waiting() {
                break;
            }
            let Some(entry) = st.deadlines.pop() else {
                break;
            };
            if entry.at <= now {
                wakers.extend(self.expire(st, &entry.job));
            }
        }
        let a = st.delayed.peek().map(|e| e.at);
        let b = st.deadlines.peek().map(|e| e.at);
        match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub(crate) fn stats(&self) -> SchedStats {
        let st = self.state.lock();
        let pending_by_priority = st
            .pending_by_priority
            .iter()
            .enumerate()
            .rev()
            .filter(|&(_, &n)| n > 0)
            .map(|(p, &n)| (Priority::new(p as u8), n))
            .collect();
        SchedStats {
            pending_by_priority,
            delayed: st.delayed_count,
            running: st.running,
            accepted: st.accepted,
            completed: st.completed,
            failed: st.failed,
            cancelled: st.cancelled,
            expired: st.expired,
            rejected: st.rejected,
            queue_wait: st.wait.summary(),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    /// Stops accepting work; with `abort`, ends every waiting job with
    /// `Shutdown` and asks every running one to stop. Returns the aborted
    /// jobs and the periodic jobs to stop.
    pub(crate) fn close(&self, abort: bool) -> (Vec<AbortedJob>, Vec<Arc<PeriodicCtl>>) {
        let mut wakers = Vec::new();
        let mut aborted = Vec::new();
        let periodics;
        {
            let mut guard = self.state.lock();
            let st = &mut *guard;
            st.closed = true;
            periodics = st.periodics.drain(..).filter_map(|w| w.upgrade()).collect();
            if abort {
                let mut waiting: Vec<(u64, JobRef<R>)> = st
                    .ready
                    .drain()
                    .map(|e| (e.seq, e.job))
                    .chain(st.delayed.drain().map(|e| (e.seq, e.job)))
                    .collect();
                waiting.sort_by_key(|(seq, _)| *seq);
                st.deadlines.clear();
                for (_, job) in waiting {
                    if let Some((was, waker)) = job.finish_unstarted(TaskError::Shutdown) {
                        st.leave_waiting(job.priority(), was);
                        st.cancelled += 1;
                        wakers.extend(waker);
                        aborted.push(AbortedJob::new(job.id(), job.name().cloned(), false));
                    }
                }
                let mut running: Vec<JobRef<R>> = st.slots.iter().flatten().cloned().collect();
                running.sort_by_key(|j| j.id());
                for job in running {
                    if job.abort(TaskError::Shutdown) {
                        aborted.push(AbortedJob::new(job.id(), job.name().cloned(), true));
                    }
                }
                st.timer_at = None;
                wakers.extend(st.timer_waker.take());
            }
            wakers.extend(st.take_idle_waiters());
        }
        wakers.into_iter().for_each(Waker::wake);
        aborted.sort_by_key(|a| a.id());
        (aborted, periodics)
    }

    /// Completes once nothing waits and nothing runs.
    pub(crate) async fn idle(&self) {
        poll_fn(|cx| {
            let mut st = self.state.lock();
            if st.pending == 0 && st.running == 0 {
                return Poll::Ready(());
            }
            if !st.idle_waiters.iter().any(|w| w.will_wake(cx.waker())) {
                st.idle_waiters.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
}

impl<R: 'static> State<R> {
    fn leave_waiting(&mut self, priority: Priority, was: Status) {
        self.pending -= 1;
        self.pending_by_priority[usize::from(priority.level())] -= 1;
        if was == Status::Delayed {
            self.delayed_count -= 1;
        }
    }

    fn start_slot(&mut self, job: JobRef<R>) -> usize {
        self.running += 1;
        match self.free_slots.pop() {
            Some(slot) => {
                self.slots[slot] = Some(job);
                slot
            }
            None => {
                self.slots.push(Some(job));
                self.slots.len() - 1
            }
        }
    }

    /// Makes sure the timer wakes by `at`: returns a waker to wake (the
    /// timer sleeps past `at`) or asks for a timer task to be spawned.
    fn arm_timer(&mut self, at: Instant) -> (Option<Waker>, bool) {
        if !self.timer_active {
            self.timer_active = true;
            self.timer_at = None;
            return (None, true);
        }
        match self.timer_at {
            Some(t) if at < t => {
                self.timer_at = None;
                (self.timer_waker.take(), false)
            }
            _ => (None, false),
        }
    }

    fn take_idle_waiters(&mut self) -> Vec<Waker> {
        let idle = self.pending == 0 && self.running == 0;
        if idle && !self.idle_waiters.is_empty() {
            // Also let a sleeping timer see that only dead entries remain.
            self.timer_at = None;
            let mut w = core::mem::take(&mut self.idle_waiters);
            w.extend(self.timer_waker.take());
            w
        } else {
            Vec::new()
        }
    }
}

impl<R: 'static> Drop for State<R> {
    /// Only reached when the runtime dropped the tasks that kept the
    /// scheduler alive: no waiting job can start any more, so each is told.
    fn drop(&mut self) {
        let jobs = self
            .ready
            .drain()
            .map(|e| e.job)
            .chain(self.delayed.drain().map(|e| e.job));
        for job in jobs {
            if let Some((_, Some(w))) = job.finish_unstarted(TaskError::Shutdown) {
                w.wake();
            }
        }
    }
}

/// The timer task: alive while delayed jobs or deadlines exist, it makes
/// delayed jobs ready and expires deadlines, each at its instant.
async fn run_timer<R: Runtime>(shared: Arc<Shared<R>>) {
    loop {
        let mut wakers = Vec::new();
        let next = {
            let mut st = shared.state.lock();
            let now = shared.rt.now();
            let next = shared.process_due(&mut st, now, &mut wakers);
            st.timer_at = next;
            if next.is_none() {
                st.timer_active = false;
                st.timer_waker = None;
            }
            wakers.extend(st.take_idle_waiters());
            next
        };
        wakers.into_iter().for_each(Waker::wake);
        shared.dispatch();
        let Some(next) = next else { return };
        let mut sleep = pin!(shared.rt.sleep_until(next));
        poll_fn(|cx| {
            if sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(());
            }
            let mut st = shared.state.lock();
            if st.timer_at != Some(next) {
                return Poll::Ready(());
            }
            if !st
                .timer_waker
                .as_ref()
                .is_some_and(|w| w.will_wake(cx.waker()))
            {
                st.timer_waker = Some(cx.waker().clone());
            }
            Poll::Pending
        })
        .await;
    }
}

impl<R: 'static> State<R> {
    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }
}
