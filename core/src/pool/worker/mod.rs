//! [`WorkerPool`]: a dynamic pool of OS threads for blocking and CPU-bound
//! work, usable from any executor or from plain threads.

mod builder;
mod control;
mod error;
mod inner;
mod job;
mod stats;

use core::fmt;
use std::sync::Arc;

use crate::loom::event::Listener;
use crate::loom::listen;

pub use builder::{RejectionPolicy, WorkerPoolBuilder};
pub use error::WorkerError;
pub use stats::WorkerPoolStats;

use inner::{Enqueue, Inner};
use job::{ExecCell, Handle, RunCell};

/// A pool of OS threads that runs closures: blocking I/O, CPU-heavy work,
/// calls into synchronous libraries.
///
/// It needs no async runtime: `run(f).await` works on any executor (the
/// caller's task is woken when the job is done), [`run_blocking`] and
/// [`execute`] from plain threads. See the [module docs](crate::pool) for
/// when the pool grows and shrinks.
///
/// # Shutdown and drop
///
/// **Dropping the pool never blocks**: it closes the pool (as
/// [`close`]) and detaches the threads, which run every job already
/// accepted and then exit on their own. So the last `Arc<WorkerPool>` may
/// be dropped anywhere, inside an async task included. To wait for the
/// threads, say so:
///
/// * in async code, [`close`] then [`terminated`]`.await`, which parks the
///   task, never the executor's thread;
/// * from a plain thread, [`shutdown`] (run the queue, then join every
///   thread) or [`shutdown_now`] (cancel the queued jobs: a `run` caller
///   gets its closure back in [`WorkerError::Closed`], an `execute` job is
///   dropped; then join the threads once their running jobs return). Both
///   block the calling thread, as does [`join`].
///
/// # Drop rules
///
/// As everywhere in weir: a future you await is cancelled when dropped, a
/// handle to work already handed to a runner detaches. The future of
/// [`run`] is of the first kind: dropped before its job started, the job is
/// withdrawn and never runs; dropped while the job runs (a thread cannot be
/// stopped from outside), the closure runs to its end and its output is
/// dropped on the pool's thread. [`execute`] gives no handle: the job is
/// the pool's. The pool itself detaches its threads when dropped (above).
///
/// [`run`]: WorkerPool::run
/// [`run_blocking`]: WorkerPool::run_blocking
/// [`execute`]: WorkerPool::execute
/// [`close`]: WorkerPool::close
/// [`terminated`]: WorkerPool::terminated
/// [`join`]: WorkerPool::join
/// [`shutdown`]: WorkerPool::shutdown
/// [`shutdown_now`]: WorkerPool::shutdown_now
///
/// ```
/// use weir_core::WorkerPool;
///
/// let pool = WorkerPool::builder().max_threads(4).build()?;
/// let sum = pool.run_blocking(|| (1..=100u64).sum::<u64>()).unwrap();
/// assert_eq!(sum, 5050);
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
pub struct WorkerPool {
    inner: Arc<Inner>,
}

impl fmt::Debug for WorkerPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerPool")
            .field("stats", &self.stats())
            .finish()
    }
}

impl WorkerPool {
    /// A builder with the defaults listed on [`WorkerPoolBuilder`].
    ///
    /// ```
    /// let pool = weir_core::WorkerPool::builder().max_threads(2).build()?;
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn builder() -> WorkerPoolBuilder {
        WorkerPoolBuilder::default()
    }

    pub(crate) fn from_builder(b: WorkerPoolBuilder) -> Self {
        WorkerPool {
            inner: Inner::new(b),
        }
    }

