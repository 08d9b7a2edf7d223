//! Cancellation of a policy call (issue 10): a token, per call
//! (`call_with_cancel`) or per policy (`cancel_on`), ends the call with
//! `Error::Cancelled` at once from whatever it waits on (back-off sleep,
//! rate-limit wait, bulkhead queue, the call itself), gives back what it
//! held, and is never retried. Exact instants on the virtual clock; on every
//! runtime, cancellation from another task.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use weir::Quota;

use weir::CancellationToken;
use weir::Retry;
use weir::Runtime;
use weir::{Bulkhead, RateLimiter};
use weir::{Error, Policy, policy::OnOutcome};
use weir::{rt::JoinHandle, test_util::VirtualRuntime};

const SECS: fn(u64) -> Duration = Duration::from_secs;
const HOUR: Duration = Duration::from_secs(3600);

/// Counts its drops: proves the attempt was dropped, not left running.
struct DropCount(Arc<AtomicU32>);
impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A token that `cancel_at` fires 5 s into the test.
fn fires_at_5s(rt: &VirtualRuntime) -> CancellationToken {
    let token = CancellationToken::new();
    token.cancel_at(rt, rt.now() + SECS(5));
    token
}

#[test]
fn cancelled_in_the_backoff_sleep() {
    let rt = VirtualRuntime::new();
    let token = fires_at_5s(&rt);
    let retry = Retry::constant(HOUR).max_attempts(3).build().unwrap();
    let policy = Policy::new(rt.clone()).retry(retry);
    let calls = AtomicU32::new(0);
    let out = rt.block_on(policy.call_with_cancel(&token, || {
        calls.fetch_add(1, Ordering::SeqCst);
        async { Err::<(), _>("down") }
    }));
    assert_eq!(out, Err(Error::Cancelled));
    assert_eq!(rt.elapsed(), SECS(5));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(rt.pending_timers(), 0, "the back-off sleep is gone");
}

#[test]
fn cancelled_in_a_rate_limit_wait_gives_the_slot_back() {
    let rt = VirtualRuntime::new();
    let limiter = RateLimiter::builder()
        .quota(Quota::new(1, HOUR))
        .build(rt.clone())
        .unwrap();
    let policy = Policy::new(rt.clone()).rate_limit(limiter.clone());
    assert_eq!(rt.block_on(policy.call(|| async { Ok::<_, ()>(0) })), Ok(0));
    let token = fires_at_5s(&rt);
    let out = rt.block_on(policy.call_with_cancel(&token, || async { Ok::<_, ()>(1) }));
    assert_eq!(out, Err(Error::Cancelled));
    assert_eq!(rt.elapsed(), SECS(5));
    // The cancelled wait gave its reservation back: the next slot is the
    // one after the first call, not one after it.
    assert_eq!(
        limiter.try_acquire().unwrap_err().retry_after,
        HOUR - SECS(5)
    );
}

#[test]
fn cancelled_in_a_bulkhead_queue_leaves_it() {
    let rt = VirtualRuntime::new();
    let bulkhead = Bulkhead::builder()
        .max_concurrent(1)
        .queue_capacity(8)
        .acquire_timeout(HOUR)
        .build(rt.clone())
        .unwrap();
    let held = bulkhead.try_acquire().unwrap();
    let policy = Policy::new(rt.clone()).bulkhead(bulkhead.clone());
    let token = fires_at_5s(&rt);
    let b = bulkhead.clone();
    let out = rt.block_on(async {
        let call = policy.call_with_cancel(&token, || async { Ok::<_, ()>(1) });
        let probe = async {
            // Once the call waits in the queue, say so.
            while b.stats().queued_waiters == 0 {
                futures_lite::future::yield_now().await;
            }
        };
        let (out, ()) = futures_lite::future::zip(call, probe).await;
        out
    });
    assert_eq!(out, Err(Error::Cancelled));
    assert_eq!(rt.elapsed(), SECS(5));
    assert_eq!(bulkhead.stats().queued_waiters, 0, "it left the queue");
    drop(held);
    assert_eq!(bulkhead.stats().in_flight, 0, "and took no slot with it");
}

