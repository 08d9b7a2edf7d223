//! Limiters: rate (GCRA token and leaky bucket), keyed rate, bulkhead,
//! adaptive concurrency.
//!
//! * [`rate::RateLimiter`]: N units per period with a burst, or evenly
//!   paced; checks that fail fast and waits that queue in arrival order.
//! * [`keyed::KeyedRateLimiter`]: the same quota per key, in bounded memory.
//!
//! Every limiter here computes refills lazily from its clock: none owns a
//! timer or a background task.

pub mod keyed;
pub mod rate;

pub use keyed::{KeyedError, KeyedRateLimiter};
pub use rate::{Quota, RateLimiter, RateLimiterBuilder};

mod bulkhead;
pub use bulkhead::{
    Acquire as BulkheadAcquire, Bulkhead, BulkheadBuilder, BulkheadError, BulkheadPermit,
    BulkheadStats, QueueOrder,
};

mod adaptive;
pub use adaptive::{
    AdaptiveLimiter, AdaptivePermit, AdaptiveStats, Aimd, AimdBuilder, Gradient2, Gradient2Builder,
    Limit, Sample, Vegas, VegasBuilder,
};
