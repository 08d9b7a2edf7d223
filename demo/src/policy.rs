//! The per-server policy of the second run: one weir `Policy` pipeline,
//! retry → circuit breaker → bulkhead → rate limit → per-attempt timeout.
//! Priority order comes from the run's per-server `Scheduler` (see
//! [`crate::run`]).

use core::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use weir::limit::{Bulkhead, RateLimiter};
use weir::policy::{
    BreakerLayer, BulkheadLayer, Error, Identity, Policy, RateLimitLayer, RetryLayer, Stack,
    TimeoutLayer,
};
use weir::resilience::{
    CircuitBreaker, FromRetryAfter, Jitter, NoValue, Outcome, Retry, RetryAfter, RetryEvent,
    RetryHook, State,
};
use weir::{ConfigError, Runtime};

use crate::error::CallError;
use crate::spec::ServerSpec;

/// What the policy did, beyond what weir's components count themselves.
#[derive(Debug, Default)]
pub struct PolicyCounters {
    /// Retries made (attempts after the first).
    pub retries: AtomicU64,
    /// Calls in progress that have had a failed attempt (so are being
    /// retried, or about to give up).
    pub retrying: AtomicU64,
    /// Attempts cut off before they finished (by the timeout).
    pub timeouts: AtomicU64,
}

/// Counts each retry as it is decided.
#[derive(Debug, Clone)]
pub struct RetryCounter(Arc<PolicyCounters>);

impl RetryHook<CallError> for RetryCounter {
    fn on_retry(&self, _: &RetryEvent<'_, CallError>) {
        self.0.retries.fetch_add(1, Ordering::Relaxed);
    }
}

impl RetryAfter for CallError {
    fn retry_after(&self) -> Option<Duration> {
        CallError::retry_after(self)
    }
}

/// Which results tell the breaker something about the server: being over
/// quota is the client's doing, so it is ignored, not a failure.
pub type Classifier = fn(&Result<(), CallError>) -> Outcome;

fn classify(result: &Result<(), CallError>) -> Outcome {
    match result {
        Ok(()) => Outcome::Success,
        Err(e) if e.is_server_fault() => Outcome::Failure,
        Err(_) => Outcome::Ignored,
    }
}

/// The retry policy's type: retryable errors only, server and breaker
/// hints honoured, every retry counted.
pub type DemoRetry = Retry<fn(&CallError) -> bool, NoValue, FromRetryAfter, RetryCounter>;

/// The pipeline's type, outermost layer first.
pub type Pipeline<R> = Policy<
    R,
    Stack<
        Stack<
            Stack<
                Stack<
                    Stack<
                        Identity,
                        RetryLayer<fn(&CallError) -> bool, NoValue, FromRetryAfter, RetryCounter>,
                    >,
                    BreakerLayer<R, Classifier>,
                >,
                BulkheadLayer<R>,
            >,
            RateLimitLayer<R, R>,
        >,
        TimeoutLayer,
    >,
>;

/// The policy for one server.
#[derive(Debug)]
pub struct ServerPolicy<R: Runtime> {
    /// The pipeline every call goes through.
    pub pipeline: Pipeline<R>,
    /// The breaker inside the pipeline (a shared handle), for its state and
    /// counts.
    pub breaker: CircuitBreaker<R, Classifier>,
    /// Calls in progress at once for this server, backoff sleeps included
    /// (the scheduler's bound); the bulkhead bounds requests on the wire.
    pub concurrency: usize,
    /// What the policy did.
    pub counters: Arc<PolicyCounters>,
}

