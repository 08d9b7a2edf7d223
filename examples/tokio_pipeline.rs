//! A weir `Policy` on tokio, stacked as the policy docs advise, in front of a
//! service that allows 20 calls in any second (refusing the rest with a
//! retry hint) and fails 10 % of the calls it admits.
//!
//! ```sh
//! cargo run --example tokio_pipeline --features tokio
//! ```
//!
//! 100 calls start at once; all of them succeed, the service never sees
//! more than 20 in a second, and the retry hook says why each retry
//! happened. The service is in-process (no network) so that the example
//! runs anywhere; `tower/tests/new_user.rs` does the same with reqwest
//! against an axum server.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use weir::Error;
use weir::resilience::{RetryAfter, RetryCause, RetryEvent};
use weir::{Bulkhead, CircuitBreaker, Policy, Quota, RateLimiter, Retry, Tokio};

/// The service's own errors.
#[derive(Debug)]
enum ServiceError {
    /// "429": over the quota; try again after this long.
    TooMany(Duration),
    /// "503": a transient failure.
    Unavailable,
}

impl RetryAfter for ServiceError {
    fn retry_after(&self) -> Option<Duration> {
        match self {
            ServiceError::TooMany(after) => Some(*after),
            ServiceError::Unavailable => None,
        }
    }
}

/// 20 per sliding second, and one failure in ten of what it admits.
struct Service {
    window: Mutex<VecDeque<Instant>>,
    rng: Mutex<fastrand::Rng>,
}

impl Service {
    async fn call(&self, id: usize) -> Result<usize, ServiceError> {
        tokio::time::sleep(Duration::from_millis(20)).await; // the work
        let now = Instant::now();
        let mut window = self.window.lock().unwrap();
        while window
            .front()
            .is_some_and(|&t| now - t >= Duration::from_secs(1))
        {
            window.pop_front();
        }
        if window.len() >= 20 {
            let free_at = window[0] + Duration::from_secs(1);
            return Err(ServiceError::TooMany(free_at - now));
        }
        window.push_back(now);
        if self.rng.lock().unwrap().u8(0..10) == 0 {
            return Err(ServiceError::Unavailable);
        }
        Ok(id)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rt = Tokio;
    let retries = Arc::new(Mutex::new(Vec::new()));
    let seen = retries.clone();
    let retry = Retry::exponential(Duration::from_millis(100))
        .max_delay(Duration::from_secs(2))
        .jitter_full()
        .max_attempts(5)
        .honor_retry_after()
        .on_retry(move |ev: &RetryEvent<'_, ServiceError>| {
            let why = match ev.cause {
                RetryCause::Error(ServiceError::TooMany(_)) => "429",
                RetryCause::Error(ServiceError::Unavailable) => "503",
                other => other.kind(), // weir's own: timeout, circuit_open, ...
            };
            seen.lock().unwrap().push(why);
        })
        .build()?;
    // The server's quota, strict, with the 2 % headroom the Quota docs ask
    // for (the timer tick and the request's own latency).
    let quota = Quota::new(20, Duration::from_millis(1_020)).strict();
    let policy = Arc::new(
        Policy::new(rt)
            .timeout(Duration::from_secs(30)) // the whole call, retries included
            .retry(retry)
            .breaker(CircuitBreaker::builder().build(rt)?)
            .rate_limit(RateLimiter::builder().quota(quota).build(rt)?)
            .bulkhead(Bulkhead::builder().max_concurrent(8).build(rt)?)
            .timeout(Duration::from_secs(2)), // each attempt
    );
    let service = Arc::new(Service {
        window: Mutex::new(VecDeque::new()),
        rng: Mutex::new(fastrand::Rng::with_seed(3)),
    });

    let started = Instant::now();
    let calls: Vec<_> = (0..100)
        .map(|id| {
            let (policy, service) = (policy.clone(), service.clone());
            tokio::spawn(async move { policy.call(|| service.call(id)).await })
        })
        .collect();
    let mut failed = 0;
    for call in calls {
        let out: Result<usize, Error<ServiceError>> = call.await?;
        if let Err(e) = out {
            failed += 1;
            eprintln!("failed: {e:?}");
        }
    }
    let retries = retries.lock().unwrap();
    let count = |why| retries.iter().filter(|&&w| w == why).count();
    println!(
        "100 calls in {:.1?}: {failed} failed; retries: {} after a 503, {} after a 429, {} other",
        started.elapsed(),
        count("503"),
        count("429"),
        retries.len() - count("503") - count("429"),
    );
    if failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}
