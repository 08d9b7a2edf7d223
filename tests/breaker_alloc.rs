//! Zero allocations: the breaker's closed path (admit, call, record) and a
//! retry decision (next delay with jitter and budget), after warm-up.

use std::sync::Arc;
use std::time::{Duration, Instant};

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use weir::test_util::VirtualRuntime;
use weir::test_util::alloc_count::{self, CountingAllocator};
use weir::{
    CircuitBreaker, Retry, RetryBudget,
    resilience::{Jitter, Outcome, timeout},
};

#[global_allocator]
static A: CountingAllocator = CountingAllocator::system();

/// Polls once on this thread with a no-op waker: the count stays per thread
/// and no executor allocates behind our back.
fn poll_now<F: Future>(fut: F) -> Poll<F::Output> {
    let fut = pin!(fut);
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn closed_breaker_bookkeeping_allocates_nothing() {
    let rt = VirtualRuntime::new();
    let count = CircuitBreaker::builder()
        .window_count(100)
        .min_calls(50)
        .build(rt.clone())
        .unwrap();
    let timed = CircuitBreaker::builder()
        .window_time(Duration::from_secs(10), 10)
        .slow_calls(0.9, Duration::from_secs(1))
        .build(rt.clone())
        .unwrap();
    let run = CircuitBreaker::builder()
        .consecutive_failures(1000)
        .build(rt.clone())
        .unwrap();
    for _ in 0..3 {
        for b in [&count, &timed, &run] {
            b.try_acquire()
                .unwrap()
                .record(Outcome::Success, Duration::ZERO);
            b.try_acquire()
                .unwrap()
                .record(Outcome::Failure, Duration::ZERO);
            drop(b.try_acquire().unwrap());
        }
    }
    for b in [&count, &timed, &run] {
        for outcome in [Outcome::Success, Outcome::Failure, Outcome::Ignored] {
            let (n, ()) = alloc_count::count(|| {
                b.try_acquire()
                    .unwrap()
                    .record(outcome, Duration::from_millis(3))
            });
            assert_eq!(n.allocations, 0, "{outcome:?}");
        }
        let (n, out) = alloc_count::count(|| poll_now(b.call(|| async { Ok::<_, ()>(1) })));
        assert_eq!(out, Poll::Ready(Ok(1)));
        assert_eq!(n.allocations, 0, "call()");
    }
}

#[test]
fn a_pending_call_and_its_cancellation_allocate_nothing() {
    let rt = VirtualRuntime::new();
    let b = CircuitBreaker::builder().build(rt.clone()).unwrap();
    let (n, ()) = alloc_count::count(|| {
        let fut = b.call(std::future::pending::<Result<(), ()>>);
        assert!(poll_now(fut).is_pending());
    });
    assert_eq!(n.allocations, 0);
}

#[test]
fn rejection_allocates_nothing() {
    let rt = VirtualRuntime::new();
    let b = CircuitBreaker::builder()
        .consecutive_failures(1)
        .build(rt)
        .unwrap();
    b.try_acquire()
        .unwrap()
        .record(Outcome::Failure, Duration::ZERO);
    let _ = b.try_acquire();
    let (n, r) = alloc_count::count(|| b.try_acquire().map(drop));
    assert!(r.is_err());
    assert_eq!(n.allocations, 0);
}

#[test]
fn a_retry_decision_allocates_nothing() {
    let rt = VirtualRuntime::new();
    let budget = Arc::new(RetryBudget::builder().build(&rt).unwrap());
    for jitter in [
        Jitter::None,
        Jitter::Full,
        Jitter::Equal,
        Jitter::Decorrelated,
    ] {
        let r = Retry::exponential(Duration::from_millis(10))
            .max_delay(Duration::from_secs(1))
            .jitter(jitter)
            .max_attempts(1000)
            .budget(budget.clone())
            .build()
            .unwrap();
        let now = Instant::now();
        let mut s = r.start(now);
        r.next_delay(&mut s, now, None).unwrap();
        let (n, d) = alloc_count::count(|| {
            let mut s = r.start(now);
            r.next_delay(&mut s, now, None)
        });
        assert!(d.is_ok());
        assert_eq!(n.allocations, 0, "{jitter:?}");
    }
}

#[test]
fn a_timeout_on_a_ready_future_allocates_nothing() {
    let rt = VirtualRuntime::new();
    let (n, out) =
        alloc_count::count(|| poll_now(timeout(&rt, Duration::from_secs(1), async { 3 })));
    assert_eq!(out, Poll::Ready(Ok(3)));
    assert_eq!(n.allocations, 0);
}
