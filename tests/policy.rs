//! The composed pipeline: order of layers, how outcomes cross layers, on the
//! virtual clock with exact instants.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use weir::Quota;

use weir::Runtime;
use weir::test_util::VirtualRuntime;
use weir::{Bulkhead, RateLimiter};
use weir::{CircuitBreaker, Retry, resilience::State};
use weir::{Error, Policy, policy::Rejection};

const MS: fn(u64) -> Duration = Duration::from_millis;

/// An operation that sleeps `lat` and fails its first `fail` calls.
fn flaky(
    rt: &VirtualRuntime,
    calls: &Arc<AtomicU32>,
    fail: u32,
    lat: Duration,
) -> impl Fn() -> std::pin::Pin<Box<dyn Future<Output = Result<u32, &'static str>> + Send>> + Send + Sync
{
    let (rt, calls) = (rt.clone(), calls.clone());
    move || {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        let rt = rt.clone();
        Box::pin(async move {
            rt.sleep(lat).await;
            if n < fail { Err("transient") } else { Ok(n) }
        })
    }
}

#[test]
fn timeout_written_first_bounds_the_whole_call() {
    let rt = VirtualRuntime::new();
    let calls = Arc::new(AtomicU32::new(0));
    let retry = Retry::constant(MS(100)).max_attempts(10).build().unwrap();
    let policy = Policy::new(rt.clone()).timeout(MS(250)).retry(retry);
    let out = rt.block_on(policy.call(flaky(&rt, &calls, u32::MAX, MS(10))));
    assert_eq!(out, Err(Error::Timeout));
    // Attempts at 0, 110, 220 ms; the third is cut at 250 ms.
    assert_eq!(rt.elapsed(), MS(250));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[test]
fn timeout_written_after_retry_bounds_each_attempt() {
    let rt = VirtualRuntime::new();
    let calls = Arc::new(AtomicU32::new(0));
    let retry = Retry::constant(MS(100)).max_attempts(3).build().unwrap();
    let policy = Policy::new(rt.clone()).retry(retry).timeout(MS(50));
    // Every attempt takes 80 ms: each is cut at 50 ms and retried.
    let out = rt.block_on(policy.call(flaky(&rt, &calls, 0, MS(80))));
    assert_eq!(out, Err(Error::Timeout));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(rt.elapsed(), MS(50 + 100 + 50 + 100 + 50));
}

#[test]
fn retry_waits_for_the_rate_limiters_retry_after() {
    let rt = VirtualRuntime::new();
    let calls = Arc::new(AtomicU32::new(0));
    let limiter = RateLimiter::builder()
        .quota(Quota::new(1, Duration::from_secs(1)))
        .build(rt.clone())
        .unwrap();
    // The hint exactly: its jitter is tested in retry_hints.rs.
    let retry = Retry::constant(MS(1))
        .max_attempts(3)
        .retry_after_jitter(0.0)
        .build()
        .unwrap();
    let policy = Policy::new(rt.clone())
        .retry(retry)
        .rate_limit_or_reject(limiter);
    let op = flaky(&rt, &calls, 0, Duration::ZERO);
    assert_eq!(rt.block_on(policy.call(&op)), Ok(0));
    // The second call is refused for 1 s; the retry sleeps exactly that.
    assert_eq!(rt.block_on(policy.call(&op)), Ok(1));
    assert_eq!(rt.elapsed(), Duration::from_secs(1));
}

#[test]
fn breaker_counts_timeouts_and_rejects_with_remaining_time() {
    let rt = VirtualRuntime::new();
    let calls = Arc::new(AtomicU32::new(0));
    let breaker = CircuitBreaker::builder()
        .consecutive_failures(2)
        .open_for(Duration::from_secs(30))
        .build(rt.clone())
        .unwrap();
    let policy = Policy::new(rt.clone())
        .breaker(breaker.clone())
        .timeout(MS(10));
    let slow = flaky(&rt, &calls, 0, MS(50));
    assert_eq!(rt.block_on(policy.call(&slow)), Err(Error::Timeout));
    assert_eq!(rt.block_on(policy.call(&slow)), Err(Error::Timeout));
    assert_eq!(breaker.state(), State::Open);
    let out = rt.block_on(policy.call(&slow));
    assert_eq!(
        out,
        Err(Error::CircuitOpen {
            remaining: Duration::from_secs(30)
        })
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "an open breaker calls nothing"
    );
}

#[test]
fn rejections_inside_the_breaker_do_not_trip_it() {
    let rt = VirtualRuntime::new();
    let breaker = CircuitBreaker::builder()
        .consecutive_failures(1)
        .build(rt.clone())
        .unwrap();
    let limiter = RateLimiter::builder()
        .quota(Quota::new(1, Duration::from_secs(60)))
        .build(rt.clone())
        .unwrap();
    let policy = Policy::new(rt.clone())
        .breaker(breaker.clone())
        .rate_limit_or_reject(limiter);
    assert_eq!(rt.block_on(policy.call(|| async { Ok::<_, ()>(1) })), Ok(1));
    for _ in 0..5 {
        let out = rt.block_on(policy.call(|| async { Ok::<_, ()>(1) }));
        assert!(matches!(out, Err(Error::RateLimited { .. })), "{out:?}");
    }
    assert_eq!(breaker.state(), State::Closed);
}

#[test]
fn bulkhead_rejection_names_its_reason_and_fallback_replaces_it() {
    let rt = VirtualRuntime::new();
    let bulkhead = Bulkhead::builder()
        .max_concurrent(1)
        .queue_capacity(0)
        .build(rt.clone())
        .unwrap();
    let held = bulkhead.try_acquire().unwrap();
    let strict = Policy::new(rt.clone()).bulkhead(bulkhead.clone());
    let out = rt.block_on(strict.call(|| async { Ok::<_, ()>(1) }));
    assert_eq!(out, Err(Error::Rejected(Rejection::QueueFull)));
    let lenient = Policy::new(rt.clone())
        .fallback(|e: Error<()>| match e {
            Error::Rejected(_) => Ok(0),
            other => Err(other),
        })
        .bulkhead(bulkhead.clone());
    assert_eq!(
        rt.block_on(lenient.call(|| async { Ok::<_, ()>(1) })),
        Ok(0)
    );
    drop(held);
    assert_eq!(
        rt.block_on(lenient.call(|| async { Ok::<_, ()>(1) })),
        Ok(1)
    );
}

#[test]
fn non_retryable_errors_end_at_once_and_keep_the_callers_error() {
    let rt = VirtualRuntime::new();
    let calls = Arc::new(AtomicU32::new(0));
    let retry = Retry::constant(MS(100))
        .max_attempts(5)
        .retry_if(|e: &&str| *e != "fatal")
        .build()
        .unwrap();
    let policy = Policy::new(rt.clone()).retry(retry);
    let c = calls.clone();
    let out = rt.block_on(policy.call(move || {
        c.fetch_add(1, Ordering::SeqCst);
        async { Err::<(), _>("fatal") }
    }));
    assert_eq!(out, Err(Error::Inner("fatal")));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(rt.elapsed(), Duration::ZERO);
}

/// The whole pipeline runs the same on every runtime.
async fn full_pipeline_on_every_runtime<R: Runtime>(rt: R) {
    let rate = RateLimiter::builder()
        .quota(Quota::new(1000, Duration::from_secs(1)).burst(50))
        .build(rt.clone())
        .unwrap();
    let bulkhead = Bulkhead::builder()
        .max_concurrent(4)
        .queue_capacity(100)
        .build(rt.clone())
        .unwrap();
    let breaker = CircuitBreaker::builder().build(rt.clone()).unwrap();
    let retry = Retry::constant(MS(1)).max_attempts(3).build().unwrap();
    let policy = Policy::new(rt.clone())
        .timeout(Duration::from_secs(10))
        .retry(retry)
        .breaker(breaker)
        .rate_limit(rate)
        .bulkhead(bulkhead);
    let calls = AtomicU32::new(0);
    for i in 0..20u32 {
        let out = policy
            .call(|| {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                async move { if n % 2 == 0 { Err("odd luck") } else { Ok(i) } }
            })
            .await;
        assert_eq!(out, Ok(i));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 40);

    // A policy call is a Send future: it can run as its own task.
    let policy = Arc::new(policy);
    let task = rt.spawn(async move {
        policy
            .call(|| async { Ok::<_, std::io::Error>(7u8) })
            .await
            .map_err(|e| e.to_string())
    });
    assert_eq!(task.await.unwrap(), Ok(7));
}

on_every_runtime!(full_pipeline_on_every_runtime);