#[test]
fn cancelled_in_the_call_itself_drops_the_attempt() {
    let rt = VirtualRuntime::new();
    let token = fires_at_5s(&rt);
    let policy = Policy::new(rt.clone()).timeout(HOUR);
    let dropped = Arc::new(AtomicU32::new(0));
    let out = rt.block_on(policy.call_with_cancel(&token, || {
        let guard = DropCount(dropped.clone());
        let rt = rt.clone();
        async move {
            let _guard = guard;
            rt.sleep(HOUR).await;
            Ok::<_, ()>(())
        }
    }));
    assert_eq!(out, Err(Error::Cancelled));
    assert_eq!(rt.elapsed(), SECS(5));
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
}

/// A `cancel_on` layer inside a retry: the cancelled attempt ends the call,
/// even with a filter that would retry everything.
#[test]
fn cancellation_is_never_retried() {
    let rt = VirtualRuntime::new();
    let token = fires_at_5s(&rt);
    let asked = AtomicU32::new(0);
    let retry = Retry::constant(SECS(1))
        .max_attempts(10)
        .retry_if(OnOutcome(|_: &Error<()>| {
            asked.fetch_add(1, Ordering::SeqCst);
            true
        }))
        .build()
        .unwrap();
    let policy = Policy::new(rt.clone())
        .retry(retry)
        .cancel_on(token.clone());
    let calls = AtomicU32::new(0);
    let out = rt.block_on(policy.call(|| {
        calls.fetch_add(1, Ordering::SeqCst);
        let rt = rt.clone();
        async move {
            rt.sleep(HOUR).await;
            Ok::<_, ()>(())
        }
    }));
    assert_eq!(out, Err(Error::Cancelled));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        asked.load(Ordering::SeqCst),
        0,
        "never offered to the filter"
    );
    assert_eq!(rt.elapsed(), SECS(5), "no back-off after it");
}

/// A token cancelled before the call makes no attempt; the same policy
/// without the token still works.
async fn a_cancelled_token_makes_no_attempt<R: Runtime>(rt: R) {
    let retry = Retry::constant(HOUR).build().unwrap();
    let policy = Policy::new(rt.clone()).retry(retry);
    let token = CancellationToken::new();
    token.cancel();
    let calls = AtomicU32::new(0);
    let op = || {
        calls.fetch_add(1, Ordering::SeqCst);
        async { Ok::<_, ()>(7) }
    };
    assert_eq!(
        policy.call_with_cancel(&token, op).await,
        Err(Error::Cancelled)
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(policy.call(op).await, Ok(7));
}

/// Cancelled from another task while it waits an hour for the rate limiter
/// (per call) or in an hour's back-off (per policy): it ends, on every
/// runtime, and the call future is `Send` (it runs as a task).
async fn cancelled_from_another_task<R: Runtime>(rt: R) {
    let limiter = RateLimiter::builder()
        .quota(Quota::new(1, HOUR))
        .build(rt.clone())
        .unwrap();
    let policy = Arc::new(Policy::new(rt.clone()).rate_limit(limiter));
    assert_eq!(policy.call(|| async { Ok::<_, ()>(0) }).await, Ok(0));
    let token = CancellationToken::new();
    let (p, t) = (policy.clone(), token.clone());
    let call = rt.spawn(async move { p.call_with_cancel(&t, || async { Ok::<_, ()>(1) }).await });
    let canceller = rt.spawn(async move { token.cancel() });
    canceller.await.unwrap();
    assert_eq!(call.await.unwrap(), Err(Error::Cancelled));

    let shutdown = CancellationToken::new();
    let retry = Retry::constant(HOUR).build().unwrap();
    let policy = Arc::new(
        Policy::new(rt.clone())
            .cancel_on(shutdown.clone())
            .retry(retry),
    );
    let call = rt.spawn(async move { policy.call(|| async { Err::<(), _>("down") }).await });
    rt.spawn(async move { shutdown.cancel() }).detach();
    assert_eq!(call.await.unwrap(), Err(Error::Cancelled));
}

on_every_runtime!(
    a_cancelled_token_makes_no_attempt,
    cancelled_from_another_task
);
