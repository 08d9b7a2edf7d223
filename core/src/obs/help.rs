//! The help text of every metric, as the exporter shows it (`# HELP`):
//! one line each, the table of the module docs in short.

/// `(metric, help)`, in the order of the module docs' table.
pub(crate) const HELP: &[(&str, &str)] = &[
    (
        "weir_breaker_state",
        "The breaker's state: 0 closed, 1 open, 2 half-open, 3 forced open, 4 disabled, 5 metrics only.",
    ),
    (
        "weir_breaker_transitions_total",
        "Breaker state changes, by the state entered.",
    ),
    (
        "weir_breaker_calls_total",
        "Call outcomes the breaker recorded.",
    ),
    (
        "weir_breaker_slow_calls_total",
        "Calls over the slow-call duration.",
    ),
    ("weir_breaker_rejected_total", "Calls the breaker refused."),
    ("weir_retry_retries_total", "Retries scheduled."),
    ("weir_retry_delay_seconds", "The delay before each retry."),
    (
        "weir_retry_gave_up_total",
        "Loops that stopped retrying a retryable failure.",
    ),
    ("weir_hedge_hedges_total", "Hedges started."),
    (
        "weir_hedge_budget_denied_total",
        "Hedges the retry budget refused.",
    ),
    (
        "weir_timeout_timeouts_total",
        "Attempts a policy's timeout layer dropped (named after the policy).",
    ),
    (
        "weir_policy_calls_total",
        "Finished policy calls, by outcome.",
    ),
    (
        "weir_bulkhead_admitted_total",
        "Calls the bulkhead admitted.",
    ),
    (
        "weir_bulkhead_rejected_total",
        "Calls the bulkhead refused, by reason.",
    ),
    (
        "weir_bulkhead_cancelled_total",
        "Waiters dropped before an outcome.",
    ),
    ("weir_bulkhead_in_flight", "Permits held."),
    ("weir_bulkhead_queued", "Permits asked for by waiters."),
    (
        "weir_bulkhead_max_concurrent",
        "The limit in force (moved by an adaptive limiter).",
    ),
    (
        "weir_adaptive_samples_total",
        "Finished calls given to the limit algorithm.",
    ),
    (
        "weir_adaptive_dropped_total",
        "Samples of dropped calls (overload or timeout).",
    ),
    ("weir_adaptive_ignored_total", "Calls completed as ignored."),
    (
        "weir_adaptive_latency_seconds",
        "Latencies of the sampled calls.",
    ),
    ("weir_worker_pool_threads", "Threads alive."),
    (
        "weir_worker_pool_threads_started_total",
        "Threads started (the pool grew).",
    ),
    (
        "weir_worker_pool_threads_exited_total",
        "Threads exited (the pool shrank).",
    ),
    ("weir_worker_pool_submitted_total", "Jobs accepted."),
    ("weir_worker_pool_rejected_total", "Jobs refused."),
    ("weir_worker_pool_jobs_total", "Jobs run, by outcome."),
    (
        "weir_worker_pool_job_duration_seconds",
        "How long each job ran.",
    ),
    (
        "weir_rate_admitted_total",
        "Checks admitted and waits reserved.",
    ),
    ("weir_rate_limited_total", "Checks refused."),
    ("weir_rate_delayed_total", "Acquires that had to wait."),
    (
        "weir_rate_delay_seconds",
        "How long each delayed acquire waits.",
    ),
    (
        "weir_keyed_admitted_total",
        "Checks admitted, over all keys.",
    ),
    ("weir_keyed_limited_total", "Checks refused, over all keys."),
    (
        "weir_keyed_key_limit_total",
        "New keys refused at max_keys.",
    ),
    (
        "weir_resource_pool_size",
        "Slots taken (resources alive or being created).",
    ),
    (
        "weir_resource_pool_created_total",
        "Resources created (the pool grew).",
    ),
    (
        "weir_resource_pool_discarded_total",
        "Resources dropped for good (the pool shrank).",
    ),
    (
        "weir_resource_pool_timeouts_total",
        "Gets past the acquire timeout.",
    ),
    (
        "weir_resource_pool_create_errors_total",
        "Creates that failed or panicked.",
    ),
    (
        "weir_scheduler_aborted_total",
        "Jobs withdrawn by Shutdown::Abort.",
    ),
    ("weir_semaphore_refused_total", "Try_acquire calls refused."),
    (
        "weir_semaphore_permits_added_total",
        "Permits added by add_permits.",
    ),
    (
        "weir_semaphore_permits_forgotten_total",
        "Permits removed by forget_permits.",
    ),
    (
        "weir_priority_queue_pushed_total",
        "Values pushed onto a priority queue.",
    ),
    (
        "weir_priority_queue_popped_total",
        "Values popped from a priority queue.",
    ),
    (
        "weir_priority_queue_refused_total",
        "Pushes refused: full (try_push) or closed.",
    ),
];

/// The help text of `metric`.
pub(crate) fn help(metric: &str) -> Option<&'static str> {
    HELP.iter().find(|(m, _)| *m == metric).map(|&(_, h)| h)
}
