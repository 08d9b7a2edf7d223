//! Circuit breaker rules, each on the virtual clock with exact instants.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use weir::Runtime;
use weir::test_util::VirtualRuntime;
use weir::{
    CircuitBreaker,
    resilience::{BreakerError, CircuitOpen, Outcome, State, Transition},
};

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);

fn fail<R: Runtime, C>(b: &CircuitBreaker<R, C>) {
    b.try_acquire()
        .expect("admitted")
        .record(Outcome::Failure, Duration::ZERO);
}

fn ok<R: Runtime, C>(b: &CircuitBreaker<R, C>) {
    b.try_acquire()
        .expect("admitted")
        .record(Outcome::Success, Duration::ZERO);
}

fn advance(rt: &VirtualRuntime, d: Duration) {
    rt.block_on(rt.advance(d));
}

#[test]
fn never_opens_below_min_calls_and_opens_exactly_at_it() {
    let rt = VirtualRuntime::new();
    let b = CircuitBreaker::builder()
        .window_count(100)
        .min_calls(10)
        .failure_rate(0.5)
        .build(rt)
        .unwrap();
    for _ in 0..9 {
        fail(&b);
    }
    assert_eq!(b.state(), State::Closed, "9 failures, minimum 10");
    assert_eq!(b.stats().failures, 9);
    fail(&b);
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.stats().opened, 1);
}

#[test]
fn threshold_compares_with_greater_or_equal() {
    let rt = VirtualRuntime::new();
    let b = CircuitBreaker::builder()
        .window_count(100)
        .min_calls(100)
        .failure_rate(0.5)
        .build(rt)
        .unwrap();
    for _ in 0..50 {
        ok(&b);
    }
    for _ in 0..49 {
        fail(&b);
    }
    assert_eq!(b.state(), State::Closed, "99 calls: not judged yet");
    fail(&b);
    assert_eq!(b.state(), State::Open, "exactly 50/100 against 0.5 opens");
}

#[test]
fn below_threshold_stays_closed_and_window_slides() {
    let rt = VirtualRuntime::new();
    let b = CircuitBreaker::builder()
        .window_count(4)
        .min_calls(4)
        .failure_rate(0.75)
        .build(rt)
        .unwrap();
    // F F S S: 2/4 < 0.75
    fail(&b);
    fail(&b);
    ok(&b);
    ok(&b);
    assert_eq!(b.state(), State::Closed);
    // Window is now F S S F → 2/4, then S S F F → 2/4, then S F F F → 3/4.
    fail(&b);
    assert_eq!(b.stats().failures, 2);
    fail(&b);
    assert_eq!(b.state(), State::Closed);
    fail(&b);
    assert_eq!(b.state(), State::Open);
}

#[test]
fn rejection_carries_remaining_open_time() {
    let rt = VirtualRuntime::new();
    let b = CircuitBreaker::builder()
        .consecutive_failures(1)
        .open_for(30 * SEC)
        .build(rt.clone())
        .unwrap();
    fail(&b);
    advance(&rt, 10 * SEC);
    assert_eq!(
        b.try_acquire().unwrap_err(),
        CircuitOpen {
            remaining: 20 * SEC
        }
    );
    assert_eq!(b.remaining_open(), Some(20 * SEC));
    advance(&rt, 20 * SEC - MS);
    assert_eq!(b.try_acquire().unwrap_err().remaining, MS);
    advance(&rt, MS);
    assert!(
        b.try_acquire().is_ok(),
        "exactly at the end of the open time a probe passes"
    );
    assert_eq!(b.state(), State::HalfOpen);
    assert_eq!(b.stats().rejected, 2);
}