    /// Runs `f` on a pool thread; the future resolves to its output.
    ///
    /// When the queue is full, the [`RejectionPolicy`] decides: `Reject`
    /// resolves at once to [`WorkerError::Rejected`] with `f` inside;
    /// `Wait` waits (asynchronously) for space. A panic in `f` resolves to
    /// [`WorkerError::Panicked`]; the thread survives.
    ///
    /// # Cancellation
    ///
    /// The future is cancelled when dropped, like any future one awaits:
    /// dropped before the job started, the job is withdrawn, never runs and
    /// counts as cancelled. A thread cannot be stopped from outside, so a
    /// job that already started runs to its end; its output is dropped on
    /// the pool's thread and it counts as completed (or panicked).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::WorkerPool;
    /// use weir_core::test_util::VirtualRuntime;
    ///
    /// let pool = WorkerPool::builder().build().unwrap();
    /// let rt = VirtualRuntime::new();
    /// let n = rt.block_on(async { pool.run(|| 6 * 7).await }).unwrap();
    /// assert_eq!(n, 42);
    /// # }
    /// ```
    pub async fn run<F, R>(&self, f: F) -> Result<R, WorkerError<F>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let cell = Arc::new(RunCell::new(f));
        loop {
            match self.inner.enqueue(cell.clone()) {
                Enqueue::Accepted => break,
                Enqueue::Closed => match self.inner.settle_closed(&*cell) {
                    Some(f) => return Err(WorkerError::Closed(f)),
                    None => break,
                },
                Enqueue::Full => match self.inner.config.rejection {
                    RejectionPolicy::Reject => return Err(self.rejected(&*cell)),
                    RejectionPolicy::Wait => {
                        listen!(self.inner.space => space);
                        match self.inner.enqueue(cell.clone()) {
                            Enqueue::Full => space.await,
                            Enqueue::Accepted => break,
                            // Settled by the next round.
                            Enqueue::Closed => {}
                        }
                    }
                },
            }
        }
        Handle { cell }.await
    }

    /// Runs `f` on a pool thread and blocks the calling thread until it
    /// returns. For synchronous code; in async code use [`run`](Self::run).
    ///
    /// Under [`RejectionPolicy::Wait`] it blocks while the queue is full.
    ///
    /// ```
    /// let pool = weir_core::WorkerPool::builder().build()?;
    /// let err = pool.run_blocking(|| -> u8 { panic!("bad input") }).unwrap_err();
    /// assert_eq!(err.panic_message(), Some("bad input"));
    /// assert_eq!(pool.run_blocking(|| 1).unwrap(), 1, "the pool keeps working");
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn run_blocking<F, R>(&self, f: F) -> Result<R, WorkerError<F>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let cell = Arc::new(RunCell::new(f));
        self.submit_blocking(&cell, true)?;
        cell.wait_blocking()
    }

    /// Queues `f` to run on a pool thread, without waiting for it (fire and
    /// forget). Under [`RejectionPolicy::Wait`] it blocks the calling thread
    /// while the queue is full; [`try_execute`](Self::try_execute) never
    /// blocks. A panic in `f` is counted in [`stats`](Self::stats).
    ///
    /// ```
    /// use std::sync::mpsc;
    /// let pool = weir_core::WorkerPool::builder().build()?;
    /// let (tx, rx) = mpsc::channel();
    /// pool.execute(move || tx.send(7).unwrap()).unwrap();
    /// assert_eq!(rx.recv().unwrap(), 7);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn execute<F>(&self, f: F) -> Result<(), WorkerError<F>>
    where
        F: FnOnce() + Send + 'static,
    {
        self.submit_blocking(&Arc::new(ExecCell::new(f)), true)
    }

    /// Like [`execute`](Self::execute) but never waits: a full queue hands
    /// `f` back in [`WorkerError::Rejected`] whatever the policy.
    ///
    /// ```
    /// use weir_core::{WorkerPool, pool::WorkerError};
    /// let pool = WorkerPool::builder().build()?;
    /// pool.shutdown();
    /// assert!(matches!(pool.try_execute(|| ()), Err(WorkerError::Closed(_))));
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn try_execute<F>(&self, f: F) -> Result<(), WorkerError<F>>
    where
        F: FnOnce() + Send + 'static,
    {
        self.submit_blocking(&Arc::new(ExecCell::new(f)), false)
    }

    fn submit_blocking<C>(&self, cell: &Arc<C>, may_wait: bool) -> Result<(), WorkerError<C::F>>
    where
        C: job::Job + job::Withdraw + 'static,
    {
        loop {
            match self.inner.enqueue(cell.clone()) {
                Enqueue::Accepted => return Ok(()),
                Enqueue::Closed => {
                    return match self.inner.settle_closed(&**cell) {
                        Some(f) => Err(WorkerError::Closed(f)),
                        None => Ok(()),
                    };
                }
                Enqueue::Full => {
                    if !may_wait || self.inner.config.rejection == RejectionPolicy::Reject {
                        return Err(self.rejected(&**cell));
                    }
                    listen!(self.inner.space => space);
                    match self.inner.enqueue(cell.clone()) {
                        Enqueue::Full => space.wait(),
                        Enqueue::Accepted => return Ok(()),
                        Enqueue::Closed => {}
                    }
                }
            }
        }
    }

    fn rejected<C: job::Withdraw>(&self, cell: &C) -> WorkerError<C::F> {
        self.inner.count_rejected();
        // The push failed, so the job was never shared: it is still ours.
        WorkerError::Rejected(cell.withdraw().expect("a rejected job was never queued"))
    }

    /// A snapshot of the pool's threads and counters.
    ///
    /// ```
    /// let pool = weir_core::WorkerPool::builder().build()?;
    /// let _ = pool.run_blocking(|| -> () { panic!("x") });
    /// assert_eq!(pool.stats().panicked, 1);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn stats(&self) -> WorkerPoolStats {
        self.inner.stats()
    }

    /// Blocks the calling thread until the queue is empty and every thread
    /// is parked: all work submitted before the call has finished. Never
    /// call it from one of the pool's own jobs (it would wait for itself),
    /// nor from async code (it blocks the executor's thread).
    ///
    /// ```
    /// use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
    /// let pool = weir_core::WorkerPool::builder().build()?;
    /// let n = Arc::new(AtomicUsize::new(0));
    /// for _ in 0..10 {
    ///     let n = n.clone();
    ///     pool.execute(move || { n.fetch_add(1, Ordering::Relaxed); }).unwrap();
    /// }
    /// pool.join();
    /// assert_eq!(n.load(Ordering::Relaxed), 10);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn join(&self) {
        self.inner.join();
    }

    /// Makes every parked thread re-read the pool's clock now, and returns
    /// once each has done so (retiring if its idle time is up). With the
    /// system clock this is never needed; with an injected clock, call it
    /// after moving the clock so retirement happens at exact instants.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::{Duration, Instant};
    /// use weir_core::WorkerPool;
    ///
    /// let now = Arc::new(Mutex::new(Instant::now()));
    /// let clock = now.clone();
    /// let pool = WorkerPool::builder()
    ///     .idle_timeout(Duration::from_secs(60))
    ///     .clock(move || *clock.lock().unwrap())
    ///     .build()?;
    /// pool.run_blocking(|| ()).unwrap();
    /// pool.join();
    /// assert_eq!(pool.stats().threads, 1);
    /// *now.lock().unwrap() += Duration::from_secs(60);
    /// pool.tick();
    /// assert_eq!(pool.stats().threads, 0);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn tick(&self) {
        self.inner.tick();
    }

    /// Stops accepting jobs and returns at once: the threads run every job
    /// already accepted, then exit. Idempotent. Wait for them with
    /// [`terminated`](Self::terminated).
    ///
    /// ```
    /// let pool = weir_core::WorkerPool::builder().build()?;
    /// pool.execute(|| ()).unwrap();
    /// pool.close();
    /// assert!(pool.execute(|| ()).is_err());
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn close(&self) {
        self.inner.close(false);
    }

    /// Stops accepting jobs and cancels the queued ones (as
    /// [`shutdown_now`](Self::shutdown_now) does), and returns at once;
    /// running jobs finish, then the threads exit. Wait for them with
    /// [`terminated`](Self::terminated).
    ///
    /// ```
    /// let pool = weir_core::WorkerPool::builder().build()?;
    /// pool.close_now();
    /// assert!(pool.is_closed());
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn close_now(&self) {
        self.inner.close(true);
    }

    /// Resolves once the pool is closed (by [`close`](Self::close),
    /// [`close_now`](Self::close_now) or a shutdown) and every thread has
    /// finished its last job and left the pool. Waiting parks the task, not the thread, so it is the way to
    /// wait for the pool from async code. It does not close the pool
    /// itself.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
    /// use weir_core::test_util::VirtualRuntime;
    ///
    /// let pool = weir_core::WorkerPool::builder().max_threads(2).build().unwrap();
    /// let n = Arc::new(AtomicUsize::new(0));
    /// for _ in 0..10 {
    ///     let n = n.clone();
    ///     pool.execute(move || { n.fetch_add(1, Ordering::Relaxed); }).unwrap();
    /// }
    /// pool.close();
    /// VirtualRuntime::new().block_on(pool.terminated());
    /// assert_eq!(n.load(Ordering::Relaxed), 10);
    /// assert_eq!(pool.stats().threads, 0);
    /// # }
    /// ```
    pub async fn terminated(&self) {
        loop {
            if self.inner.is_terminated() {
                return;
            }
            listen!(self.inner.exited => exited);
            // Checked again after registering, so a thread that finished in
            // between is not missed.
            if self.inner.is_terminated() {
                return;
            }
            exited.await;
        }
    }

    /// Whether the pool stopped accepting jobs.
    ///
    /// ```
    /// let pool = weir_core::WorkerPool::builder().build()?;
    /// assert!(!pool.is_closed());
    /// pool.shutdown();
    /// assert!(pool.is_closed());
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Stops accepting jobs, runs every job already accepted, and joins all
    /// threads. Blocks the calling thread; idempotent. In async code use
    /// [`close`](Self::close) and [`terminated`](Self::terminated).
    ///
    /// ```
    /// use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
    /// let pool = weir_core::WorkerPool::builder().max_threads(1).build()?;
    /// let n = Arc::new(AtomicUsize::new(0));
    /// for _ in 0..100 {
    ///     let n = n.clone();
    ///     pool.execute(move || { n.fetch_add(1, Ordering::Relaxed); }).unwrap();
    /// }
    /// pool.shutdown();
    /// assert_eq!(n.load(Ordering::Relaxed), 100);
    /// assert_eq!(pool.stats().threads, 0);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn shutdown(&self) {
        self.inner.shutdown(false);
    }

    /// Stops accepting jobs and cancels the queued ones (each `run` caller
    /// gets its closure back in [`WorkerError::Closed`]; `execute` jobs are
    /// dropped), waits for running jobs, and joins all threads. Blocks the
    /// calling thread; in async code use [`close_now`](Self::close_now) and
    /// [`terminated`](Self::terminated).
    ///
    /// ```
    /// let pool = weir_core::WorkerPool::builder().build()?;
    /// pool.shutdown_now();
    /// assert!(pool.is_closed());
    /// assert_eq!(pool.stats().threads, 0);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn shutdown_now(&self) {
        self.inner.shutdown(true);
    }
}

impl Drop for WorkerPool {
    /// Closes the pool and detaches its threads: they run the accepted jobs
    /// and exit on their own. Never blocks (see the type's docs).
    fn drop(&mut self) {
        self.inner.close(false);
    }
}
