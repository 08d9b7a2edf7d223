//! The state shared by a pool's handle and its threads, and the worker loop.
//!
//! The park lock (`park`, with the `wake` and `event` condvars) is taken
//! only off the fast path: to park, to wake a parked worker, to retire, and
//! by `join`/`tick`. A submission with an awake worker around is a queue
//! push, a fence and one load of the control word.

use core::cell::Cell;
// std's Arc, not the shim's: the queue holds `Arc<dyn Job>`, a coercion
// loom's Arc cannot make. The protocols under it (the control word, the job
// cell) have loom models of their own.
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;
use crossbeam_utils::CachePadded;

use crate::loom::event::Event;
use crate::loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use crate::loom::sync::{Condvar, Mutex};
use crate::obs::worker_pool::WorkerPoolObs;
use crate::rt::deadline_after;

use super::builder::{Clock, RejectionPolicy, WorkerPoolBuilder};
use super::control::{Action, Control, Leave};
use super::job::{Job, Ran, Withdraw};
use super::stats::{Totals, WorkerPoolStats, WorkerStats};

/// See `work`: how often a busy worker re-applies the growth rule.
const GROWTH_EVERY: u32 = 32;

thread_local! {
    /// The pool this thread works for (its `Inner` address), so that a pool
    /// dropped by one of its own jobs does not try to join itself.
    static CURRENT: Cell<usize> = const { Cell::new(0) };
}

pub(crate) struct Park {
    /// Workers waiting on `wake` (registered as idle or claimed).
    parked: usize,
    /// Bumped by `tick`; each parked worker acknowledges once.
    epoch: u64,
    tick_pending: usize,
}

pub(crate) struct Registry {
    handles: Vec<JoinHandle<()>>,
    live: Vec<Arc<WorkerStats>>,
    retired: Totals,
    next_id: usize,
}

pub(crate) struct Config {
    pub(crate) min_threads: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) rejection: RejectionPolicy,
    pub(crate) name_prefix: String,
    pub(crate) stack_size: Option<usize>,
    pub(crate) clock: Option<Clock>,
}

/// How a submission went.
pub(crate) enum Enqueue {
    Accepted,
    Full,
    Closed,
}

pub(crate) struct Inner {
    pub(crate) queue: ArrayQueue<Arc<dyn Job>>,
    pub(crate) control: CachePadded<Control>,
    pub(crate) config: Config,
    /// Notified once per popped job when callers may wait for space.
    pub(crate) space: Event,
    /// Notified whenever a thread has finished (or failed to start), for
    /// `terminated`.
    pub(crate) exited: Event,
    park: Mutex<Park>,
    wake: Condvar,
    event: Condvar,
    registry: Mutex<Registry>,
    submitted: CachePadded<AtomicU64>,
    rejected: AtomicU64,
    peak: AtomicUsize,
    /// Set by `shutdown_now`: workers cancel what they pop.
    cancel_queued: AtomicBool,
    obs: WorkerPoolObs,
}

impl Inner {
    pub(crate) fn new(b: WorkerPoolBuilder) -> Arc<Self> {
        let inner = Arc::new(Inner {
            queue: ArrayQueue::new(b.queue_capacity),
            control: CachePadded::new(Control::new(b.max_threads)),
            space: Event::new(),
            exited: Event::new(),
            park: Mutex::new(Park {
                parked: 0,
                epoch: 0,
                tick_pending: 0,
            }),
            wake: Condvar::new(),
            event: Condvar::new(),
            registry: Mutex::new(Registry {
                handles: Vec::new(),
                live: Vec::new(),
                retired: Totals::new(),
                next_id: 0,
            }),
            submitted: CachePadded::new(AtomicU64::new(0)),
            rejected: AtomicU64::new(0),
            peak: AtomicUsize::new(0),
            cancel_queued: AtomicBool::new(false),
            obs: WorkerPoolObs::new(b.name),
            config: Config {
                min_threads: b.min_threads,
                idle_timeout: b.idle_timeout,
                rejection: b.rejection,
                name_prefix: b.name_prefix,
                stack_size: b.stack_size,
                clock: b.clock,
            },
        });
        inner.control.prestart(b.min_threads);
        for _ in 0..b.min_threads {
            inner.spawn_worker();
        }
        inner
    }

    fn now(&self) -> Instant {
        match &self.config.clock {
            Some(c) => c(),
            None => Instant::now(),
        }
    }

    pub(crate) fn is_current_worker(self: &Arc<Self>) -> bool {
        CURRENT.with(|c| c.get()) == Arc::as_ptr(self) as usize
    }

    // ---- submission -------------------------------------------------------