#[test]
fn half_open_admits_exactly_n_then_closes_after_n_successes() {
    let rt = VirtualRuntime::new();
    let b = CircuitBreaker::builder()
        .consecutive_failures(1)
        .open_for(SEC)
        .half_open_calls(3)
        .half_open_timeout(10 * SEC)
        .build(rt.clone())
        .unwrap();
    fail(&b);
    advance(&rt, SEC);
    let probes: Vec<_> = (0..3).map(|_| b.try_acquire().expect("probe")).collect();
    advance(&rt, 2 * SEC);
    let rejected = b.try_acquire().unwrap_err();
    assert_eq!(
        rejected.remaining,
        8 * SEC,
        "the rest of the half-open timeout"
    );
    let mut probes = probes.into_iter();
    probes
        .next()
        .unwrap()
        .record(Outcome::Success, Duration::ZERO);
    probes
        .next()
        .unwrap()
        .record(Outcome::Success, Duration::ZERO);
    assert_eq!(b.state(), State::HalfOpen, "verdict only after N outcomes");
    assert!(
        b.try_acquire().is_err(),
        "recorded probes do not free permits"
    );
    probes
        .next()
        .unwrap()
        .record(Outcome::Success, Duration::ZERO);
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.stats().calls, 0, "closing starts a fresh window");
}

#[test]
fn half_open_reopens_once_probe_failure_rate_is_reached() {
    let rt = VirtualRuntime::new();
    let b = CircuitBreaker::builder()
        .window_count(2)
        .min_calls(1)
        .failure_rate(0.5)
        .open_for(SEC)
        .half_open_calls(4)
        .build(rt.clone())
        .unwrap();
    fail(&b);
    advance(&rt, SEC);
    let p: Vec<_> = (0..4).map(|_| b.try_acquire().unwrap()).collect();
    let mut p = p.into_iter();
    p.next().unwrap().record(Outcome::Failure, Duration::ZERO);
    assert_eq!(b.state(), State::HalfOpen, "1/4 < 0.5");
    p.next().unwrap().record(Outcome::Failure, Duration::ZERO);
    assert_eq!(b.state(), State::Open, "2/4 >= 0.5 settles it early");
    // The two outstanding probes are late now.
    p.next().unwrap().record(Outcome::Success, Duration::ZERO);
    drop(p);
    let s = b.stats();
    assert_eq!(s.late, 2, "a recorded and a dropped late probe");
    assert_eq!(s.state, State::Open);
}

