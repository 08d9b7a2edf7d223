//! Limiters: rate (GCRA token and leaky bucket), keyed rate, bulkhead,
//! adaptive concurrency.
