//! The tracing events and spans at weir's decisions, captured by a
//! `tracing-subscriber` formatter writing into a buffer. The virtual
//! runtime runs every task on the test's thread, so a thread-local default
//! subscriber sees them all.

#![cfg(all(feature = "tracing", feature = "test-util"))]

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use weir::Quota;

use weir::Bulkhead;
use weir::test_util::VirtualRuntime;
use weir::{CircuitBreaker, Retry};
use weir::{Error, Policy};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs `f` under a DEBUG formatter and returns what it printed.
fn captured(f: impl FnOnce()) -> String {
    let buf = Buffer::default();
    let out = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .without_time()
        .with_writer(move || out.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    String::from_utf8(buf.0.lock().unwrap().clone()).unwrap()
}

#[test]
fn a_retry_is_an_event_in_the_policy_span_with_delay_and_reason() {
    let rt = VirtualRuntime::new();
    let text = captured(|| {
        let retry = Retry::constant(Duration::from_millis(100))
            .max_attempts(2)
            .name("tools")
            .build()
            .unwrap();
        let policy = Policy::new(rt.clone()).name("tools").retry(retry);
        let out: Result<(), Error<&str>> = rt.block_on(policy.call(|| async { Err("down") }));
        assert_eq!(out, Err(Error::Inner("down")));
    });
    let lines: Vec<&str> = text.lines().collect();
    let scheduled = lines
        .iter()
        .find(|l| l.contains("retry scheduled"))
        .unwrap_or_else(|| panic!("no retry event in:\n{text}"));
    assert!(scheduled.contains("weir.policy{name=tools}"), "{scheduled}");
    assert!(scheduled.contains("attempt=1"), "{scheduled}");
    assert!(scheduled.contains("delay=100ms"), "{scheduled}");
    assert!(scheduled.contains("reason=\"error\""), "{scheduled}");
    let gave_up = lines
        .iter()
        .find(|l| l.contains("retry gave up"))
        .unwrap_or_else(|| panic!("no give-up event in:\n{text}"));
    assert!(gave_up.contains("attempt=2"), "{gave_up}");
    assert!(gave_up.contains("gave_up=attempts exhausted"), "{gave_up}");
}

#[test]
fn breaker_state_changes_and_rejections_are_events() {
    let rt = VirtualRuntime::new();
    let text = captured(|| {
        let breaker = CircuitBreaker::builder()
            .consecutive_failures(1)
            .name("search")
            .build(rt.clone())
            .unwrap();
        rt.block_on(async {
            let _ = breaker.call(|| async { Err::<(), _>(()) }).await;
            let _ = breaker.call(|| async { Ok::<_, ()>(()) }).await;
        });
    });
    let changed = text
        .lines()
        .find(|l| l.contains("circuit breaker state changed"))
        .unwrap_or_else(|| panic!("no transition in:\n{text}"));
    assert!(changed.contains("INFO weir::breaker"), "{changed}");
    assert!(
        changed.contains("name=search from=Closed to=Open"),
        "{changed}"
    );
    assert!(
        text.contains("circuit breaker rejected a call name=search remaining=60s"),
        "{text}"
    );
}

#[test]
fn bulkhead_rejection_and_policy_timeout_are_events() {
    let rt = VirtualRuntime::new();
    let text = captured(|| {
        let bulkhead = Bulkhead::builder()
            .max_concurrent(1)
            .name("db")
            .build(rt.clone())
            .unwrap();
        let held = bulkhead.try_acquire().unwrap();
        assert!(bulkhead.try_acquire().is_err());
        drop(held);
        let policy = Policy::new(rt.clone())
            .name("slow")
            .timeout(Duration::from_secs(1));
        let r2 = rt.clone();
        let out: Result<(), Error<()>> = rt.block_on(policy.call(|| {
            let rt = r2.clone();
            async move {
                weir::Runtime::sleep(&rt, Duration::from_secs(5)).await;
                Ok(())
            }
        }));
        assert_eq!(out, Err(Error::Timeout));
    });
    assert!(
        text.contains("bulkhead rejected a call name=db reason="),
        "{text}"
    );
    let timed_out = text
        .lines()
        .find(|l| l.contains("timed out"))
        .unwrap_or_else(|| panic!("no timeout in:\n{text}"));
    assert!(timed_out.contains("weir.policy{name=slow}"), "{timed_out}");
    assert!(timed_out.contains("name=slow after=1s"), "{timed_out}");
}

#[test]
fn nothing_is_printed_below_the_subscribers_level() {
    let rt = VirtualRuntime::new();
    let buf = Buffer::default();
    let out = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_writer(move || out.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let b = CircuitBreaker::builder().build(rt.clone()).unwrap();
        b.force_open();
        assert!(b.try_acquire().is_err());
    });
    assert!(buf.0.lock().unwrap().is_empty());
}