#[test]
fn hung_probe_cannot_wedge_half_open() {
    let rt = VirtualRuntime::new();
    let b = CircuitBreaker::builder()
        .consecutive_failures(1)
        .open_for(SEC)
        .half_open_calls(1)
        .half_open_timeout(5 * SEC)
        .build(rt.clone())
        .unwrap();
    fail(&b);
    advance(&rt, SEC);
    let hung = b.try_acquire().unwrap();
    advance(&rt, 5 * SEC - MS);
    assert_eq!(b.try_acquire().unwrap_err().remaining, MS);
    advance(&rt, MS);
    let e = b.try_acquire().unwrap_err();
    assert_eq!(b.state(), State::Open, "timeout reopens");
    assert_eq!(e.remaining, SEC);
    hung.record(Outcome::Success, Duration::ZERO);
    assert_eq!(
        b.state(),
        State::Open,
        "the hung probe's late success is ignored"
    );
    assert_eq!(b.stats().late, 1);
    advance(&rt, SEC);
    ok(&b);
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn open_duration_grows_on_repeated_trips_and_resets_on_close() {
    let rt = VirtualRuntime::new();
    let b = CircuitBreaker::builder()
        .consecutive_failures(1)
        .open_for(SEC)
        .open_backoff(2.0, 5 * SEC)
        .half_open_calls(1)
        .build(rt.clone())
        .unwrap();
    fail(&b);
    let mut seen = Vec::new();
    for _ in 0..4 {
        let d = b.remaining_open().unwrap();
        seen.push(d);
        advance(&rt, d);
        fail(&b); // the probe fails: reopen
    }
    assert_eq!(seen, [SEC, 2 * SEC, 4 * SEC, 5 * SEC]);
    assert_eq!(b.stats().consecutive_opens, 5);
    advance(&rt, 5 * SEC);
    ok(&b);
    assert_eq!(b.state(), State::Closed);
    fail(&b);
    assert_eq!(
        b.remaining_open(),
        Some(SEC),
        "growth starts over after a close"
    );
}

#[test]
fn slow_calls_open_the_breaker_even_when_they_succeed() {
    let rt = VirtualRuntime::new();
    let b = CircuitBreaker::builder()
        .window_count(4)
        .min_calls(4)
        .slow_calls(0.5, SEC)
        .build(rt.clone())
        .unwrap();
    let r = rt.clone();
    rt.block_on(async {
        // Exactly the slow duration is not slow.
        for _ in 0..4 {
            let r = r.clone();
            b.call(|| async move {
                r.sleep(SEC).await;
                Ok::<_, ()>(())
            })
            .await
            .unwrap();
        }
        assert_eq!(b.stats().slow_calls, 0);
        assert_eq!(b.state(), State::Closed);
        for i in 0..2 {
            let r = r.clone();
            b.call(|| async move {
                r.sleep(SEC + MS).await;
                Ok::<_, ()>(())
            })
            .await
            .unwrap();
            assert_eq!(b.stats().slow_calls, i + 1);
        }
    });
    assert_eq!(b.state(), State::Open, "2 slow of 4 >= 0.5");
    assert_eq!(b.stats().failures, 0);
}

#[test]
fn time_window_forgets_whole_buckets() {
    let rt = VirtualRuntime::new();
    let b = CircuitBreaker::builder()
        .window_time(10 * SEC, 10)
        .min_calls(3)
        .failure_rate(1.0)
        .build(rt.clone())
        .unwrap();
    advance(&rt, SEC / 2);
    fail(&b); // bucket 0
    advance(&rt, 9 * SEC);
    fail(&b); // t = 9.5 s, bucket 9
    assert_eq!(b.stats().calls, 2);
    advance(&rt, SEC / 2);
    // t = 10 s: bucket 0 (the failure at 0.5 s) has left the window.
    assert_eq!(b.stats().calls, 1);
    fail(&b);
    assert_eq!(b.state(), State::Closed, "only 2 calls in the window");
    fail(&b);
    assert_eq!(b.state(), State::Open);
}

#[test]
fn consecutive_mode_counts_runs() {
    let rt = VirtualRuntime::new();
    let b = CircuitBreaker::builder()
        .consecutive_failures(5)
        .build(rt)
        .unwrap();
    for _ in 0..4 {
        fail(&b);
    }
    ok(&b);
    for _ in 0..4 {
        fail(&b);
    }
    assert_eq!(b.state(), State::Closed);
    fail(&b);
    assert_eq!(b.state(), State::Open);
}

#[test]
fn classifier_ignored_outcomes_count_for_nothing_and_return_probe_permits() {
    let rt = VirtualRuntime::new();
    let b = CircuitBreaker::builder()
        .consecutive_failures(2)
        .open_for(SEC)
        .half_open_calls(1)
        .classifier(|r: &Result<u16, u16>| match r {
            Ok(_) => Outcome::Success,
            Err(404) => Outcome::Ignored,
            Err(_) => Outcome::Failure,
        })
        .build(rt.clone())
        .unwrap();
    let r = rt.clone();
    rt.block_on(async {
        for code in [500, 404, 404, 500] {
            assert_eq!(
                b.call(|| async move { Err::<u16, _>(code) }).await,
                Err(BreakerError::Inner(code))
            );
        }
        assert_eq!(
            b.state(),
            State::Open,
            "the 404s did not break the run of 500s"
        );
        r.advance(SEC).await;
        // An ignored probe gives its permit back; the next one decides.
        assert_eq!(
            b.call(|| async { Err::<u16, _>(404) }).await,
            Err(BreakerError::Inner(404))
        );
        assert_eq!(b.state(), State::HalfOpen);
        assert_eq!(b.call(|| async { Ok::<_, u16>(200) }).await, Ok(200));
    });
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn manual_states() {
    let rt = VirtualRuntime::new();
    let b = CircuitBreaker::builder()
        .consecutive_failures(1)
        .build(rt)
        .unwrap();
    b.force_open();
    assert_eq!(b.try_acquire().unwrap_err().remaining, Duration::MAX);
    assert_eq!(b.remaining_open(), Some(Duration::MAX));

    b.disable();
    for _ in 0..3 {
        fail(&b);
    }
    assert_eq!(b.state(), State::Disabled, "disabled records nothing");
    assert_eq!(b.stats().calls, 0);

    b.metrics_only();
    for _ in 0..3 {
        fail(&b);
    }
    assert_eq!(b.state(), State::MetricsOnly, "metrics-only never opens");
    assert_eq!(b.stats().failures, 3);

    b.reset();
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.stats().calls, 0);
    fail(&b);
    assert_eq!(b.state(), State::Open);
}

#[test]
fn results_from_an_earlier_state_are_ignored() {
    let rt = VirtualRuntime::new();
    let b = CircuitBreaker::builder()
        .consecutive_failures(2)
        .open_for(SEC)
        .build(rt.clone())
        .unwrap();
    let early = b.try_acquire().unwrap();
    fail(&b);
    fail(&b);
    assert_eq!(b.state(), State::Open);
    early.record(Outcome::Failure, Duration::ZERO);
    let s = b.stats();
    assert_eq!(
        (s.late, s.opened),
        (1, 1),
        "late failure neither extends nor re-trips"
    );
    assert_eq!(b.remaining_open(), Some(SEC));
    // A permit from before a reset is late too.
    let before = b.try_acquire();
    assert!(before.is_err());
    b.reset();
    let p = b.try_acquire().unwrap();
    b.reset();
    p.record(Outcome::Failure, Duration::ZERO);
    assert_eq!(b.stats().failures, 0);
}

#[test]
fn transitions_are_reported_once_each_outside_the_lock() {
    let rt = VirtualRuntime::new();
    let seen: Arc<Mutex<Vec<Transition>>> = Arc::default();
    let log = seen.clone();
    // The listener reads the breaker; if it ran under the breaker's lock
    // this would deadlock.
    let slot: Arc<Mutex<Option<CircuitBreaker<VirtualRuntime>>>> = Arc::default();
    let me = slot.clone();
    let b = CircuitBreaker::builder()
        .consecutive_failures(1)
        .open_for(SEC)
        .half_open_calls(1)
        .on_transition(move |t| {
            if let Some(b) = me.lock().unwrap().as_ref() {
                let _ = b.stats();
            }
            log.lock().unwrap().push(*t);
        })
        .build(rt.clone())
        .unwrap();
    *slot.lock().unwrap() = Some(b.clone());
    fail(&b);
    assert!(b.try_acquire().is_err(), "a rejection is no transition");
    advance(&rt, SEC);
    ok(&b);
    b.force_open();
    b.force_open();
    b.reset();
    let t = |from, to| Transition { from, to };
    assert_eq!(
        *seen.lock().unwrap(),
        [
            t(State::Closed, State::Open),
            t(State::Open, State::HalfOpen),
            t(State::HalfOpen, State::Closed),
            t(State::Closed, State::ForcedOpen),
            t(State::ForcedOpen, State::Closed),
        ]
    );
    slot.lock().unwrap().take();
}

#[test]
fn cancelled_call_returns_its_probe_permit() {
    let rt = VirtualRuntime::new();
    rt.set_auto_advance(false);
    let b = CircuitBreaker::builder()
        .consecutive_failures(1)
        .open_for(SEC)
        .half_open_calls(1)
        .build(rt.clone())
        .unwrap();
    fail(&b);
    advance(&rt, SEC);
    {
        let mut fut = std::pin::pin!(b.call(std::future::pending::<Result<(), ()>>));
        assert!(
            futures_lite::future::block_on(futures_lite::future::poll_once(&mut fut)).is_none()
        );
        assert!(b.try_acquire().is_err(), "the only probe is out");
    } // cancelled here
    assert!(b.try_acquire().is_ok(), "cancellation returned the permit");
}

#[test]
fn a_panicking_call_counts_as_a_failure() {
    let rt = VirtualRuntime::new();
    let b = CircuitBreaker::builder()
        .consecutive_failures(1)
        .build(rt)
        .unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        futures_lite::future::block_on(b.call(|| async { panic!("user code") as Result<(), ()> }))
    }));
    assert!(r.is_err());
    assert_eq!(b.state(), State::Open);
    assert!(
        b.try_acquire().is_err(),
        "the breaker still works after the panic"
    );
}