impl<R: Runtime> ServerPolicy<R> {
    /// The policy matched to `spec`:
    ///
    /// * retry: exponential from 50 ms to 500 ms with equal jitter, 20
    ///   attempts, a server's `retry_after` or the breaker's remaining open
    ///   time in place of the computed delay;
    /// * breaker: opens when half of the last 20 calls (at least 10) failed
    ///   for the server's own reasons, for 250 ms, then 3 probes;
    /// * bulkhead: 16 requests on the wire, the rest queued;
    /// * rate limit: 90% of the server's quota, half its burst;
    /// * timeout: a little over twice the server's slowest usual answer.
    ///
    /// # Errors
    ///
    /// When a component rejects its configuration (a spec with a zero
    /// quota, for one).
    pub fn for_server(rt: R, spec: &ServerSpec, seed: u64) -> Result<Self, ConfigError> {
        let counters = Arc::new(PolicyCounters::default());
        let retry = Retry::exponential(Duration::from_millis(50))
            .max_delay(Duration::from_millis(500))
            .jitter(Jitter::Equal)
            .max_attempts(20)
            .seed(seed)
            .retry_if(CallError::is_retryable as fn(&CallError) -> bool)
            .honor_retry_after()
            .on_retry(RetryCounter(counters.clone()))
            .build()?;
        let breaker = CircuitBreaker::builder()
            .window_count(20)
            .min_calls(10)
            .failure_rate(0.5)
            .open_for(Duration::from_millis(250))
            .half_open_calls(3)
            .half_open_timeout(Duration::from_millis(500))
            .classifier(classify as Classifier)
            .build(rt.clone())?;
        let bulkhead = Bulkhead::builder()
            .max_concurrent(16)
            .max_queued(u32::MAX / 2)
            .build(rt.clone())?;
        let rate = RateLimiter::builder()
            .rate(spec.quota_per_sec * 9 / 10, Duration::from_secs(1))
            .burst((spec.burst / 2).max(1))
            .build(rt.clone())?;
        let pipeline = Policy::new(rt)
            .retry(retry)
            .breaker(breaker.clone())
            .bulkhead(bulkhead)
            .rate_limit(rate)
            .timeout(spec.latency.1 * 2 + Duration::from_millis(50));
        Ok(ServerPolicy {
            pipeline,
            breaker,
            concurrency: 32,
            counters,
        })
    }

    /// The breaker's state, for the progress bar.
    pub fn breaker_state(&self) -> State {
        self.breaker.state()
    }

    /// Runs `attempt` through the pipeline; returns the last outcome.
    ///
    /// # Errors
    ///
    /// The last attempt's error, named: [`CallError::CircuitOpen`],
    /// [`CallError::Timeout`] and [`CallError::Rejected`] are the policy's
    /// own.
    pub async fn call<F, Fut>(&self, attempt: F) -> Result<(), CallError>
    where
        F: Fn() -> Fut + Send + Sync,
        Fut: Future<Output = Result<(), CallError>> + Send,
    {
        let failed_once = AtomicBool::new(false);
        let counters = &*self.counters;
        let result = self
            .pipeline
            .call(|| {
                let call = attempt();
                let failed_once = &failed_once;
                async move {
                    let mut watch = CutOff {
                        counters,
                        failed_once,
                        done: false,
                    };
                    let r = call.await;
                    watch.done = true;
                    if r.is_err() {
                        watch.failed();
                    }
                    r
                }
            })
            .await;
        if failed_once.load(Ordering::Relaxed) {
            counters.retrying.fetch_sub(1, Ordering::Relaxed);
        }
        result.map_err(|e| match e {
            Error::Inner(e) => e,
            Error::Timeout => CallError::Timeout,
            Error::CircuitOpen { remaining } => CallError::CircuitOpen {
                retry_after: remaining,
            },
            Error::RateLimited { retry_after } => CallError::RateLimited {
                retry_after: Some(retry_after),
            },
            _ => CallError::Rejected,
        })
    }
}

/// Watches one attempt: one dropped before it finished was cut off by the
/// timeout (nothing else in the pipeline drops an attempt); the first failed
/// attempt of a call puts the call on the `retrying` gauge.
struct CutOff<'a> {
    counters: &'a PolicyCounters,
    failed_once: &'a AtomicBool,
    done: bool,
}

impl CutOff<'_> {
    fn failed(&self) {
        if !self.failed_once.swap(true, Ordering::Relaxed) {
            self.counters.retrying.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Drop for CutOff<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.counters.timeouts.fetch_add(1, Ordering::Relaxed);
            self.failed();
        }
    }
}
