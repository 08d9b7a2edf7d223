//! The retry hook is told why each attempt is retried (issue 16, item 6):
//! the caller's error, a retried value, or which of weir's own outcomes
//! (a per-attempt timeout, an open breaker, a rate limit, a bulkhead
//! refusal), with the figures those outcomes carry. On the virtual clock,
//! with exact delays.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use weir::Quota;
use weir::resilience::{RetryCause, RetryEvent};
use weir::test_util::VirtualRuntime;
use weir::{Bulkhead, CircuitBreaker, Error, Policy, RateLimiter, Retry};
use weir::{Runtime, policy::Rejection};

const MS: fn(u64) -> Duration = Duration::from_millis;

/// What a hook saw, owned: the attempt, the delay, the cause's kind and its
/// figure (the error's text, a retry_after or a remaining).
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    attempt: u32,
    delay: Duration,
    kind: &'static str,
    error: Option<&'static str>,
    wait: Option<Duration>,
}

fn record(log: &Mutex<Vec<Seen>>, ev: &RetryEvent<'_, &'static str>) {
    let wait = match ev.cause {
        RetryCause::RateLimited { retry_after } => Some(retry_after),
        RetryCause::CircuitOpen { remaining } => Some(remaining),
        _ => None,
    };
    log.lock().unwrap().push(Seen {
        attempt: ev.attempt,
        delay: ev.delay,
        kind: ev.cause.kind(),
        error: ev.cause.error().copied(),
        wait,
    });
}

fn seen(attempt: u32, delay: Duration, kind: &'static str) -> Seen {
    Seen {
        attempt,
        delay,
        kind,
        error: None,
        wait: None,
    }
}

#[test]
fn a_timeout_an_error_and_a_value_are_told_apart() {
    let rt = VirtualRuntime::new();
    let log = Mutex::new(Vec::new());
    let retry = Retry::constant(MS(10))
        .max_attempts(4)
        .retry_on_value(|v: &u32| *v == 0)
        .on_retry(|ev: &RetryEvent<'_, &'static str>| record(&log, ev))
        .build()
        .unwrap();
    // The per-attempt timeout inside the retry.
    let policy = Policy::new(rt.clone()).retry(retry).timeout(MS(100));
    let calls = AtomicU32::new(0);
    let out = rt.block_on(policy.call(|| {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        let rt = rt.clone();
        async move {
            match n {
                0 => {
                    rt.sleep(Duration::from_secs(1)).await;
                    Ok(9)
                }
                1 => Err("boom"),
                2 => Ok(0),
                _ => Ok(n),
            }
        }
    }));
    assert_eq!(out, Ok(3));
    let mut error = seen(2, MS(10), "error");
    error.error = Some("boom");
    assert_eq!(
        *log.lock().unwrap(),
        [seen(1, MS(10), "timeout"), error, seen(3, MS(10), "value")]
    );
    // 100 ms of timed-out attempt, then three 10 ms back-offs.
    assert_eq!(rt.elapsed(), MS(130));
}

#[test]
fn an_open_breaker_is_told_with_its_remaining_time() {
    let rt = VirtualRuntime::new();
    let log = Mutex::new(Vec::new());
    let breaker = CircuitBreaker::builder()
        .consecutive_failures(1)
        .open_for(MS(500))
        .build(rt.clone())
        .unwrap();
    let retry = Retry::constant(MS(10))
        .max_attempts(3)
        .retry_after_jitter(0.0)
        .on_retry(|ev: &RetryEvent<'_, &'static str>| record(&log, ev))
        .build()
        .unwrap();
    let policy = Policy::new(rt.clone()).retry(retry).breaker(breaker);
    let calls = AtomicU32::new(0);
    let out = rt.block_on(policy.call(|| {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        async move { if n == 0 { Err("down") } else { Ok(n) } }
    }));
    assert_eq!(out, Ok(1));
    let log = log.lock().unwrap();
    let mut first = seen(1, MS(10), "error");
    first.error = Some("down");
    // The second attempt finds the breaker open for 490 ms more and waits
    // exactly that long (no jitter on hints here).
    let mut second = seen(2, MS(490), "circuit_open");
    second.wait = Some(MS(490));
    assert_eq!(*log, [first, second]);
}

#[test]
fn a_rate_limit_is_told_with_its_retry_after() {
    let rt = VirtualRuntime::new();
    let log = Mutex::new(Vec::new());
    let limiter = RateLimiter::builder()
        .quota(Quota::per_second(5).pacing())
        .build(rt.clone())
        .unwrap();
    let retry = Retry::constant(MS(10))
        .max_attempts(3)
        .retry_after_jitter(0.0)
        .on_retry(|ev: &RetryEvent<'_, &'static str>| record(&log, ev))
        .build()
        .unwrap();
    let policy = Policy::new(rt.clone())
        .retry(retry)
        .rate_limit_or_reject(limiter);
    rt.block_on(async {
        assert_eq!(policy.call(|| async { Ok::<_, &str>(1) }).await, Ok(1));
        assert_eq!(policy.call(|| async { Ok::<_, &str>(2) }).await, Ok(2));
    });
    let mut refused = seen(1, MS(200), "rate_limited");
    refused.wait = Some(MS(200));
    assert_eq!(*log.lock().unwrap(), [refused]);
}

#[test]
fn a_bulkhead_refusal_is_told_as_rejected() {
    let rt = VirtualRuntime::new();
    let log = Mutex::new(Vec::new());
    let bulkhead = Bulkhead::builder()
        .max_concurrent(1)
        .queue_capacity(0)
        .build(rt.clone())
        .unwrap();
    let retry = Retry::constant(MS(10))
        .max_attempts(2)
        .on_retry(|ev: &RetryEvent<'_, &'static str>| record(&log, ev))
        .build()
        .unwrap();
    let policy = Policy::new(rt.clone())
        .retry(retry)
        .bulkhead(bulkhead.clone());
    let held = bulkhead.try_acquire().unwrap();
    let out = rt.block_on(policy.call(|| async { Ok::<_, &str>(()) }));
    drop(held);
    assert!(
        matches!(out, Err(Error::Rejected(Rejection::QueueFull))),
        "{out:?}"
    );
    assert_eq!(*log.lock().unwrap(), [seen(1, MS(10), "rejected")]);
}
