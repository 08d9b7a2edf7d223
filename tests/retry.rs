//! Retry rules on the virtual clock: exact delays, attempts, filters,
//! hints, deadline, budget, cancellation, events.

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use weir::Runtime;
use weir::test_util::VirtualRuntime;
use weir::{
    Retry, RetryBudget,
    resilience::{GiveUp, Jitter, RetryAfter, RetryEvent, timeout, timeout_at},
};

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);

/// Runs an always-failing operation under `retry`; returns the virtual
/// instants (since start) of every call.
fn call_times<P, V, H, N>(rt: &VirtualRuntime, retry: &Retry<P, V, H, N>) -> Vec<Duration>
where
    P: weir::resilience::ErrorFilter<&'static str>,
    V: weir::resilience::ValueFilter<()>,
    H: weir::resilience::HintSource<&'static str>,
    N: weir::resilience::RetryHook<&'static str>,
{
    let times = RefCell::new(Vec::new());
    let out = rt.block_on(retry.run(rt, || {
        times.borrow_mut().push(rt.elapsed());
        async { Err::<(), _>("down") }
    }));
    assert_eq!(out, Err("down"));
    times.into_inner()
}

fn deltas(times: &[Duration]) -> Vec<Duration> {
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

#[test]
fn exponential_delays_are_exact_and_capped() {
    let rt = VirtualRuntime::new();
    let r = Retry::exponential(100 * MS)
        .max_delay(SEC)
        .max_attempts(7)
        .build()
        .unwrap();
    let t = call_times(&rt, &r);
    assert_eq!(t.len(), 7, "max_attempts counts the first call");
    assert_eq!(deltas(&t), [100, 200, 400, 800, 1000, 1000].map(|m| m * MS));
    assert_eq!(rt.elapsed(), 3500 * MS);
}

#[test]
fn multiplier_linear_and_constant_schedules() {
    let rt = VirtualRuntime::new();
    let r = Retry::exponential(100 * MS)
        .multiplier(3.0)
        .max_attempts(4)
        .build()
        .unwrap();
    assert_eq!(
        deltas(&call_times(&rt, &r)),
        [100, 300, 900].map(|m| m * MS)
    );
    let r = Retry::linear(100 * MS).max_attempts(4).build().unwrap();
    assert_eq!(
        deltas(&call_times(&rt, &r)),
        [100, 200, 300].map(|m| m * MS)
    );
    let r = Retry::constant(50 * MS).max_attempts(3).build().unwrap();
    assert_eq!(deltas(&call_times(&rt, &r)), [50, 50].map(|m| m * MS));
    let r = Retry::constant(50 * MS).max_attempts(1).build().unwrap();
    assert_eq!(
        call_times(&rt, &r).len(),
        1,
        "max_attempts(1) never retries"
    );
}

#[test]
fn seeded_jitter_is_reproducible_and_within_bounds() {
    let rt = VirtualRuntime::new();
    let r = Retry::exponential(100 * MS)
        .jitter(Jitter::Equal)
        .seed(9)
        .max_attempts(5)
        .build()
        .unwrap();
    let a = deltas(&call_times(&rt, &r));
    let b = deltas(&call_times(&rt, &r));
    assert_eq!(a, b, "same seed, same delays");
    for (i, d) in a.iter().enumerate() {
        let nominal = 100 * MS * (1 << i);
        assert!(*d >= nominal / 2 && *d <= nominal, "{d:?} vs {nominal:?}");
    }
}

#[test]
fn non_retryable_error_returns_after_one_call() {
    let rt = VirtualRuntime::new();
    let r = Retry::constant(SEC)
        .max_attempts(5)
        .retry_if(|e: &u16| *e >= 500)
        .build()
        .unwrap();
    let mut calls = 0;
    let out: Result<(), u16> = rt.block_on(r.run(&rt, || {
        calls += 1;
        let code = if calls < 3 { 503 } else { 404 };
        async move { Err(code) }
    }));
    assert_eq!(out, Err(404));
    assert_eq!(calls, 3);
    assert_eq!(rt.elapsed(), 2 * SEC);
}

#[test]
fn retryable_values_are_retried_and_the_last_one_returned() {
    let rt = VirtualRuntime::new();
    let r = Retry::constant(SEC)
        .max_attempts(3)
        .retry_on_value(|status: &u16| *status == 503)
        .build()
        .unwrap();
    let mut calls = 0u16;
    let out: Result<u16, ()> = rt.block_on(r.run(&rt, || {
        calls += 1;
        async { Ok(503) }
    }));
    assert_eq!(out, Ok(503), "exhausted: the last value, as a value");
    assert_eq!(calls, 3);
    let mut calls = 0u16;
    let out: Result<u16, ()> = rt.block_on(r.run(&rt, || {
        calls += 1;
        let s = if calls == 2 { 200 } else { 503 };
        async move { Ok(s) }
    }));
    assert_eq!(out, Ok(200));
}

#[derive(Debug, PartialEq)]
struct Throttled(Option<Duration>);

impl RetryAfter for Throttled {
    fn retry_after(&self) -> Option<Duration> {
        self.0
    }
}

#[test]
fn retry_after_hint_replaces_the_delay_and_restarts_backoff() {
    let rt = VirtualRuntime::new();
    let r = Retry::exponential(100 * MS)
        .max_delay(SEC)
        .max_attempts(5)
        .honor_retry_after()
        // The hint exactly: its jitter is tested in retry_hints.rs.
        .retry_after_jitter(0.0)
        .build()
        .unwrap();
    let hints = [None, Some(7 * SEC), None, None];
    let times = RefCell::new(Vec::new());
    let out: Result<(), Throttled> = rt.block_on(r.run(&rt, || {
        let n = times.borrow().len();
        times.borrow_mut().push(rt.elapsed());
        let h = hints.get(n).copied().flatten();
        async move { Err(Throttled(h)) }
    }));
    assert_eq!(out, Err(Throttled(None)));
    // 100 ms; then the 7 s hint exactly (not capped by max_delay); then the
    // schedule starts over at 100 ms.
    assert_eq!(
        deltas(&times.into_inner()),
        [100 * MS, 7 * SEC, 100 * MS, 200 * MS]
    );
}

#[test]
fn retry_after_from_a_closure() {
    let rt = VirtualRuntime::new();
    let r = Retry::constant(MS)
        .max_attempts(2)
        .retry_after_with(|e: &(u8, u64)| Some(Duration::from_secs(e.1)))
        .retry_after_jitter(0.0)
        .build()
        .unwrap();
    let out: Result<(), (u8, u64)> = rt.block_on(r.run(&rt, || async { Err((1, 3)) }));
    assert_eq!(out, Err((1, 3)));
    assert_eq!(rt.elapsed(), 3 * SEC);
}

#[test]
fn deadline_refuses_a_sleep_that_would_end_past_it() {
    let rt = VirtualRuntime::new();
    let r = Retry::constant(SEC)
        .max_attempts(100)
        .deadline(2500 * MS)
        .build()
        .unwrap();
    let t = call_times(&rt, &r);
    // Calls at 0, 1, 2 s; a sleep to 3 s would pass 2.5 s: give up at 2 s.
    assert_eq!(t, [Duration::ZERO, SEC, 2 * SEC]);
    assert_eq!(rt.elapsed(), 2 * SEC);
    // A sleep ending exactly at the deadline is allowed.
    let rt = VirtualRuntime::new();
    let r = Retry::constant(SEC)
        .max_attempts(100)
        .deadline(2 * SEC)
        .build()
        .unwrap();
    assert_eq!(call_times(&rt, &r).len(), 3);
}

#[test]
fn budget_stops_retries_when_exhausted_and_recovers_over_time() {
    let rt = VirtualRuntime::new();
    // 1 retry per second over a 10 s window: 10 tokens, no share of calls.
    let budget = Arc::new(
        RetryBudget::builder()
            .ratio(0.0)
            .min_per_second(1)
            .window(10 * SEC)
            .build(&rt)
            .unwrap(),
    );
    let r = Retry::constant(Duration::ZERO)
        .max_attempts(100)
        .budget(budget.clone())
        .build()
        .unwrap();
    let other = Retry::constant(Duration::ZERO)
        .max_attempts(100)
        .budget(budget.clone())
        .build()
        .unwrap();
    assert_eq!(call_times(&rt, &r).len(), 11, "1 call + 10 retries");
    assert_eq!(
        call_times(&rt, &other).len(),
        1,
        "the shared budget is empty"
    );
    assert_eq!(budget.balance(rt.now()), 0);
    rt.block_on(rt.advance(10 * SEC));
    assert_eq!(
        budget.balance(rt.now()),
        10,
        "the withdrawals left the window"
    );
    assert_eq!(call_times(&rt, &other).len(), 11);
}

#[test]
fn budget_ratio_earns_retries_from_call_volume() {
    let rt = VirtualRuntime::new();
    let budget = Arc::new(
        RetryBudget::builder()
            .ratio(0.25)
            .min_per_second(0)
            .build(&rt)
            .unwrap(),
    );
    let r = Retry::constant(Duration::ZERO)
        .max_attempts(2)
        .budget(budget.clone())
        .build()
        .unwrap();
    // 8 runs that succeed deposit 8 calls: 2 tokens.
    for _ in 0..8 {
        let out: Result<(), ()> = rt.block_on(r.run(&rt, || async { Ok(()) }));
        assert!(out.is_ok());
    }
    assert_eq!(budget.balance(rt.now()), 2);
    let now = rt.now();
    let mut s = r.start(now); // a 9th call: 9 * 0.25 = 2.25
    assert_eq!(r.next_delay(&mut s, now, None), Ok(Duration::ZERO));
    let mut s = r.start(now); // 10 calls: 2.5 - 1 = 1.5
    assert_eq!(r.next_delay(&mut s, now, None), Ok(Duration::ZERO));
    let mut s = r.start(now); // 11 calls: 2.75 - 2 = 0.75
    assert_eq!(r.next_delay(&mut s, now, None), Err(GiveUp::Budget));
}

#[test]
fn cancellation_during_backoff_ends_at_once() {
    let rt = VirtualRuntime::new();
    rt.set_auto_advance(false);
    let r = Retry::constant(10 * SEC).max_attempts(5).build().unwrap();
    let calls = Rc::new(RefCell::new(0));
    {
        let c = calls.clone();
        let fut = r.run(&rt, move || {
            *c.borrow_mut() += 1;
            async { Err::<(), _>(()) }
        });
        let mut fut = std::pin::pin!(fut);
        assert!(
            futures_lite::future::block_on(futures_lite::future::poll_once(&mut fut)).is_none()
        );
        assert_eq!(*calls.borrow(), 1);
        assert_eq!(rt.pending_timers(), 1, "sleeping in back-off");
    } // dropped mid-sleep
    assert_eq!(rt.pending_timers(), 0, "the sleep is gone");
    rt.block_on(rt.advance(60 * SEC));
    assert_eq!(*calls.borrow(), 1, "no call after cancellation");
}

#[test]
fn on_retry_sees_attempt_delay_and_error() {
    let rt = VirtualRuntime::new();
    let seen = RefCell::new(Vec::new());
    let r = Retry::linear(SEC)
        .max_attempts(3)
        .on_retry(|ev: &RetryEvent<'_, &'static str>| {
            seen.borrow_mut()
                .push((ev.attempt, ev.delay, ev.cause.error().copied()))
        })
        .build()
        .unwrap();
    let out: Result<(), &str> = rt.block_on(r.run(&rt, || async { Err("e") }));
    assert_eq!(out, Err("e"));
    assert_eq!(
        *seen.borrow(),
        [(1, SEC, Some("e")), (2, 2 * SEC, Some("e"))]
    );
}

#[test]
fn per_attempt_timeout_inside_and_overall_deadline_outside() {
    let rt = VirtualRuntime::new();
    let r = Retry::constant(500 * MS).max_attempts(3).build().unwrap();
    let attempt = || async {
        timeout(&rt, SEC, rt.sleep(5 * SEC))
            .await
            .map_err(|_| "attempt timed out")
    };
    let out: Result<(), &str> = rt.block_on(r.run(&rt, attempt));
    assert_eq!(out, Err("attempt timed out"));
    assert_eq!(rt.elapsed(), 4 * SEC, "3 x 1 s attempts + 2 x 0.5 s");

    let rt = VirtualRuntime::new();
    let deadline = rt.now() + 2 * SEC;
    let attempt = || async {
        timeout(&rt, SEC, rt.sleep(5 * SEC))
            .await
            .map_err(|_| "attempt timed out")
    };
    let out = rt.block_on(timeout_at(&rt, deadline, r.run(&rt, attempt)));
    assert!(out.is_err(), "the overall deadline wins");
    assert_eq!(rt.elapsed(), 2 * SEC);
}

#[test]
fn builder_rejects_bad_fields() {
    let rt = VirtualRuntime::new();
    let e = |r: Result<Retry, weir::ConfigError>| r.unwrap_err().field();
    assert_eq!(
        e(Retry::constant(SEC).max_attempts(0).build()),
        "max_attempts"
    );
    assert_eq!(
        e(Retry::exponential(SEC).multiplier(0.5).build()),
        "multiplier"
    );
    assert_eq!(
        e(Retry::exponential(SEC).multiplier(f64::NAN).build()),
        "multiplier"
    );
    assert_eq!(
        e(Retry::exponential(SEC).max_delay(MS).build()),
        "max_delay"
    );
    assert_eq!(
        e(Retry::exponential(SEC).deadline(Duration::ZERO).build()),
        "deadline"
    );
    let b = |r: Result<RetryBudget, weir::ConfigError>| r.unwrap_err().field();
    assert_eq!(
        b(RetryBudget::builder().ratio(f64::NAN).build(&rt)),
        "ratio"
    );
    assert_eq!(b(RetryBudget::builder().ratio(2000.0).build(&rt)), "ratio");
    assert_eq!(
        b(RetryBudget::builder()
            .ratio(0.0)
            .min_per_second(0)
            .build(&rt)),
        "min_per_second"
    );
    assert_eq!(
        b(RetryBudget::builder().window(Duration::ZERO).build(&rt)),
        "window"
    );
}

async fn retry_recovers_on_every_runtime<R: Runtime>(rt: R) {
    let r = Retry::exponential(2 * MS).max_attempts(4).build().unwrap();
    let mut calls = 0;
    let t0 = rt.now();
    let out = r
        .run(&rt, || {
            calls += 1;
            let n = calls;
            async move { if n < 3 { Err(n) } else { Ok(n) } }
        })
        .await;
    assert_eq!(out, Ok(3));
    assert!(rt.now() - t0 >= 6 * MS, "slept 2 + 4 ms");
}

on_every_runtime!(retry_recovers_on_every_runtime);

#[test]
fn policies_and_their_futures_are_send() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let rt = VirtualRuntime::new();
    let r = Retry::constant(SEC)
        .retry_if(|e: &u8| *e > 0)
        .on_retry(|_: &RetryEvent<'_, u8>| {})
        .build()
        .unwrap();
    send_sync(&r);
    let fut = r.run(&rt, || async { Err::<(), u8>(1) });
    send(&fut);
    drop(fut);
    send_sync(&RetryBudget::builder().build(&rt).unwrap());
    send_sync(&weir::Timeout::new(rt.clone(), SEC).unwrap());
    let b = weir::CircuitBreaker::builder().build(rt.clone()).unwrap();
    send_sync(&b);
    let call = b.call(|| async { Ok::<_, ()>(()) });
    send(&call);
}
