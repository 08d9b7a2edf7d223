//! The per-server policy of the second run: rate limit, circuit breaker,
//! per-attempt timeout and retry, composed by hand.
//!
//! This is the seam where weir's components plug in. Each field names the
//! weir component it stands for; see [`crate::stand_in`] for the ones that
//! are not weir's yet.

use core::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_lite::FutureExt;
use parking_lot::Mutex;
use weir::Runtime;

use crate::error::CallError;
use crate::spec::ServerSpec;
use crate::stand_in::breaker::{Breaker, BreakerState};
use crate::stand_in::rate::RateGate;
use crate::stand_in::retry::Backoff;

/// What the policy did, counted for the report and the progress bar.
#[derive(Debug, Default)]
pub struct PolicyCounters {
    /// Retries made (attempts after the first).
    pub retries: AtomicU64,
    /// Calls now waiting out a backoff.
    pub retrying: AtomicU64,
    /// Attempts the breaker refused without sending.
    pub rejections: AtomicU64,
    /// Attempts cut off by the timeout.
    pub timeouts: AtomicU64,
}

/// The policy for one server.
///
/// Order, outermost first: retry (with backoff, honouring `retry_after`),
/// circuit breaker, rate limit, timeout per attempt, the call. Concurrency is
/// bounded by the driver, which runs [`ServerPolicy::concurrency`] workers
/// per server.
#[derive(Debug)]
pub struct ServerPolicy<R: Runtime> {
    rt: R,
    /// Stands for `weir::RateLimiter`: paced just under the server's quota.
    pub rate: RateGate<R>,
    /// Stands for `weir::CircuitBreaker`.
    pub breaker: Breaker<R>,
    /// Stands for `weir::Retry`.
    pub backoff: Backoff,
    /// Stands for `weir::Timeout`: the limit on one attempt.
    pub timeout: Duration,
    /// Calls in flight at once to this server (stands for `weir::Bulkhead`).
    pub concurrency: usize,
    /// What the policy did.
    pub counters: PolicyCounters,
    rng: Mutex<fastrand::Rng>,
}

impl<R: Runtime> ServerPolicy<R> {
    /// The policy matched to `spec`: 90% of its quota with half its burst,
    /// an attempt timeout a little over its slowest usual answer.
    pub fn for_server(rt: R, spec: &ServerSpec, seed: u64) -> Self {
        let per_sec = (spec.quota_per_sec * 9 / 10).max(1);
        ServerPolicy {
            rate: RateGate::new(rt.clone(), per_sec, (spec.burst / 2).max(1)),
            breaker: Breaker::new(rt.clone(), 20, 10, 0.5, Duration::from_millis(250), 3),
            backoff: Backoff {
                base: Duration::from_millis(50),
                cap: Duration::from_millis(500),
                max_attempts: 12,
            },
            timeout: spec.latency.1 * 2 + Duration::from_millis(50),
            concurrency: 16,
            counters: PolicyCounters::default(),
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
            rt,
        }
    }

    /// The breaker's state, for the progress bar.
    pub fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    /// Times the breaker opened.
    pub fn breaker_trips(&self) -> u64 {
        self.breaker.trips()
    }

    /// Runs `attempt` under the policy until it succeeds, fails for good or
    /// the attempts are used up; returns the last outcome.
    pub async fn call<T, F, Fut>(&self, mut attempt: F) -> Result<T, CallError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, CallError>>,
    {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let outcome = self.once(&mut attempt).await;
            let err = match outcome {
                Ok(v) => return Ok(v),
                Err(e) if !e.is_retryable() => return Err(e),
                Err(e) => e,
            };
            let delay = self
                .backoff
                .delay(attempts, err.retry_after(), &mut self.rng.lock());
            let Some(delay) = delay else {
                return Err(err);
            };
            self.counters.retrying.fetch_add(1, Ordering::Relaxed);
            self.rt.sleep(delay).await;
            self.counters.retrying.fetch_sub(1, Ordering::Relaxed);
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
        }
    }

    async fn once<T, F, Fut>(&self, attempt: &mut F) -> Result<T, CallError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, CallError>>,
    {
        let permit = match self.breaker.try_acquire() {
            Ok(p) => p,
            Err(retry_after) => {
                self.counters.rejections.fetch_add(1, Ordering::Relaxed);
                return Err(CallError::CircuitOpen { retry_after });
            }
        };
        self.rate.acquire().await;
        let timeout = self.timeout;
        let outcome = async { attempt().await }
            .or(async {
                self.rt.sleep(timeout).await;
                Err(CallError::Timeout)
            })
            .await;
        if matches!(outcome, Err(CallError::Timeout)) {
            self.counters.timeouts.fetch_add(1, Ordering::Relaxed);
        }
        let failed = match &outcome {
            Ok(_) => Some(false),
            Err(e) if e.is_server_fault() => Some(true),
            Err(_) => None,
        };
        permit.record(failed);
        outcome
    }
}
