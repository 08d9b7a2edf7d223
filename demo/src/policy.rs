//! The per-server policy of the second run: a weir-mcp [`Client`] whose
//! every attempt goes through circuit breaker → bulkhead → rate limit →
//! per-attempt timeout, and a weir `Retry` around it. Priority order comes
//! from the run's per-server `Scheduler` (see [`crate::run`]).
//!
//! The retry sits around the client rather than in it (the builder's
//! `retry`) because the demo servers say "over quota, retry in n ms" as a
//! JSON-RPC error, and weir-mcp treats every server error as final: its own
//! retries cover transport failures and timeouts only.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use weir::Quota;

use futures_lite::StreamExt;
use weir::mcp::jsonrpc::RawValue;
use weir::mcp::manager::BoxConnect;
use weir::mcp::{CallEvent, Client, McpError};
use weir::{Bulkhead, RateLimiter};
use weir::{
    CircuitBreaker, Retry,
    resilience::{
        FromRetryAfter, Jitter, NoValue, Outcome, RetryAfter, RetryEvent, RetryHook, State,
    },
};
use weir::{ConfigError, Runtime};
use weir::{
    Error, Policy,
    policy::{
        Bare, BreakerStage, BulkheadStage, Chain, RateLimitStage, RetryStage, Stage, TimeoutStage,
    },
};

use crate::error::CallError;
use crate::spec::ServerSpec;
use crate::workload::ToolCall;

/// What the policy did, beyond what weir's components count themselves.
#[derive(Debug, Default)]
pub struct PolicyCounters {
    /// Retries made (attempts after the first).
    pub retries: AtomicU64,
    /// Calls in progress that have had a failed attempt (so are being
    /// retried, or about to give up).
    pub retrying: AtomicU64,
    /// Attempts cut off by the per-attempt timeout.
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

/// Which attempts tell the breaker something about the server: being over
/// quota is the client's doing, so it is ignored, not a failure.
pub type Classifier = fn(&Result<Box<RawValue>, McpError>) -> Outcome;

fn classify(result: &Result<Box<RawValue>, McpError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Success,
        Err(e) if CallError::from_mcp(e).is_server_fault() => Outcome::Failure,
        Err(_) => Outcome::Ignored,
    }
}

/// The layers inside the client, outermost first: each wraps one attempt.
pub type Layers<R> = Chain<
    Chain<Chain<Chain<Bare, BreakerStage<R, Classifier>>, BulkheadStage<R>>, RateLimitStage<R, R>>,
    TimeoutStage,
>;

/// The retry around the client: retryable errors only, server and breaker
/// hints honoured, every retry counted.
pub type RetryPipeline<R> = Policy<
    R,
    Chain<Bare, RetryStage<fn(&CallError) -> bool, NoValue, FromRetryAfter, RetryCounter>>,
>;

/// The policy for one server.
#[derive(Debug)]
pub struct ServerPolicy<R: Runtime> {
    /// The retry every call goes through.
    pub retry: RetryPipeline<R>,
    /// The server's client, its layers under every attempt.
    pub client: Client<R, Layers<R>>,
    /// The breaker inside the client (a shared handle), for its state and
    /// counts.
    pub breaker: CircuitBreaker<R, Classifier>,
    /// Calls in progress at once for this server, backoff sleeps included
    /// (the scheduler's bound); the bulkhead bounds requests on the wire.
    pub concurrency: usize,
    /// What the policy did.
    pub counters: Arc<PolicyCounters>,
}

/// One tool call through `client`, progress reports counted into
/// `progress` as they come.
///
/// # Errors
///
/// The call's failure, named.
pub async fn tool_call<R, L>(
    client: &Client<R, L>,
    call: &ToolCall,
    progress: &AtomicU64,
) -> Result<(), CallError>
where
    R: Runtime,
    L: Stage<R, Box<RawValue>, McpError> + Send + Sync + 'static,
{
    let mut events = client.call_tool_with_progress(call.tool, call.arguments.clone());
    while let Some(event) = events.next().await {
        match event {
            CallEvent::Progress(_) => {
                progress.fetch_add(1, Ordering::Relaxed);
            }
            CallEvent::Done(Ok(r)) if r.is_error => return Err(CallError::ToolFailed),
            CallEvent::Done(Ok(_)) => return Ok(()),
            CallEvent::Done(Err(e)) => return Err(CallError::from_mcp(&e)),
        }
    }
    Err(CallError::Closed)
}

impl<R: Runtime> ServerPolicy<R> {
    /// The policy matched to `spec`, its client connecting with `connect`:
    ///
    /// * retry: exponential from 50 ms to 500 ms with equal jitter, 20
    ///   attempts, a server's `retry_after` or the breaker's remaining open
    ///   time in place of the computed delay;
    /// * breaker: opens when half of the last 20 calls (at least 10) failed
    ///   for the server's own reasons, for 250 ms, then 3 probes;
    /// * bulkhead: 16 requests on the wire, the rest queued;
    /// * rate limit: 90% of the server's quota, half its burst;
    /// * timeout: a little over twice the server's slowest usual answer; an
    ///   attempt cut off is cancelled at the server
    ///   (`notifications/cancelled`).
    ///
    /// # Errors
    ///
    /// When a component rejects its configuration (a spec with a zero
    /// quota, for one).
    pub fn for_server(
        rt: R,
        spec: &ServerSpec,
        seed: u64,
        connect: BoxConnect<R>,
    ) -> Result<Self, ConfigError> {
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
            .queue_capacity(u32::MAX / 2)
            .build(rt.clone())?;
        let rate = RateLimiter::builder()
            .quota(
                Quota::new(spec.quota_per_sec * 9 / 10, Duration::from_secs(1))
                    .burst((spec.burst / 2).max(1)),
            )
            .build(rt.clone())?;
        let layers = Policy::new(rt.clone())
            .breaker(breaker.clone())
            .bulkhead(bulkhead)
            .rate_limit(rate)
            .timeout(spec.latency.1 * 2 + Duration::from_millis(50));
        let client = Client::builder(rt.clone())
            .policy(layers)
            // The timeout layer bounds each attempt; the retry, the call.
            .idle_timeout(None)
            .timeout(None)
            .client_info("weir-demo", env!("CARGO_PKG_VERSION"))
            .build_boxed(connect);
        Ok(ServerPolicy {
            retry: Policy::new(rt).retry(retry),
            client,
            breaker,
            concurrency: 32,
            counters,
        })
    }

    /// The breaker's state, for the progress bar.
    pub fn breaker_state(&self) -> State {
        self.breaker.state()
    }

    /// Runs `call` through the retry and the client; returns the last
    /// outcome.
    ///
    /// # Errors
    ///
    /// The last attempt's error, named: [`CallError::CircuitOpen`],
    /// [`CallError::Timeout`] and [`CallError::Rejected`] are the policy's
    /// own.
    pub async fn call(&self, call: &ToolCall, progress: &AtomicU64) -> Result<(), CallError> {
        let failed_once = AtomicBool::new(false);
        let counters = &*self.counters;
        let result = self
            .retry
            .call(|| {
                let failed_once = &failed_once;
                async move {
                    let r = tool_call(&self.client, call, progress).await;
                    if let Err(e) = &r {
                        if *e == CallError::Timeout {
                            counters.timeouts.fetch_add(1, Ordering::Relaxed);
                        }
                        if !failed_once.swap(true, Ordering::Relaxed) {
                            counters.retrying.fetch_add(1, Ordering::Relaxed);
                        }
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
