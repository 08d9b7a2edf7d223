//! Retry-after hints (issue 10): capped by `max_retry_after` (a longer hint
//! gives up at once with its error) and jittered on top, so that callers
//! refused together come back apart. Exact instants on the virtual clock;
//! the jitter is seeded and recomputed here from the same seed.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use weir::Quota;

use weir::RateLimiter;
use weir::Runtime;
use weir::test_util::VirtualRuntime;
use weir::{
    CircuitBreaker, Retry,
    resilience::{GiveUp, State},
};
use weir::{Error, Policy};

const MS: fn(u64) -> Duration = Duration::from_millis;
const SECS: fn(u64) -> Duration = Duration::from_secs;
const HOUR: Duration = Duration::from_secs(3600);

/// The jitter a run seeded with `seed` adds to a hint when it is the run's
/// first draw: uniform in `[0, spread]`, in nanoseconds.
fn first_draw(seed: u64, spread: Duration) -> Duration {
    let spread = u64::try_from(spread.as_nanos()).unwrap();
    Duration::from_nanos(fastrand::Rng::with_seed(seed).u64(0..=spread))
}

/// A rate limiter that refuses for an hour: a retry with every default
/// returns the refusal at once instead of sleeping the hour.
async fn an_hour_hint_is_returned_not_slept<R: Runtime>(rt: R) {
    let limiter = RateLimiter::builder()
        .quota(Quota::new(1, HOUR))
        .build(rt.clone())
        .unwrap();
    let retry = Retry::constant(MS(1)).max_attempts(3).build().unwrap();
    let policy = Policy::new(rt.clone())
        .retry(retry)
        .rate_limit_or_reject(limiter);
    let calls = AtomicU32::new(0);
    let op = || {
        calls.fetch_add(1, Ordering::SeqCst);
        async { Ok::<_, ()>(()) }
    };
    assert_eq!(policy.call(op).await, Ok(()));
    let out = policy.call(op).await;
    assert!(
        matches!(out, Err(Error::RateLimited { retry_after }) if retry_after > SECS(30)),
        "{out:?}"
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the refused call never ran"
    );
}

on_every_runtime!(an_hour_hint_is_returned_not_slept);

#[test]
fn an_hour_hint_costs_no_time_at_all() {
    let rt = VirtualRuntime::new();
    let limiter = RateLimiter::builder()
        .quota(Quota::new(1, HOUR))
        .build(rt.clone())
        .unwrap();
    let retry = Retry::constant(MS(1)).max_attempts(3).build().unwrap();
    let policy = Policy::new(rt.clone())
        .retry(retry)
        .rate_limit_or_reject(limiter);
    assert_eq!(
        rt.block_on(policy.call(|| async { Ok::<_, ()>(()) })),
        Ok(())
    );
    let out = rt.block_on(policy.call(|| async { Ok::<_, ()>(()) }));
    assert_eq!(out, Err(Error::RateLimited { retry_after: HOUR }));
    assert_eq!(rt.elapsed(), Duration::ZERO);
}

#[test]
fn an_hour_hint_ends_a_plain_retry_at_once() {
    let rt = VirtualRuntime::new();
    let retry = Retry::constant(MS(1))
        .max_attempts(5)
        .retry_after_with(|e: &Duration| Some(*e))
        .build()
        .unwrap();
    let calls = AtomicU32::new(0);
    let out: Result<(), Duration> = rt.block_on(retry.run(&rt, || {
        calls.fetch_add(1, Ordering::SeqCst);
        async { Err(HOUR) }
    }));
    assert_eq!(out, Err(HOUR), "the error that carried the hint");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(rt.elapsed(), Duration::ZERO);

    let now = rt.now();
    let mut state = retry.start(now);
    assert_eq!(
        retry.next_delay(&mut state, now, Some(SECS(31))),
        Err(GiveUp::RetryAfterTooLong)
    );
    assert_eq!(state.attempts(), 1, "giving up spends no attempt");
}

#[test]
fn a_hint_at_the_cap_is_waited_for_and_the_cap_is_a_setting() {
    let rt = VirtualRuntime::new();
    assert_eq!(Retry::DEFAULT_MAX_RETRY_AFTER, SECS(30));
    let exact = |cap: Option<Duration>| {
        let b = Retry::constant(MS(1)).retry_after_jitter(0.0);
        match cap {
            Some(c) => b.max_retry_after(c),
            None => b,
        }
        .build()
        .unwrap()
    };
    let now = rt.now();
    let r = exact(None);
    let mut s = r.start(now);
    assert_eq!(r.next_delay(&mut s, now, Some(SECS(30))), Ok(SECS(30)));
    let r = exact(Some(HOUR));
    let mut s = r.start(now);
    assert_eq!(r.next_delay(&mut s, now, Some(HOUR)), Ok(HOUR));
    // The largest hint with the largest jitter saturates, never panics.
    let r = Retry::constant(MS(1))
        .max_retry_after(Duration::MAX)
        .retry_after_jitter(1.0)
        .build()
        .unwrap();
    let mut s = r.start(now);
    assert_eq!(
        r.next_delay(&mut s, now, Some(Duration::MAX)),
        Ok(Duration::MAX)
    );
    let r = exact(Some(MS(500)));
    let mut s = r.start(now);
    assert_eq!(
        r.next_delay(&mut s, now, Some(MS(501))),
        Err(GiveUp::RetryAfterTooLong)
    );
}

