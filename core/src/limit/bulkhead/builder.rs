//! Validating a bulkhead's configuration.

use std::borrow::Cow;
use std::time::Duration;

use super::Bulkhead;
use super::raw::{MAX_PERMITS, Raw};
use crate::ConfigError;
use crate::Runtime;
use crate::loom::sync::Arc;
use crate::obs::{Name, bulkhead::BulkheadObs};
use crate::util::check::Check;

const COMPONENT: &str = "Bulkhead";

// Documented on BulkheadBuilder::DEFAULT_MAX_QUEUED.
const DEFAULT_MAX_QUEUED: u32 = 1024;

/// Waiter slots allocated up front; a longer line grows the slab once, on
/// the first time it gets that long.
const PREALLOCATED_SLOTS: u32 = 1024;

/// Which waiter a freed permit goes to.
///
/// ```
/// use weir_core::limit::QueueOrder;
/// assert_eq!(QueueOrder::default(), QueueOrder::Fifo);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum QueueOrder {
    /// Oldest first, and no newcomer takes a free permit while anyone waits:
    /// fair, and the usual choice.
    #[default]
    Fifo,
    /// Newest first: under overload the callers most likely still to want
    /// the answer are served, and the oldest are pushed out of a full queue
    /// (with [`QueueFull`](super::BulkheadError::QueueFull)) to make room.
    /// Keeps the latency of served calls low when the queue cannot drain.
    Lifo,
}

/// Configures a [`Bulkhead`]: how many calls run at once, how many permits
/// may wait, for how long, and in which order.
///
/// `max_concurrent` is required. `queue_capacity` defaults to
/// [`DEFAULT_MAX_QUEUED`](Self::DEFAULT_MAX_QUEUED) (1024 permits: callers beyond the limit wait
/// their turn; set 0 to refuse at once instead), `acquire_timeout` to
/// [`Duration::MAX`] (a queued caller waits as long as it takes), the order
/// to [`QueueOrder::Fifo`]. A refusal says which limits made it:
/// [`QueueFull`](super::BulkheadError::QueueFull) carries `max_concurrent`
/// and `queue_capacity`, and its message names them.
///
/// ```
/// use std::time::Duration;
/// use weir_core::{Bulkhead, limit::QueueOrder};
/// # #[cfg(feature = "test-util")] {
/// let bulkhead = Bulkhead::builder()
///     .max_concurrent(8)
///     .queue_capacity(100)
///     .acquire_timeout(Duration::from_secs(2))
///     .queue_order(QueueOrder::Lifo)
///     .build(weir_core::test_util::VirtualRuntime::new())?;
/// assert_eq!(bulkhead.max_concurrent(), 8);
/// # }
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing itself: call .build(rt) to make the bulkhead"]
pub struct BulkheadBuilder {
    max_concurrent: Option<u32>,
    queue_capacity: u32,
    acquire_timeout: Duration,
    order: QueueOrder,
    name: Name,
}

impl BulkheadBuilder {
    /// The queue's capacity unless `queue_capacity` says otherwise, in permits.
    ///
    /// A caller that finds every permit taken waits its turn, as it would at a
    /// semaphore, up to this many; past it the bulkhead sheds load. Resilience4j
    /// and Polly default to no queue at all (their semaphore bulkhead refuses
    /// at once), which a client that fans out a few hundred calls meets as most
    /// of them refused; their queued variant (Resilience4j's thread-pool
    /// bulkhead) holds 100. A thousand keeps a burst of that size whole and
    /// still bounds the line when the service behind stops answering.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::{Bulkhead, limit::BulkheadBuilder};
    /// let b = Bulkhead::builder().max_concurrent(8).build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// assert_eq!(b.queue_capacity(), BulkheadBuilder::DEFAULT_MAX_QUEUED);
    /// # }
    /// ```
    pub const DEFAULT_MAX_QUEUED: u32 = DEFAULT_MAX_QUEUED;

    pub(super) fn new() -> Self {
        BulkheadBuilder {
            max_concurrent: None,
            queue_capacity: DEFAULT_MAX_QUEUED,
            acquire_timeout: Duration::MAX,
            order: QueueOrder::Fifo,
            name: Name::default(),
        }
    }