#[test]
fn each_hedged_attempt_runs_in_its_own_span() {
    use weir::Hedge;
    let rt = VirtualRuntime::new();
    let text = captured(|| {
        let hedge = Hedge::fixed(Duration::from_millis(10))
            .name("h")
            .build()
            .unwrap();
        let policy = Policy::new(rt.clone())
            .name("h")
            .hedge(hedge)
            .timeout(Duration::from_secs(1));
        let r2 = rt.clone();
        let out: Result<(), Error<()>> = rt.block_on(policy.call(|| {
            let rt = r2.clone();
            async move {
                weir::Runtime::sleep(&rt, Duration::from_secs(5)).await;
                Ok(())
            }
        }));
        assert_eq!(out, Err(Error::Timeout), "both attempts time out");
    });
    let started = text
        .lines()
        .find(|l| l.contains("hedge started"))
        .unwrap_or_else(|| panic!("no hedge event in:\n{text}"));
    assert!(started.contains("name=h hedge=1 delay=10ms"), "{started}");
    for n in 0..2 {
        let span = format!("weir.hedge{{hedge={n}}}");
        assert!(
            text.lines()
                .any(|l| l.contains(&span) && l.contains("timed out")),
            "no timeout inside {span} in:\n{text}"
        );
    }
}

#[test]
fn each_retried_attempt_runs_in_its_own_span() {
    let rt = VirtualRuntime::new();
    let text = captured(|| {
        let retry = Retry::constant(Duration::from_millis(10))
            .max_attempts(2)
            .build()
            .unwrap();
        let policy = Policy::new(rt.clone())
            .name("r")
            .retry(retry)
            .timeout(Duration::from_secs(1));
        let r2 = rt.clone();
        let out: Result<(), Error<()>> = rt.block_on(policy.call(|| {
            let rt = r2.clone();
            async move {
                weir::Runtime::sleep(&rt, Duration::from_secs(5)).await;
                Ok(())
            }
        }));
        assert_eq!(out, Err(Error::Timeout));
    });
    for n in 1..=2 {
        let span = format!("weir.policy{{name=r}}:weir.attempt{{attempt={n}}}");
        assert!(
            text.lines()
                .any(|l| l.contains(&span) && l.contains("timed out")),
            "no timeout inside {span} in:\n{text}"
        );
    }
    assert!(text.contains("reason=\"timeout\""), "{text}");
}

#[test]
fn a_rate_limit_rejection_is_an_event_with_its_retry_after() {
    use weir::RateLimiter;
    let rt = VirtualRuntime::new();
    let text = captured(|| {
        let rate = RateLimiter::builder()
            .quota(Quota::new(1, Duration::from_secs(1)))
            .build(rt.clone())
            .unwrap();
        let policy = Policy::new(rt.clone())
            .name("api")
            .rate_limit_or_reject(rate);
        let ok: Result<(), Error<()>> = rt.block_on(policy.call(|| async { Ok(()) }));
        assert_eq!(ok, Ok(()));
        let refused: Result<(), Error<()>> = rt.block_on(policy.call(|| async { Ok(()) }));
        assert_eq!(
            refused,
            Err(Error::RateLimited {
                retry_after: Duration::from_secs(1)
            })
        );
    });
    let line = text
        .lines()
        .find(|l| l.contains("policy refused a call over its rate limit"))
        .unwrap_or_else(|| panic!("no rejection in:\n{text}"));
    assert!(line.contains("weir.policy{name=api}"), "{line}");
    assert!(line.contains("retry_after=1s"), "{line}");
}

#[test]
fn rate_limiters_report_refusals_and_waits_under_their_names() {
    use weir::{KeyedRateLimiter, RateLimiter};
    let rt = VirtualRuntime::new();
    let text = captured(|| {
        let rate = RateLimiter::builder()
            .quota(Quota::new(1, Duration::from_secs(1)))
            .name("api")
            .build(rt.clone())
            .unwrap();
        assert!(rate.try_acquire().is_ok());
        assert!(rate.try_acquire().is_err());
        rt.block_on(rate.acquire());
        let keyed = KeyedRateLimiter::builder()
            .quota(Quota::new(1, Duration::from_secs(1)))
            .name("per-user")
            .build(rt.clone())
            .unwrap();
        assert!(keyed.try_acquire(&1u8).is_ok());
        assert!(keyed.try_acquire(&1u8).is_err());
    });
    assert!(
        text.contains("rate limiter refused a call name=api retry_after=1s"),
        "{text}"
    );
    assert!(
        text.contains("rate limiter delayed a call name=api wait=1s"),
        "{text}"
    );
    assert!(
        text.contains("keyed rate limiter refused a call name=per-user retry_after=1s"),
        "{text}"
    );
}