#[test]
fn builder_rejects_bad_fields() {
    let rt = VirtualRuntime::new();
    let cases: Vec<(CircuitBreakerBuilderCase, &str)> = vec![
        (|b| b.window_count(0), "window_count"),
        (|b| b.window_count(1 << 20), "window_count"),
        (|b| b.window_count(10).min_calls(11), "min_calls"),
        (|b| b.min_calls(0).window_count(5), "min_calls"),
        (|b| b.failure_rate(0.0), "failure_rate"),
        (|b| b.failure_rate(1.5), "failure_rate"),
        (|b| b.failure_rate(f64::NAN), "failure_rate"),
        (|b| b.slow_calls(0.5, Duration::ZERO), "slow_calls"),
        (|b| b.slow_calls(-0.5, SEC), "slow_calls"),
        (|b| b.window_time(Duration::ZERO, 10), "window_time"),
        (|b| b.window_time(SEC, 0), "buckets"),
        (|b| b.window_time(SEC, 5000), "buckets"),
        (|b| b.consecutive_failures(0), "consecutive_failures"),
        (
            |b| b.consecutive_failures(3).slow_calls(0.5, SEC),
            "slow_calls",
        ),
        (|b| b.consecutive_failures(3).min_calls(2), "min_calls"),
        (|b| b.open_for(Duration::ZERO), "open_for"),
        (
            |b| b.open_backoff(0.5, Duration::from_secs(600)),
            "open_backoff",
        ),
        (
            |b| b.open_backoff(f64::INFINITY, Duration::from_secs(600)),
            "open_backoff",
        ),
        (
            |b| b.open_for(10 * SEC).open_backoff(2.0, SEC),
            "open_backoff",
        ),
        (|b| b.half_open_calls(0), "half_open_calls"),
        (|b| b.half_open_timeout(Duration::ZERO), "half_open_timeout"),
    ];
    for (make, field) in cases {
        let e = make(CircuitBreaker::builder())
            .build(rt.clone())
            .unwrap_err();
        assert_eq!(e.field(), field, "{e}");
        assert_eq!(e.component(), "CircuitBreaker");
    }
}

