//! Resilience policies: timeout, retry with backoff and budget, circuit
//! breaker.
//!
//! TODO(docs): rules table.

mod breaker;
#[cfg(feature = "test-util")]
#[doc(hidden)]
pub mod fuzz;
mod retry;
pub(crate) mod ring;
mod timeout;

pub use breaker::{
    BreakerError, CallPermit, CircuitBreaker, CircuitBreakerBuilder, CircuitOpen, Classify,
    ErrorIsFailure, Outcome, State, Stats, Transition,
};
pub use retry::{
    AnyError, ErrorFilter, FromRetryAfter, GiveUp, HintSource, Jitter, NoHint, NoHook, NoValue,
    Retry, RetryAfter, RetryBudget, RetryBudgetBuilder, RetryBuilder, RetryEvent, RetryHook,
    RetryState, ValueFilter,
};
pub use timeout::{Elapsed, Timeout, TimeoutFuture, timeout, timeout_at};
