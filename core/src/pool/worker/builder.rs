//! Configuration of a [`WorkerPool`](super::WorkerPool).

use core::fmt;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::obs::Name;
use crate::{ConfigError, Rule};

use super::WorkerPool;
use super::control::MAX_THREADS;

const COMPONENT: &str = "WorkerPool";

/// What a submission does when the queue is full.
///
/// ```
/// use weir_core::{WorkerPool, pool::RejectionPolicy};
/// let pool = WorkerPool::builder().rejection(RejectionPolicy::Reject).build()?;
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RejectionPolicy {
    /// Refuse the job at once and hand it back in
    /// [`WorkerError::Rejected`](super::WorkerError::Rejected).
    Reject,
    /// Wait for queue space: `run` waits asynchronously, `run_blocking` and
    /// `execute` block the calling thread. `try_execute` never waits.
    #[default]
    Wait,
}

/// The source of "now" for idle retirement and task timing.
pub(crate) type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// Builds a [`WorkerPool`]; see [`WorkerPool::builder`].
///
/// Defaults: `min_threads` 0, `max_threads` 64, `idle_timeout` 10 s,
/// `queue_capacity` 4096, [`RejectionPolicy::Wait`], thread names
/// `weir-worker-<n>`, the platform's stack size, the system clock.
///
/// ```
/// use std::time::Duration;
/// use weir_core::WorkerPool;
///
/// let pool = WorkerPool::builder()
///     .min_threads(1)
///     .max_threads(8)
///     .idle_timeout(Duration::from_secs(30))
///     .queue_capacity(1000)
///     .thread_name_prefix("hash")
///     .build()?;
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
#[must_use = "a builder does nothing itself: call .build() to get the pool"]
#[derive(Clone)]
pub struct WorkerPoolBuilder {
    pub(crate) min_threads: usize,
    pub(crate) max_threads: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) queue_capacity: usize,
    pub(crate) rejection: RejectionPolicy,
    pub(crate) name_prefix: String,
    pub(crate) stack_size: Option<usize>,
    pub(crate) clock: Option<Clock>,
    pub(crate) name: Name,
}

impl fmt::Debug for WorkerPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerPoolBuilder")
            .field("min_threads", &self.min_threads)
            .field("max_threads", &self.max_threads)
            .field("idle_timeout", &self.idle_timeout)
            .field("queue_capacity", &self.queue_capacity)
            .field("rejection", &self.rejection)
            .field("name_prefix", &self.name_prefix)
            .field("stack_size", &self.stack_size)
            .field("custom_clock", &self.clock.is_some())
            .field("name", &self.name)
            .finish()
    }
}

impl Default for WorkerPoolBuilder {
    fn default() -> Self {
        WorkerPoolBuilder {
            min_threads: 0,
            max_threads: 64,
            idle_timeout: Duration::from_secs(10),
            queue_capacity: 4096,
            rejection: RejectionPolicy::Wait,
            name_prefix: "weir-worker".into(),
            stack_size: None,
            clock: None,
            name: Name::default(),
        }
    }
}

impl WorkerPoolBuilder {
    /// Names the pool in its tracing events and metric labels (the `name`
    /// label; see [`obs`](crate::obs)). Default: `"default"`. Thread names
    /// are set by [`thread_name_prefix`](Self::thread_name_prefix).
    ///
    /// ```
    /// let b = weir_core::WorkerPool::builder().name("hashing");
    /// # drop(b);
    /// ```
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Name::new(name);
        self
    }

    /// Threads kept alive even when idle; started by `build`.
    ///
    /// ```
    /// let pool = weir_core::WorkerPool::builder().min_threads(2).build()?;
    /// pool.join();
    /// assert_eq!(pool.stats().threads, 2);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn min_threads(mut self, n: usize) -> Self {
        self.min_threads = n;
        self
    }

    /// The most threads the pool runs at once (at least 1, at most 32767).
    ///
    /// ```
    /// let e = weir_core::WorkerPool::builder().max_threads(0).build().unwrap_err();
    /// assert_eq!(e.field(), "max_threads");
    /// ```
    pub fn max_threads(mut self, n: usize) -> Self {
        self.max_threads = n;
        self
    }

    /// How long a thread above `min_threads` stays parked without work
    /// before it exits (greater than zero).
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = weir_core::WorkerPool::builder().idle_timeout(Duration::from_secs(1));
    /// assert!(b.build().is_ok());
    /// ```
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }

    /// How many jobs may wait in the queue (not counting running ones).
    /// The queue is a preallocated ring of this many slots.
    ///
    /// ```
    /// let e = weir_core::WorkerPool::builder().queue_capacity(0).build().unwrap_err();
    /// assert_eq!(e.field(), "queue_capacity");
    /// ```
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = n;
        self
    }

    /// What a submission does when the queue is full.
    ///
    /// ```
    /// use weir_core::{WorkerPool, pool::RejectionPolicy};
    /// let b = WorkerPool::builder().rejection(RejectionPolicy::Reject);
    /// # drop(b);
    /// ```
    pub fn rejection(mut self, policy: RejectionPolicy) -> Self {
        self.rejection = policy;
        self
    }

    /// Worker threads are named `<prefix>-<n>`.
    ///
    /// ```
    /// let pool = weir_core::WorkerPool::builder().thread_name_prefix("crunch").build()?;
    /// let name = pool.run_blocking(|| std::thread::current().name().map(String::from)).unwrap();
    /// assert!(name.unwrap().starts_with("crunch-"));
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.name_prefix = prefix.into();
        self
    }

    /// The stack size of worker threads, in bytes (greater than zero).
    ///
    /// ```
    /// let pool = weir_core::WorkerPool::builder().stack_size(256 * 1024).build()?;
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// The clock used for idle retirement and task timing (default:
    /// `Instant::now`). Inject a virtual clock in tests, then call
    /// [`WorkerPool::tick`] after moving it so parked threads re-check it.
    ///
    /// ```
    /// use std::time::Instant;
    /// let start = Instant::now();
    /// let pool = weir_core::WorkerPool::builder().clock(move || start).build()?;
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn clock(mut self, now: impl Fn() -> Instant + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(now));
        self
    }

    /// Validates the configuration and starts `min_threads` threads.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the field: `max_threads` zero or above
    /// 32767, `min_threads` above `max_threads`, `queue_capacity` zero,
    /// `idle_timeout` zero, `stack_size` zero.
    ///
    /// ```
    /// use weir_core::{Rule, WorkerPool};
    /// let e = WorkerPool::builder().min_threads(5).max_threads(4).build().unwrap_err();
    /// assert_eq!((e.field(), e.rule()), ("min_threads", &Rule::Exceeds("max_threads")));
    /// ```
    pub fn build(self) -> Result<WorkerPool, ConfigError> {
        let err = |field, rule| Err(ConfigError::new(COMPONENT, field, rule));
        if self.max_threads == 0 {
            return err("max_threads", Rule::Zero);
        }
        if self.max_threads > MAX_THREADS {
            return err("max_threads", Rule::TooLarge);
        }
        if self.min_threads > self.max_threads {
            return err("min_threads", Rule::Exceeds("max_threads"));
        }
        if self.queue_capacity == 0 {
            return err("queue_capacity", Rule::Zero);
        }
        if self.idle_timeout.is_zero() {
            return err("idle_timeout", Rule::Zero);
        }
        if self.stack_size == Some(0) {
            return err("stack_size", Rule::Zero);
        }
        Ok(WorkerPool::from_builder(self))
    }
}