    /// Names the bulkhead in its tracing events and metric labels (the
    /// `name` label; see [`obs`](crate::obs)). Default: `"default"`.
    ///
    /// ```
    /// let b = weir_core::Bulkhead::builder().max_concurrent(8).name("search");
    /// # drop(b);
    /// ```
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Name::new(name);
        self
    }

    /// Permits that may be held at once (required; 1 to 2³¹ − 1).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_core::Bulkhead::builder().max_concurrent(0)
    ///     .build(weir_core::test_util::VirtualRuntime::new());
    /// assert_eq!(b.unwrap_err().field(), "max_concurrent");
    /// # }
    /// ```
    pub fn max_concurrent(mut self, permits: u32) -> Self {
        self.max_concurrent = Some(permits);
        self
    }

    /// Permits that may wait at once, summed over the waiters (a caller of
    /// `acquire_many(3)` takes 3). Default [`DEFAULT_MAX_QUEUED`](Self::DEFAULT_MAX_QUEUED) (1024). Zero
    /// means nobody waits: a full bulkhead refuses at once (fail fast, as
    /// Resilience4j's and Polly's semaphore bulkheads do by default).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_core::Bulkhead::builder().max_concurrent(1).queue_capacity(10)
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// assert_eq!(b.queue_capacity(), 10);
    /// # }
    /// ```
    pub fn queue_capacity(mut self, permits: u32) -> Self {
        self.queue_capacity = permits;
        self
    }

    /// The longest a caller waits in the queue before it is refused with
    /// [`WaitTimeout`](super::BulkheadError::WaitTimeout). Zero means a
    /// caller never waits (nor yields): without a free permit it is refused
    /// at once with [`QueueFull`](super::BulkheadError::QueueFull).
    /// [`Duration::MAX`] waits without limit.
    ///
    /// ```
    /// use std::time::Duration;
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_core::Bulkhead::builder().max_concurrent(1)
    ///     .acquire_timeout(Duration::from_millis(250))
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// assert_eq!(b.acquire_timeout(), Duration::from_millis(250));
    /// # }
    /// ```
    pub fn acquire_timeout(mut self, acquire_timeout: Duration) -> Self {
        self.acquire_timeout = acquire_timeout;
        self
    }

    /// The order in which waiters get permits.
    ///
    /// ```
    /// use weir_core::{Bulkhead, limit::QueueOrder};
    /// let builder = Bulkhead::builder().queue_order(QueueOrder::Lifo);
    /// # drop(builder);
    /// ```
    pub fn queue_order(mut self, order: QueueOrder) -> Self {
        self.order = order;
        self
    }

    /// Checks the configuration and makes the bulkhead.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `max_concurrent` when it is unset
    /// ([`Rule::Missing`]), zero ([`Rule::Zero`]) or above 2³¹ − 1
    /// ([`Rule::TooLarge`]).
    ///
    /// ```
    /// use weir_core::Rule;
    /// # #[cfg(feature = "test-util")] {
    /// let e = weir_core::Bulkhead::builder()
    ///     .build(weir_core::test_util::VirtualRuntime::new()).unwrap_err();
    /// assert_eq!((e.field(), e.rule()), ("max_concurrent", &Rule::Missing));
    /// # }
    /// ```
    pub fn build<R: Runtime>(self, rt: R) -> Result<Bulkhead<R>, ConfigError> {
        let c = Check::new(COMPONENT);
        let limit = check_limit(c.set("max_concurrent", self.max_concurrent)?)?;
        let slots = self.queue_capacity.min(PREALLOCATED_SLOTS) as usize;
        Ok(Bulkhead {
            raw: Arc::new(Raw::new(
                limit,
                u64::from(self.queue_capacity),
                self.order,
                slots,
                BulkheadObs::new(self.name, limit),
            )),
            rt,
            acquire_timeout: self.acquire_timeout,
            queue_capacity: self.queue_capacity,
            order: self.order,
        })
    }
}

/// The rule for `max_concurrent`, at build time and at run time.
pub(super) fn check_limit(permits: u32) -> Result<u32, ConfigError> {
    let c = Check::new(COMPONENT);
    c.positive("max_concurrent", permits)?;
    c.at_most("max_concurrent", permits, MAX_PERMITS)?;
    Ok(permits)
}