/// A refused caller waits the limiter's hint plus its seeded jitter (20 %
/// of the hint by default), exactly.
#[test]
fn a_rate_limit_hint_gets_seeded_jitter() {
    let rt = VirtualRuntime::new();
    let limiter = RateLimiter::builder()
        .quota(Quota::new(1, SECS(1)))
        .build(rt.clone())
        .unwrap();
    let retry = Retry::constant(MS(1))
        .max_attempts(2)
        .seed(7)
        .build()
        .unwrap();
    let policy = Policy::new(rt.clone())
        .retry(retry)
        .rate_limit_or_reject(limiter);
    assert_eq!(rt.block_on(policy.call(|| async { Ok::<_, ()>(0) })), Ok(0));
    assert_eq!(rt.block_on(policy.call(|| async { Ok::<_, ()>(1) })), Ok(1));
    let jitter = first_draw(7, MS(200));
    assert!(jitter > Duration::ZERO, "seed 7 draws a jitter");
    assert_eq!(rt.elapsed(), SECS(1) + jitter);
}

/// Two callers told the same hint at the same instant come back at
/// different instants, each exactly its hint plus its own draw.
#[test]
fn callers_refused_together_come_back_apart() {
    let rt = VirtualRuntime::new();
    let retried_at = Arc::new(std::sync::Mutex::new(Vec::new()));
    let caller = |seed: u64| {
        let retry = Retry::constant(MS(1))
            .max_attempts(2)
            .seed(seed)
            .retry_after_with(|e: &Duration| Some(*e))
            .build()
            .unwrap();
        let policy = Policy::new(rt.clone()).retry(retry);
        let (rt, log) = (rt.clone(), retried_at.clone());
        async move {
            let calls = AtomicU32::new(0);
            policy
                .call(|| {
                    let n = calls.fetch_add(1, Ordering::SeqCst);
                    if n == 1 {
                        log.lock().unwrap().push((seed, rt.elapsed()));
                    }
                    async move { if n == 0 { Err(SECS(2)) } else { Ok(n) } }
                })
                .await
        }
    };
    let (a, b) = rt.block_on(futures_lite::future::zip(caller(1), caller(2)));
    assert_eq!((a, b), (Ok(1), Ok(1)));
    let mut seen = retried_at.lock().unwrap().clone();
    seen.sort();
    let at = |seed| SECS(2) + first_draw(seed, MS(400));
    assert_eq!(seen, [(1, at(1)), (2, at(2))]);
    assert_ne!(at(1), at(2));
}

/// With every default but the trip rule, a breaker that has just opened
/// (60 s) is returned at once; in its last 30 s the retry waits out the
/// remaining time plus jitter and the probe goes through.
#[test]
fn an_open_breaker_is_returned_at_once_or_waited_out_under_the_cap() {
    let rt = VirtualRuntime::new();
    let breaker = CircuitBreaker::builder()
        .consecutive_failures(1)
        .build(rt.clone())
        .unwrap();
    let retry = Retry::constant(MS(10)).seed(3).build().unwrap();
    let policy = Policy::new(rt.clone())
        .retry(retry)
        .breaker(breaker.clone());
    let calls = AtomicU32::new(0);
    let op = || {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        async move { if n == 0 { Err("down") } else { Ok(n) } }
    };
    // The failure opens the breaker for 60 s; the retry after 10 ms is
    // refused with 59.99 s to go, above the cap: returned at once.
    let out = rt.block_on(policy.call(op));
    assert_eq!(
        out,
        Err(Error::CircuitOpen {
            remaining: SECS(60) - MS(10)
        })
    );
    assert_eq!(rt.elapsed(), MS(10));
    assert_eq!(breaker.state(), State::Open);

    rt.block_on(rt.advance(SECS(35) - MS(10)));
    // 25 s to go: waited for, plus up to 20 % (5 s) of it.
    assert_eq!(rt.block_on(policy.call(op)), Ok(1));
    assert_eq!(rt.elapsed(), SECS(60) + first_draw(3, SECS(5)));
    assert_eq!(breaker.state(), State::HalfOpen, "the probe was admitted");
}

#[test]
fn bad_hint_settings_are_refused() {
    let field = |r: Result<Retry, weir::ConfigError>| r.unwrap_err();
    let e = field(
        Retry::constant(MS(1))
            .max_retry_after(Duration::ZERO)
            .build(),
    );
    assert_eq!(
        (e.field(), e.rule()),
        ("max_retry_after", &weir::Rule::Zero)
    );
    for bad in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
        let e = field(Retry::constant(MS(1)).retry_after_jitter(bad).build());
        assert_eq!(
            (e.field(), e.rule()),
            ("retry_after_jitter", &weir::Rule::OutOfRange("0.0..=1.0"))
        );
    }
}

/// In half-open with every probe out, `remaining` is the rest of the
/// half-open timeout (60 s by default), a bound rather than an estimate:
/// under the default cap it is returned at once, not slept.
#[test]
fn a_half_open_breaker_with_its_probes_out_is_returned_at_once() {
    let rt = VirtualRuntime::new();
    let breaker = CircuitBreaker::builder()
        .consecutive_failures(1)
        .open_for(SECS(1))
        .half_open_calls(1)
        .build(rt.clone())
        .unwrap();
    let retry = Retry::constant(MS(10)).build().unwrap();
    let policy = Policy::new(rt.clone())
        .retry(retry)
        .breaker(breaker.clone());
    breaker
        .try_acquire()
        .unwrap()
        .record(weir::resilience::Outcome::Failure, Duration::ZERO);
    rt.block_on(rt.advance(SECS(1)));
    let probe = breaker.try_acquire().unwrap();
    assert_eq!(breaker.state(), State::HalfOpen);
    let out = rt.block_on(policy.call(|| async { Ok::<_, ()>(()) }));
    assert_eq!(
        out,
        Err(Error::CircuitOpen {
            remaining: SECS(60)
        })
    );
    assert_eq!(rt.elapsed(), SECS(1), "nothing slept");
    drop(probe);
}
