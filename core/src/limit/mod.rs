//! Limiters: rate (GCRA token and leaky bucket), keyed rate, bulkhead,
//! adaptive concurrency.
//!
//! * [`rate::RateLimiter`]: N units per period with a burst, or evenly
//!   paced; checks that fail fast and waits that queue in arrival order.
//! * [`keyed::KeyedRateLimiter`]: the same quota per key, in bounded memory.
//!
//! Every limiter here computes refills lazily from its clock: none owns a
//! timer or a background task.

pub(crate) mod adaptive;
pub(crate) mod bulkhead;
pub(crate) mod keyed;
pub(crate) mod rate;

pub use adaptive::{
    AdaptivePermit, AdaptiveStats, Aimd, AimdBuilder, Gradient2, Gradient2Builder, Limit, Sample,
    Vegas, VegasBuilder,
};
pub use bulkhead::{
    Acquire as BulkheadAcquire, BulkheadBuilder, BulkheadError, BulkheadPermit, BulkheadStats,
    QueueOrder,
};
pub use keyed::{KeyedError, KeyedRateLimiterBuilder};
#[cfg(target_os = "linux")]
pub use rate::CoarseClock;
#[cfg(feature = "test-util")]
pub use rate::ManualClock;
pub use rate::{
    Acquire as RateAcquire, AcquireMany as RateAcquireMany, Clock, InsufficientCapacity,
    RateLimited, RateLimiterBuilder, StdClock, TryAcquireError,
};
