//! Which outcomes a retry layer retries inside a `Policy` (issue 10): one
//! rule, stated in the policy docs, that `retry_if` can override for
//! weir's own outcomes too; cancellation and closing stay final.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use weir::Bulkhead;
use weir::Runtime;
use weir::{CircuitBreaker, Retry, resilience::RetryEvent};
use weir::{Error, Policy, policy::OnOutcome};

const MS: fn(u64) -> Duration = Duration::from_millis;

/// A breaker forced open admits nothing until a manual change: retrying it
/// is waste, so by default it is returned at once.
async fn forced_open_is_not_retried_by_default<R: Runtime>(rt: R) {
    let breaker = CircuitBreaker::builder().build(rt.clone()).unwrap();
    breaker.force_open();
    let retries = AtomicU32::new(0);
    let retry = Retry::constant(MS(1))
        .max_attempts(3)
        .on_retry(|_: &RetryEvent<'_, ()>| {
            retries.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    let policy = Policy::new(rt.clone()).retry(retry).breaker(breaker);
    let out = policy.call(|| async { Ok::<_, ()>(()) }).await;
    assert_eq!(
        out,
        Err(Error::CircuitOpen {
            remaining: Duration::MAX
        })
    );
    assert_eq!(retries.load(Ordering::SeqCst), 0);
}

/// `retry_if(|e: &E| ..)` decides the caller's errors; weir's outcomes keep
/// their default (a timed-out attempt is retried).
async fn a_callers_filter_keeps_the_default_for_weirs_outcomes<R: Runtime>(rt: R) {
    let retry = Retry::constant(MS(1))
        .max_attempts(3)
        .retry_if(|e: &&str| *e != "fatal")
        .build()
        .unwrap();
    let policy = Policy::new(rt.clone()).retry(retry).timeout(MS(2));
    let calls = AtomicU32::new(0);
    let out = policy
        .call(|| {
            calls.fetch_add(1, Ordering::SeqCst);
            std::future::pending::<Result<(), &str>>()
        })
        .await;
    assert_eq!(out, Err(Error::Timeout));
    assert_eq!(calls.load(Ordering::SeqCst), 3, "timeouts are retried");

    calls.store(0, Ordering::SeqCst);
    let out = policy
        .call(|| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), _>("fatal") }
        })
        .await;
    assert_eq!(out, Err(Error::Inner("fatal")));
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the filter refused it");
}

/// `retry_if(OnOutcome(..))` decides weir's outcomes as well: here a
/// non-idempotent call whose timed-out attempt must not be repeated.
async fn on_outcome_overrides_the_default_for_weirs_outcomes<R: Runtime>(rt: R) {
    let retry = Retry::constant(MS(1))
        .max_attempts(3)
        .retry_if(OnOutcome(|e: &Error<&str>| match e {
            Error::Timeout => false,
            other => other.retried_by_default(),
        }))
        .build()
        .unwrap();
    let policy = Policy::new(rt.clone()).retry(retry).timeout(MS(2));
    let calls = AtomicU32::new(0);
    let out = policy
        .call(|| {
            calls.fetch_add(1, Ordering::SeqCst);
            std::future::pending::<Result<(), &str>>()
        })
        .await;
    assert_eq!(out, Err(Error::Timeout));
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the timeout was final");

    calls.store(0, Ordering::SeqCst);
    let out = policy
        .call(|| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move { if n == 0 { Err("flaky") } else { Ok(n) } }
        })
        .await;
    assert_eq!(out, Ok(1), "the caller's errors keep the default");
}

/// A filter that retries everything still cannot retry closing.
async fn closing_is_final_whatever_the_filter_says<R: Runtime>(rt: R) {
    let bulkhead = Bulkhead::builder()
        .max_concurrent(1)
        .build(rt.clone())
        .unwrap();
    bulkhead.close();
    let asked = AtomicU32::new(0);
    let retry = Retry::constant(MS(1))
        .max_attempts(5)
        .retry_if(OnOutcome(|_: &Error<()>| {
            asked.fetch_add(1, Ordering::SeqCst);
            true
        }))
        .build()
        .unwrap();
    let policy = Policy::new(rt.clone()).retry(retry).bulkhead(bulkhead);
    let out = policy.call(|| async { Ok::<_, ()>(()) }).await;
    assert_eq!(out, Err(Error::Closed));
    assert_eq!(
        asked.load(Ordering::SeqCst),
        0,
        "never offered to the filter"
    );
}

on_every_runtime!(
    forced_open_is_not_retried_by_default,
    a_callers_filter_keeps_the_default_for_weirs_outcomes,
    on_outcome_overrides_the_default_for_weirs_outcomes,
    closing_is_final_whatever_the_filter_says,
);
