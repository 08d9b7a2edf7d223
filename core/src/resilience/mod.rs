//! Resilience policies: [`timeout`], [`Retry`](crate::Retry) (backoff, jitter, deadline,
//! server hints, a shared [`RetryBudget`](crate::RetryBudget)) and the [`CircuitBreaker`](crate::CircuitBreaker).
//!
//! Each works alone and allocates nothing per call in steady state. Time
//! comes from a [`Runtime`](crate::Runtime), so every rule below is
//! tested on the virtual clock with exact instants.
//!
//! ```
//! # #[cfg(feature = "test-util")] {
//! use std::time::Duration;
//! use weir_core::{CircuitBreaker, Retry, resilience::{BreakerError, timeout}};
//! use weir_core::test_util::VirtualRuntime;
//!
//! let rt = VirtualRuntime::new();
//! let breaker = CircuitBreaker::builder().consecutive_failures(5).build(rt.clone()).unwrap();
//! let retry = Retry::exponential(Duration::from_millis(100))
//!     .max_attempts(3)
//!     .retry_if(|e: &BreakerError<&str>| !matches!(e, BreakerError::Open(_)))
//!     .build()
//!     .unwrap();
//! let out = rt.block_on(retry.run(&rt, || {
//!     // Each attempt: through the breaker, at most 1 s.
//!     breaker.call(|| async {
//!         timeout(&rt, Duration::from_secs(1), async { "reply" }).await.map_err(|_| "timed out")
//!     })
//! }));
//! assert_eq!(out, Ok("reply"));
//! # }
//! ```
//!
//! # Rules
//!
//! Where the reference libraries disagree, weir picks one rule and tests it.
//! R4j is Resilience4j, fs-go is failsafe-go.
//!
//! ## Circuit breaker
//!
//! | point | weir | where peers differ |
//! |---|---|---|
//! | windows | count (last N recorded calls), time (N buckets, a whole bucket expires at once), consecutive failures | Polly: time only; R4j: count/time, consecutive only as 100 % of N; gobreaker: consecutive by default |
//! | threshold | opens when `calls >= min_calls` and `failures/calls >= failure_rate` or `slow/calls >= slow rate` (both `>=`) | same in R4j and Polly |
//! | when judged | after every recorded outcome, successes included (a slow success can open) | Polly and gobreaker judge only on a failure |
//! | `min_calls` | must not exceed a count window (a `ConfigError`, not a silent cap); not allowed with consecutive mode | R4j caps it silently |
//! | slow call | duration strictly `>` the slow-call duration, success or failure, same window; not in consecutive mode | as R4j; absent elsewhere |
//! | outcome | classifier returns Success, Failure or Ignored; Ignored records nothing and, in half-open, returns the permit | R4j counts non-recorded errors as success; pybreaker counts excluded as success |
//! | open → half-open | lazily, on the first call after the open time | R4j optionally by a timer |
//! | half-open probes | exactly N admitted in total; a recorded probe keeps its permit; Ignored or cancelled returns it | fs-go: N concurrent; Polly: 1 per break |
//! | half-open verdict | reopen as soon as probe failures (or slow probes) reach the smallest k with k/N >= the rate; close after N outcomes otherwise; consecutive mode: any failed probe reopens | R4j: fresh rate window over N; gobreaker: N successes in a row |
//! | hung probe | past `half_open_timeout`, with every permit out, the next call reopens (the round counts as failed) | R4j: configurable target state; gobreaker: stuck forever |
//! | open duration | `open_for * multiplier^(k-1)`, at most `max`, k = openings since the last close; a close resets k | R4j interval function; Polly generator |
//! | rejection | `CircuitOpen { remaining }`: rest of the open time; in half-open the rest of the half-open timeout; `Duration::MAX` when forced open | Polly `RetryAfter`; fs-go `RemainingDelay` |
//! | late results | every transition starts a new epoch; a permit carries its epoch; results from an older epoch are counted in `Stats::late` and otherwise ignored | gobreaker drops them too; Polly counts late failures without re-breaking; R4j records them into the new state |
//! | under contention | of all recorders that see a threshold crossed, exactly one moves the breaker and emits one event (loom-checked) | R4j CAS; failsafe-rs lock |
//! | closing | resets the window | same |
//! | manual | `force_open` rejects all; `disable` admits all and records nothing; `metrics_only` records, never opens; `reset` closes with a fresh window; each starts a new epoch | R4j FORCED_OPEN / DISABLED / METRICS_ONLY; Polly Isolate/Close |
//! | events | `on_transition`, called after the change, outside any lock; counts in [`Stats`] | |
//! | listener panics | caught on every path (also while a panicking call unwinds through its permit, where an escaping panic would abort), counted in `Stats::listener_panics`, reported by the panic hook; state and caller's result unaffected | |
//! | cancellation, panic | a permit dropped unrecorded is Ignored; dropped by a panic, a Failure | gobreaker counts a panic as failure |
//!
//! Under races the window is exact up to the records in flight: a result
//! that races a transition may land in the new window, and a time-window
//! record that races the eviction of its bucket is counted one window late.
//!
//! ## Retry
//!
//! | point | weir | where peers differ |
//! |---|---|---|
//! | attempts | `max_attempts(n)` counts every call, the first included: `n = 3` is one call and two retries | Polly `MaxRetryAttempts = 3` is 4 calls; fs-go `maxRetries = 2` is 3 |
//! | delays | retry n (1-based): constant `base`; linear `base * n`; exponential `base * multiplier^(n-1)` (multiplier 2), all capped at `max_delay`, saturating on overflow | Polly exponential `Delay * 2^attempt` from 0; R4j multiplier 1.5 |
//! | jitter | full `U[0, d]`; equal `U[d/2, d]`; decorrelated `U[base, 3 * previous]` capped (the AWS form) | R4j and gRPC ±factor; Polly decorrelated v2 |
//! | deadline | `deadline(total)` from the start of the run; a sleep that would end past it is not started: the run returns the last result | tenacity `stop_after_delay` overshoots by the last sleep |
//! | filters | `retry_if` over the error; `retry_on_value` over `Ok` values; when attempts run out a retried value is returned as `Ok`; in a `Policy`, weir's own outcomes follow [the policy's rule](crate::policy#which-outcomes-a-retry-retries) | R4j returns the last result; fs-go wraps it in ExceededError |
//! | result on give-up | the last result unchanged (the caller's `E`) | tenacity raises RetryError |
//! | server hint | `honor_retry_after` (the error implements [`RetryAfter`]) or `retry_after_with(closure)`: waited for plus up to `retry_after_jitter` of it (default 0.2); a hint above `max_retry_after` (default 30 s) gives up at once with its error; backoff restarts after it; deadline and budget still apply | gRPC pushback: the delay exactly, same restart rule, no cap |
//! | budget | windowed token bucket: `min_per_second * window` + `ratio` per run − 1 per retry, over a sliding window; shared through `Arc`; rejects, never blocks | Finagle (same shape); gRPC token throttle; fs-go concurrency-based |
//! | cancellation | dropping the run's future ends it at once, in an attempt or a sleep; in a `Policy`, a token ends it with `Error::Cancelled` (`call_with_cancel`, `cancel_on`), never retried | Polly: a cancellation outcome |
//! | events | `on_retry` before each sleep: attempt that failed, delay, error | |
//! | state | per run ([`RetryState`]); concurrent runs share nothing but the budget | tenacity shared statistics across calls |
//!
//! ## Timeout
//!
//! | point | weir | where peers differ |
//! |---|---|---|
//! | cancellation | the inner future is dropped at the deadline, before the caller even sees [`Elapsed`] | R4j cannot stop a CompletableFuture; Polly is cooperative |
//! | tie | a future ready in the same poll as the timer wins | |
//! | per attempt and overall | `timeout` inside `Retry::run`'s operation is per attempt; `timeout_at(deadline)` around the run is the overall deadline | |

#![forbid(unsafe_code)]

pub(crate) mod breaker;
#[cfg(feature = "test-util")]
pub(crate) mod fuzz;
pub(crate) mod hedge;
pub(crate) mod retry;
pub(crate) mod ring;
pub(crate) mod timeout;

pub use breaker::{
    BreakerError, CallPermit, CircuitBreakerBuilder, CircuitOpen, Classify, ErrorIsFailure,
    Outcome, State, Stats, Transition,
};
pub use hedge::HedgeBuilder;
pub use retry::{
    AnyError, ErrorFilter, FromRetryAfter, GiveUp, HintSource, Jitter, NoHint, NoHook, NoValue,
    RetryAfter, RetryBudgetBuilder, RetryBuilder, RetryCause, RetryEvent, RetryHook, RetryState,
    ValueFilter,
};
pub use timeout::{Elapsed, TimeoutFuture, timeout, timeout_at};
