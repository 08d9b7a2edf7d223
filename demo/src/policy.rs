//! The per-server policy of the second run, built from weir's components:
//! `Retry` around `CircuitBreaker` around `RateLimiter` around a per-attempt
//! `timeout`. Concurrency and priority come from the run's per-server
//! `Scheduler` (see [`crate::run`]).
//!
//! Composed by hand here because weir's `Policy` pipeline was not committed
//! when the demo was wired; when it is, [`ServerPolicy::call`] becomes one
//! `policy.call(..)`.

use core::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use weir::limit::RateLimiter;
use weir::resilience::{
    CircuitBreaker, FromRetryAfter, Jitter, NoValue, Outcome, Retry, RetryAfter, RetryEvent,
    RetryHook, State, timeout,
};
use weir::{ConfigError, Runtime};

use crate::error::CallError;
use crate::spec::ServerSpec;

/// What the policy did, beyond what weir's components count themselves.
#[derive(Debug, Default)]
pub struct PolicyCounters {
    /// Retries made (attempts after the first).
    pub retries: AtomicU64,
    /// Calls now waiting out a backoff.
    pub retrying: AtomicU64,
    /// Attempts cut off by the timeout.
    pub timeouts: AtomicU64,
}

/// Counts each retry as it is decided; the attempt that follows the sleep
/// takes it off the `retrying` gauge.
#[derive(Debug, Clone)]
pub struct RetryGauge(Arc<PolicyCounters>);

impl RetryHook<CallError> for RetryGauge {
    fn on_retry(&self, _: &RetryEvent<'_, CallError>) {
        self.0.retries.fetch_add(1, Ordering::Relaxed);
        self.0.retrying.fetch_add(1, Ordering::Relaxed);
    }
}

impl RetryAfter for CallError {
    fn retry_after(&self) -> Option<Duration> {
        CallError::retry_after(self)
    }
}

/// The retry policy's type: retryable errors only, server and breaker
/// hints honoured, every retry counted.
pub type DemoRetry = Retry<fn(&CallError) -> bool, NoValue, FromRetryAfter, RetryGauge>;

/// The policy for one server.
#[derive(Debug)]
pub struct ServerPolicy<R: Runtime> {
    rt: R,
    /// Paced just under the server's quota.
    pub rate: RateLimiter<R>,
    /// Opens when half the recent calls fail for the server's own reasons.
    pub breaker: CircuitBreaker<R>,
    /// Exponential backoff with equal jitter; a server's `retry_after` or
    /// the breaker's remaining open time replaces the computed delay.
    pub retry: DemoRetry,
    /// The limit on one attempt.
    pub timeout: Duration,
    /// Calls in flight at once to this server (the scheduler's bound).
    pub concurrency: usize,
    /// What the policy did.
    pub counters: Arc<PolicyCounters>,
}

impl<R: Runtime> ServerPolicy<R> {
    /// The policy matched to `spec`: 90% of its quota with half its burst,
    /// an attempt timeout a little over twice its slowest usual answer.
    ///
    /// # Errors
    ///
    /// When a component rejects its configuration (a spec with a zero
    /// quota, for one).
    pub fn for_server(rt: R, spec: &ServerSpec, seed: u64) -> Result<Self, ConfigError> {
        let counters = Arc::new(PolicyCounters::default());
        let rate = RateLimiter::builder()
            .rate(spec.quota_per_sec * 9 / 10, Duration::from_secs(1))
            .burst((spec.burst / 2).max(1))
            .build(rt.clone())?;
        let breaker = CircuitBreaker::builder()
            .window_count(20)
            .min_calls(10)
            .failure_rate(0.5)
            .open_for(Duration::from_millis(250))
            .half_open_calls(3)
            .half_open_timeout(Duration::from_millis(500))
            .build(rt.clone())?;
        let retry = Retry::exponential(Duration::from_millis(50))
            .max_delay(Duration::from_millis(500))
            .jitter(Jitter::Equal)
            .max_attempts(12)
            .seed(seed)
            .retry_if(CallError::is_retryable as fn(&CallError) -> bool)
            .honor_retry_after()
            .on_retry(RetryGauge(counters.clone()))
            .build()?;
        Ok(ServerPolicy {
            rate,
            breaker,
            retry,
            timeout: spec.latency.1 * 2 + Duration::from_millis(50),
            concurrency: 16,
            counters,
            rt,
        })
    }

    /// The breaker's state, for the progress bar.
    pub fn breaker_state(&self) -> State {
        self.breaker.state()
    }

    /// Runs `attempt` under the policy until it succeeds, fails for good or
    /// the retry policy gives up; returns the last outcome.
    ///
    /// # Errors
    ///
    /// The last attempt's error, named: [`CallError::CircuitOpen`] and
    /// [`CallError::Timeout`] are the policy's own.
    pub async fn call<T, F, Fut>(&self, mut attempt: F) -> Result<T, CallError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, CallError>>,
    {
        let mut first = true;
        self.retry
            .run(&self.rt, move || {
                if !std::mem::take(&mut first) {
                    self.counters.retrying.fetch_sub(1, Ordering::Relaxed);
                }
                self.once(attempt())
            })
            .await
    }

    async fn once<T>(
        &self,
        call: impl Future<Output = Result<T, CallError>>,
    ) -> Result<T, CallError> {
        let permit = self
            .breaker
            .try_acquire()
            .map_err(|open| CallError::CircuitOpen {
                retry_after: open.remaining,
            })?;
        self.rate.acquire().await;
        let started = self.rt.now();
        let result = match timeout(&self.rt, self.timeout, call).await {
            Ok(r) => r,
            Err(_) => {
                self.counters.timeouts.fetch_add(1, Ordering::Relaxed);
                Err(CallError::Timeout)
            }
        };
        let outcome = match &result {
            Ok(_) => Outcome::Success,
            Err(e) if e.is_server_fault() => Outcome::Failure,
            Err(_) => Outcome::Ignored,
        };
        permit.record(outcome, self.rt.now() - started);
        result
    }
}