    /// Pushes `cell` and makes sure someone will run it. On `Closed` the
    /// caller must try to withdraw the job (it may already be running).
    pub(crate) fn enqueue(self: &Arc<Self>, cell: Arc<dyn Job>) -> Enqueue {
        if self.control.snapshot().closed {
            return Enqueue::Closed;
        }
        if self.queue.push(cell).is_err() {
            return Enqueue::Full;
        }
        match self.control.after_push() {
            Action::Closed => return Enqueue::Closed,
            a => self.act(a),
        }
        self.submitted.fetch_add(1, Ordering::Relaxed);
        self.obs.submitted();
        Enqueue::Accepted
    }

    /// Settles a `Closed` enqueue: the job comes back unless a worker
    /// already took it, in which case it counts as accepted.
    pub(crate) fn settle_closed<C: Withdraw>(&self, cell: &C) -> Option<C::F> {
        match cell.withdraw() {
            Some(f) => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                self.obs.rejected();
                Some(f)
            }
            None => {
                self.submitted.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    pub(crate) fn count_rejected(&self) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
    }

    fn act(self: &Arc<Self>, action: Action) {
        match action {
            Action::Wake => {
                // Under the park lock: a registered worker is inside `wait`
                // (it registers and waits without releasing the lock).
                let _p = self.park.lock();
                self.wake.notify_one();
            }
            Action::Spawn => self.spawn_worker(),
            Action::Nothing | Action::Closed => {}
        }
    }

    fn spawn_worker(self: &Arc<Self>) {
        let stats = Arc::new(WorkerStats::new());
        let mut reg = self.registry.lock();
        // Threads that retired on their own are finished: forget them.
        reg.handles.retain(|h| !h.is_finished());
        let id = reg.next_id;
        reg.next_id += 1;
        let mut b = thread::Builder::new().name(format!("{}-{id}", self.config.name_prefix));
        if let Some(bytes) = self.config.stack_size {
            b = b.stack_size(bytes);
        }
        let (inner, mine) = (Arc::clone(self), Arc::clone(&stats));
        match b.spawn(move || inner.work(mine)) {
            Ok(h) => {
                reg.handles.push(h);
                reg.live.push(stats);
                let threads = self.control.snapshot().threads;
                self.peak.fetch_max(threads, Ordering::Relaxed);
                self.obs.grew(threads);
            }
            Err(_) => {
                // The OS refused a thread: uncount it. The job stays queued
                // and runs on the next thread that exists or starts.
                drop(reg);
                self.control.spawn_failed();
                self.exited.notify(usize::MAX);
            }
        }
    }

    // ---- the worker -------------------------------------------------------

    fn work(self: Arc<Self>, stats: Arc<WorkerStats>) {
        CURRENT.with(|c| c.set(Arc::as_ptr(&self) as usize));
        self.control.started();
        let mut next = None;
        loop {
            // Jobs popped back to back: the growth check runs on the first
            // (a newcomer passing the baton) and then every GROWTH_EVERY
            // pops, sparing the busy loop a read of the queue's contended
            // tail per job.
            let mut streak = 0u32;
            // Back to back, one clock reading ends a job and starts the next.
            let mut clock = None;
            while let Some(job) = next.take().or_else(|| self.queue.pop()) {
                self.on_pop(streak % GROWTH_EVERY == 0);
                streak = streak.wrapping_add(1);
                self.run_job(&*job, &stats, &mut clock);
            }
            match self.park() {
                Parked::Work => {}
                Parked::Job(job) => next = Some(job),
                Parked::Exit => break,
            }
        }
        {
            let mut reg = self.registry.lock();
            stats.add_to(&mut reg.retired);
            reg.live.retain(|s| !Arc::ptr_eq(s, &stats));
        }
        self.obs.shrank();
        self.exited.notify(usize::MAX);
    }

    fn on_pop(self: &Arc<Self>, check_growth: bool) {
        if self.config.rejection == RejectionPolicy::Wait {
            self.space.notify(1);
        }
        if check_growth && !self.queue.is_empty() {
            self.act(self.control.after_pop());
        }
    }

    fn run_job(&self, job: &dyn Job, stats: &WorkerStats, clock: &mut Option<Instant>) {
        if self.cancel_queued.load(Ordering::Relaxed) {
            match job.cancel() {
                Ran::Cancelled | Ran::Abandoned => stats.cancelled(),
                _ => {}
            }
            return;
        }
        let t0 = clock.unwrap_or_else(|| self.now());
        let ran = job.run(&mut |panicked| {
            let t1 = self.now();
            stats.ran(panicked, t1.saturating_duration_since(t0));
            self.obs.ran(panicked, t1.saturating_duration_since(t0));
            *clock = Some(t1);
        });
        match ran {
            Ran::Abandoned | Ran::Cancelled => stats.cancelled(),
            Ran::Completed | Ran::Panicked | Ran::Withdrawn => {}
        }
    }

    fn park(self: &Arc<Self>) -> Parked {
        let mut p = self.park.lock();
        let closed = self.control.register_idle();
        if let Some(job) = self.queue.pop() {
            self.control.leave_registered(false);
            return Parked::Job(job);
        }
        if closed {
            self.control.leave_registered(true);
            self.event.notify_all();
            return Parked::Exit;
        }
        p.parked += 1;
        self.event.notify_all();
        let mut seen = p.epoch;
        let mut idle_since = self.now();
        loop {
            let deadline = deadline_after(idle_since, self.config.idle_timeout);
            let wait = deadline.saturating_duration_since(self.now());
            if !wait.is_zero() {
                self.wake.wait_for(&mut p, wait);
            }
            let now = self.now();
            let expired = now >= deadline;
            let leave = if self.control.snapshot().closed {
                // Go back to the queue: drain it, and exit on the next park.
                if self.control.on_wake(false, 0) == Leave::Stay {
                    self.control.leave_registered(false);
                }
                Leave::Work
            } else {
                self.control.on_wake(expired, self.config.min_threads)
            };
            if seen != p.epoch {
                seen = p.epoch;
                p.tick_pending -= 1;
                if p.tick_pending == 0 {
                    self.event.notify_all();
                }
            }
            match leave {
                Leave::Work => {
                    p.parked -= 1;
                    return Parked::Work;
                }
                Leave::Retire => {
                    p.parked -= 1;
                    self.event.notify_all();
                    return Parked::Exit;
                }
                Leave::Stay if expired => idle_since = now,
                Leave::Stay => {}
            }
        }
    }

    // ---- observation and control -----------------------------------------

    pub(crate) fn join(&self) {
        let mut p = self.park.lock();
        while !(self.queue.is_empty() && p.parked == self.control.snapshot().threads) {
            self.event.wait(&mut p);
        }
    }

    pub(crate) fn tick(&self) {
        let mut p = self.park.lock();
        while p.tick_pending > 0 {
            self.event.wait(&mut p);
        }
        if p.parked == 0 {
            return;
        }
        p.epoch += 1;
        p.tick_pending = p.parked;
        self.wake.notify_all();
        while p.tick_pending > 0 {
            self.event.wait(&mut p);
        }
    }

    pub(crate) fn stats(&self) -> WorkerPoolStats {
        let totals = {
            let reg = self.registry.lock();
            let mut t = reg.retired.clone();
            for s in &reg.live {
                s.add_to(&mut t);
            }
            t
        };
        let parked = self.park.lock().parked;
        let c = self.control.snapshot();
        WorkerPoolStats {
            threads: c.threads,
            idle_threads: parked.min(c.threads),
            busy_threads: c.threads.saturating_sub(parked + c.starting),
            peak_threads: self.peak.load(Ordering::Relaxed),
            queued: self.queue.len(),
            submitted: self.submitted.load(Ordering::Relaxed),
            completed: totals.completed,
            panicked: totals.panicked,
            rejected: self.rejected.load(Ordering::Relaxed),
            cancelled: totals.cancelled,
            task_time_mean: totals.mean(),
            task_time_p50: totals.quantile(0.5),
            task_time_p99: totals.quantile(0.99),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.control.snapshot().closed
    }

    /// Whether the pool is closed and every thread has finished: none is
    /// counted, none is still on its way out.
    pub(crate) fn is_terminated(&self) -> bool {
        let c = self.control.snapshot();
        c.closed && c.threads == 0 && self.registry.lock().live.is_empty()
    }

    /// Closes the pool without waiting: new jobs are refused, and the
    /// threads (woken if parked) finish the queue, or with `cancel` cancel
    /// it, and exit on their own.
    pub(crate) fn close(&self, cancel: bool) {
        if cancel {
            self.cancel_queued.store(true, Ordering::SeqCst);
        }
        self.control.close();
        self.obs.closed(cancel);
        self.space.notify(usize::MAX);
        {
            let _p = self.park.lock();
            self.wake.notify_all();
        }
        // Nobody may be left to notify it: a pool with no thread.
        self.exited.notify(usize::MAX);
    }

    /// Closes the pool and, unless called from one of its own threads,
    /// joins every thread. With `cancel`, queued jobs are cancelled instead
    /// of run.
    pub(crate) fn shutdown(self: &Arc<Self>, cancel: bool) {
        self.close(cancel);
        if self.is_current_worker() {
            return;
        }
        loop {
            let handles = core::mem::take(&mut self.registry.lock().handles);
            if handles.is_empty() {
                if self.control.snapshot().threads == 0 {
                    return;
                }
                // A spawn counted before the close is storing its handle.
                thread::yield_now();
                continue;
            }
            for h in handles {
                // A worker never unwinds (jobs run under catch_unwind).
                let _ = h.join();
            }
        }
    }
}

enum Parked {
    Work,
    Job(Arc<dyn Job>),
    Exit,
}
