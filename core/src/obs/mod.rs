//! Observability: tracing events and spans (feature `tracing`) and metrics
//! (feature `metrics`).
//!
//! Every component reports its decisions through this module. The features
//! only add: without them nothing here is compiled into the components.
//!
//! # Names
//!
//! Each component has a name, set by the `name` setter of its builder
//! (`CircuitBreaker::builder().name("search")`, `Policy::new(rt).name(..)`,
//! `AdaptiveLimiter::new(..).name(..)`); unset, it is `"default"`. The name
//! is the `name` field of every event and the `name` label of every metric.
//!
//! # Metrics (feature `metrics`)
//!
//! Named `weir_<component>_<what>[_<unit>]`: counters end in `_total`,
//! durations are histograms in `_seconds`, gauges have no suffix. Every
//! series carries `name`; the labels below are its others. Handles are
//! registered when the component is built (a policy: when its first layer
//! is added), with the recorder in force then: install the recorder
//! (`metrics::set_global_recorder`) before building components.
//!
//! | metric | kind | labels | counts |
//! |---|---|---|---|
//! | `weir_breaker_state` | gauge | | 0 closed, 1 open, 2 half-open, 3 forced open, 4 disabled, 5 metrics only |
//! | `weir_breaker_transitions_total` | counter | `to` (`closed`, `open`, `half_open`, `forced_open`, `disabled`, `metrics_only`) | state changes (as `Stats::opened`, `half_opened`, `closed`) |
//! | `weir_breaker_calls_total` | counter | `outcome` (`success`, `failure`, `ignored`) | outcomes recorded |
//! | `weir_breaker_slow_calls_total` | counter | | calls over the slow-call duration |
//! | `weir_breaker_rejected_total` | counter | | calls refused (`Stats::rejected`) |
//! | `weir_retry_retries_total` | counter | | retries scheduled |
//! | `weir_retry_delay_seconds` | histogram | | the delay before each retry |
//! | `weir_retry_gave_up_total` | counter | `reason` (`attempts`, `deadline`, `budget`, `retry_after_too_long`) | loops that stopped retrying a retryable failure |
//! | `weir_hedge_hedges_total` | counter | | hedges started |
//! | `weir_hedge_budget_denied_total` | counter | | hedges the retry budget refused |
//! | `weir_timeout_timeouts_total` | counter | | attempts a policy's timeout layer dropped (named after the policy) |
//! | `weir_policy_calls_total` | counter | `outcome` (`ok`, `error`, `timeout`, `rate_limited`, `circuit_open`, `rejected`, `cancelled`, `closed`) | finished policy calls |
//! | `weir_bulkhead_admitted_total` | counter | | calls admitted (`BulkheadStats::admitted`) |
//! | `weir_bulkhead_rejected_total` | counter | `reason` (`queue_full`, `wait_timeout`, `closed`, `oversized`) | calls refused (`BulkheadStats::rejected_*`) |
//! | `weir_bulkhead_cancelled_total` | counter | | waiters dropped before an outcome |
//! | `weir_bulkhead_in_flight` | gauge | | permits held |
//! | `weir_bulkhead_queued` | gauge | | permits asked for by waiters |
//! | `weir_bulkhead_max_concurrent` | gauge | | the limit in force (moved by an adaptive limiter) |
//! | `weir_adaptive_samples_total` | counter | | samples given to the algorithm |
//! | `weir_adaptive_dropped_total` | counter | | of those, drops |
//! | `weir_adaptive_ignored_total` | counter | | calls completed as ignored |
//! | `weir_adaptive_latency_seconds` | histogram | | sampled latencies |
//! | `weir_worker_pool_threads` | gauge | | threads alive |
//! | `weir_worker_pool_threads_started_total` | counter | | threads started (the pool grew) |
//! | `weir_worker_pool_threads_exited_total` | counter | | threads exited (the pool shrank) |
//! | `weir_worker_pool_submitted_total` | counter | | jobs accepted |
//! | `weir_worker_pool_rejected_total` | counter | | jobs refused |
//! | `weir_worker_pool_jobs_total` | counter | `outcome` (`completed`, `panicked`) | jobs run |
//! | `weir_worker_pool_job_duration_seconds` | histogram | | how long each job ran |
//! | `weir_rate_admitted_total` | counter | | units taken: checks admitted and waits reserved |
//! | `weir_rate_limited_total` | counter | | `try_acquire` checks refused |
//! | `weir_rate_delayed_total` | counter | | `acquire` calls that had to wait |
//! | `weir_rate_delay_seconds` | histogram | | how long each of those waits |
//! | `weir_keyed_admitted_total` | counter | | checks admitted, over all keys |
//! | `weir_keyed_limited_total` | counter | | checks refused, over all keys |
//! | `weir_keyed_key_limit_total` | counter | | new keys refused at `max_keys` |
//! | `weir_resource_pool_size` | gauge | | slots taken (resources alive or being created) |
//! | `weir_resource_pool_created_total` | counter | | resources created (the pool grew; `PoolStats::created`) |
//! | `weir_resource_pool_discarded_total` | counter | | resources dropped for good (the pool shrank; `PoolStats::discarded`) |
//! | `weir_resource_pool_timeouts_total` | counter | | `get`s past the acquire timeout |
//! | `weir_resource_pool_create_errors_total` | counter | | creates that failed or panicked |
//! | `weir_scheduler_aborted_total` | counter | | jobs withdrawn by `Shutdown::Abort` |
//! | `weir_semaphore_refused_total` | counter | | `try_acquire` calls refused |
//! | `weir_semaphore_permits_added_total` | counter | | permits added by `add_permits` |
//! | `weir_semaphore_permits_forgotten_total` | counter | | permits removed by `forget_permits` |
//! | `weir_priority_queue_pushed_total` | counter | | values pushed (`PriorityQueueStats::pushed`) |
//! | `weir_priority_queue_popped_total` | counter | | values popped (`PriorityQueueStats::popped`) |
//! | `weir_priority_queue_refused_total` | counter | `reason` (`full`, `closed`) | pushes refused (`PriorityQueueStats::refused_*`; a `push` that waits for room is not refused) |
//!
//! Not instrumented yet: the channels and the delay queue. The standalone [`timeout`](crate::resilience::timeout)
//! emits its event but counts no metric (it has no name).
//!
//! # Tracing (feature `tracing`)
//!
//! Targets are `weir::<component>`, so `RUST_LOG=weir::breaker=info` (with
//! `tracing-subscriber`'s `EnvFilter`) picks one component.
//!
//! | target | level | message | fields |
//! |---|---|---|---|
//! | `weir::breaker` | INFO | circuit breaker state changed | `name`, `from`, `to` |
//! | `weir::breaker` | DEBUG | circuit breaker rejected a call | `name`, `remaining` |
//! | `weir::retry` | DEBUG | retry scheduled | `name`, `attempt` (the one that failed), `delay`, `reason` (`error`, `value`, `timeout`, `rate_limited`, `circuit_open`, `rejected`) |
//! | `weir::retry` | DEBUG | retry gave up | `name`, `attempt`, `reason`, `gave_up` |
//! | `weir::hedge` | DEBUG | hedge started / hedge refused by the retry budget | `name`, `hedge`, `delay` |
//! | `weir::timeout` | DEBUG | timed out | `name`, `after` (a policy's timeout layer); `deadline` ([`timeout`](crate::resilience::timeout), [`Timeout`](crate::Timeout): no name) |
//! | `weir::bulkhead` | DEBUG | bulkhead rejected a call | `name`, `reason` |
//! | `weir::rate` | DEBUG | rate limiter refused a call | `name`, `retry_after` |
//! | `weir::rate` | DEBUG | rate limiter delayed a call | `name`, `wait` |
//! | `weir::rate` | DEBUG | policy refused a call over its rate limit | `retry_after` (a policy's `rate_limit_or_reject` layer, inside its span) |
//! | `weir::keyed` | DEBUG | keyed rate limiter refused a call | `name`, `retry_after` |
//! | `weir::keyed` | DEBUG | keyed rate limiter refused a new key: max_keys reached | `name`, `max_keys` |
//! | `weir::bulkhead` | INFO | bulkhead limit changed | `name`, `from`, `to` |
//! | `weir::adaptive` | TRACE | adaptive limiter sample | `name`, `latency`, `in_flight`, `dropped`, `limit` |
//! | `weir::worker_pool` | DEBUG | worker pool grew / shrank / rejected a job | `name`, `threads` |
//! | `weir::worker_pool` | INFO | worker pool shutting down | `name`, `cancel_queued` |
//! | `weir::resource_pool` | DEBUG | resource pool grew / shrank / get timed out | `name`, `size` |
//! | `weir::resource_pool` | WARN | resource pool could not create a resource | `name` |
//! | `weir::scheduler` | INFO | scheduler shutting down / shut down | `name`, `mode`, `aborted` |
//! | `weir::semaphore` | TRACE | semaphore refused a try_acquire | `name`, `permits`, `reason` |
//! | `weir::semaphore` | DEBUG | semaphore permits added / forgotten | `name`, `permits` |
//! | `weir::semaphore` | INFO | semaphore closed | `name` |
//! | `weir::queue` | DEBUG | priority queue refused a push | `name`, `lane`, `reason` (`full`, `closed`) |
//! | `weir::queue` | INFO | priority queue closed | `name` |
//!
//! Spans (target `weir::policy`, level INFO): `weir.policy` around each
//! [`Policy::call`](crate::Policy::call), with `name` and, when the
//! call runs inside a [`context`](crate::context) scope, `context` (the
//! context's `Display`, recorded at the call's first poll); inside it,
//! `weir.attempt` around each attempt a retry layer makes, with `attempt`
//! (1 for the first call), and `weir.hedge` around each attempt a hedge
//! makes, with `hedge` (0 for the first, 1 for the first hedge, ...).
//! An event inside an attempt (a timeout, a rejection) carries them all.
//!
//! ```
//! # #[cfg(feature = "test-util")] {
//! use std::time::Duration;
//! use weir_core::Policy;
//! use weir_core::{CircuitBreaker, Retry};
//! use weir_core::test_util::VirtualRuntime;
//!
//! let rt = VirtualRuntime::new();
//! let breaker = CircuitBreaker::builder().name("search").build(rt.clone()).unwrap();
//! let retry = Retry::constant(Duration::from_millis(10)).name("search").build().unwrap();
//! let policy = Policy::new(rt.clone()).name("search").retry(retry).breaker(breaker);
//! assert_eq!(rt.block_on(policy.call(|| async { Ok::<_, ()>(1) })), Ok(1));
//! # }
//! ```
//!
//! # Zero cost when off
//!
//! Every component reports through one hook in this module, one call per
//! decision; without the features the hook is empty and compiles to
//! nothing. With them on, events go through `tracing`'s static callsites
//! (a disabled level or no subscriber costs one relaxed load, no
//! allocation) and metric handles are registered once, when the component
//! is built, so an update is an atomic add on the recorder's handle (a no-op
//! handle when no recorder is installed).

#![forbid(unsafe_code)]

/// A `tracing` event with the target and level given, when the `tracing`
/// feature is on; nothing at all otherwise (the fields are not evaluated).
macro_rules! event {
    ($target:literal, $lvl:ident, $($rest:tt)+) => {
        #[cfg(feature = "tracing")]
        {
            ::tracing::event!(target: $target, ::tracing::Level::$lvl, $($rest)+);
        }
    };
}

/// `Debug` for a hook: what it reports is not part of the component's
/// state.
macro_rules! opaque_debug {
    ($t:ident) => {
        impl ::core::fmt::Debug for $t {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(stringify!($t))
            }
        }
    };
}

#[cfg(feature = "metrics")]
mod help;
#[cfg(feature = "metrics")]
mod metric;
mod name;

pub(crate) mod adaptive;
pub(crate) mod breaker;
pub(crate) mod bulkhead;
pub(crate) mod hedge;
pub(crate) mod policy;
pub(crate) mod queue;
pub(crate) mod rate;
pub(crate) mod resource_pool;
pub(crate) mod retry;
pub(crate) mod sched;
pub(crate) mod semaphore;
pub(crate) mod timeout;
pub(crate) mod worker_pool;

pub(crate) use name::Name;