type CircuitBreakerBuilderCase =
    fn(weir::resilience::CircuitBreakerBuilder) -> weir::resilience::CircuitBreakerBuilder;

async fn breaker_opens_and_recovers<R: Runtime>(rt: R) {
    let b = CircuitBreaker::builder()
        .consecutive_failures(2)
        .open_for(Duration::from_millis(20))
        .half_open_calls(1)
        .build(rt.clone())
        .unwrap();
    for _ in 0..2 {
        assert_eq!(
            b.call(|| async { Err::<(), _>(1) }).await,
            Err(BreakerError::Inner(1))
        );
    }
    assert!(matches!(
        b.call(|| async { Ok::<_, u8>(()) }).await,
        Err(BreakerError::Open(_))
    ));
    rt.sleep(Duration::from_millis(25)).await;
    assert_eq!(b.call(|| async { Ok::<_, u8>(7) }).await, Ok(7));
    assert_eq!(b.state(), State::Closed);
}

async fn concurrent_failures_open_exactly_once<R: Runtime>(rt: R) {
    let opened = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let o = opened.clone();
    let b = CircuitBreaker::builder()
        .window_count(64)
        .min_calls(8)
        .failure_rate(0.5)
        .open_for(Duration::from_secs(60))
        .on_transition(move |t| {
            if t.to == State::Open {
                o.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        })
        .build(rt.clone())
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let b = b.clone();
            rt.spawn(async move {
                for _ in 0..50 {
                    let _ = b.call(|| async { Err::<(), _>(()) }).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(opened.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(b.stats().opened, 1);
    assert!(b.stats().rejected > 0);
}

on_every_runtime!(
    breaker_opens_and_recovers,
    concurrent_failures_open_exactly_once
);
