//! Readiness of the gating layers, with tower-test's mock service and
//! weir's virtual clock: `poll_ready` is `Pending` exactly while the
//! component would make a caller wait, its task is woken when capacity
//! returns, and a refusal fails the call without reaching the inner service.

use std::task::Poll;
use std::time::Duration;
use weir_core::Quota;

use futures_lite::future::{block_on, poll_once};
use tower_test::mock::{self, Handle};
use weir_core::test_util::VirtualRuntime;
use weir_core::{AdaptiveLimiter, Bulkhead, KeyedRateLimiter, RateLimiter, limit::Aimd};
use weir_core::{
    CircuitBreaker,
    resilience::{Outcome, State},
};
use weir_core::{Error, policy::Rejection};
use weir_tower::{AdaptiveLayer, BreakerLayer, BulkheadLayer, KeyedRateLimitLayer, RateLimitLayer};

type Mocked = Handle<&'static str, &'static str>;
/// tower-test's error type (its alias is private).
type MockError = Box<dyn std::error::Error + Send + Sync>;

fn ready<T>(p: Poll<Result<(), T>>) -> bool {
    matches!(p, Poll::Ready(Ok(())))
}

/// Answers the next request the mock received with `reply`; fails if none
/// arrived.
fn answer(handle: &mut Mocked, reply: &'static str) -> &'static str {
    let Poll::Ready(Some((req, send))) = handle.poll_request() else {
        panic!("the inner service got no request");
    };
    send.send_response(reply);
    req
}

/// The outcome of a future that must be ready at its first poll (a
/// refusal never waits).
fn now<F: std::future::Future>(fut: F) -> F::Output {
    block_on(poll_once(fut)).expect("a refused call completes at once")
}

fn no_request(handle: &mut Mocked) -> bool {
    handle.poll_request().is_pending()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn full_bulkhead_is_pending_and_woken_when_a_permit_returns() {
    let rt = VirtualRuntime::new();
    let b = Bulkhead::builder()
        .max_concurrent(1)
        .queue_capacity(4)
        .build(rt.clone())
        .unwrap();
    let layer = BulkheadLayer::new(b);
    let (mut first, mut h1) = mock::spawn_layer::<&str, &str, _>(layer.clone());
    let (mut second, mut h2) = mock::spawn_layer::<&str, &str, _>(layer.clone());

    assert!(ready(first.poll_ready()));
    assert!(
        second.poll_ready().is_pending(),
        "the only permit is held by `first`"
    );
    assert_eq!(layer.bulkhead().stats().in_flight, 1);

    let call = first.call("a");
    assert_eq!(answer(&mut h1, "A"), "a");
    assert!(
        !second.is_woken(),
        "the permit is still held by the response future"
    );
    assert_eq!(block_on(call).unwrap(), "A");
    assert!(second.is_woken(), "the returned permit wakes the waiter");
    assert!(ready(second.poll_ready()));
    let call = second.call("b");
    assert_eq!(answer(&mut h2, "B"), "b");
    assert_eq!(block_on(call).unwrap(), "B");
    assert_eq!(layer.bulkhead().stats().in_flight, 0);
}

#[test]
fn dropping_a_readied_service_or_its_response_returns_the_permit() {
    let rt = VirtualRuntime::new();
    let b = Bulkhead::builder()
        .max_concurrent(1)
        .queue_capacity(4)
        .build(rt.clone())
        .unwrap();
    let layer = BulkheadLayer::new(b);
    let (mut first, _h1) = mock::spawn_layer::<&str, &str, _>(layer.clone());
    let (mut second, _h2) = mock::spawn_layer::<&str, &str, _>(layer.clone());

    assert!(ready(first.poll_ready()));
    assert!(second.poll_ready().is_pending());
    drop(first);
    assert!(
        second.is_woken(),
        "a readied service dropped gives its permit back"
    );
    assert!(ready(second.poll_ready()));
    let response = second.call("b");
    drop(response);
    assert_eq!(
        layer.bulkhead().stats().in_flight,
        0,
        "a dropped response gives its permit back"
    );
}

#[test]
fn bulkhead_without_room_to_wait_is_ready_and_fails_fast() {
    let rt = VirtualRuntime::new();
    let b = Bulkhead::builder()
        .max_concurrent(1)
        .queue_capacity(0)
        .build(rt.clone())
        .unwrap();
    let layer = BulkheadLayer::new(b);
    let (mut first, _h1) = mock::spawn_layer::<&str, &str, _>(layer.clone());
    let (mut second, mut h2) = mock::spawn_layer::<&str, &str, _>(layer.clone());

    assert!(ready(first.poll_ready()));
    assert!(
        ready(second.poll_ready()),
        "queue_capacity = 0: nobody waits"
    );
    let out = now(second.call("b"));
    assert!(
        matches!(out, Err(Error::Rejected(Rejection::QueueFull))),
        "{out:?}"
    );
    assert!(
        no_request(&mut h2),
        "a refused call never reaches the inner service"
    );
}

#[test]
fn bulkhead_waiter_is_refused_exactly_at_acquire_timeout() {
    let rt = VirtualRuntime::new();
    rt.set_auto_advance(false);
    let b = Bulkhead::builder()
        .max_concurrent(1)
        .queue_capacity(1)
        .acquire_timeout(secs(2))
        .build(rt.clone())
        .unwrap();
    let layer = BulkheadLayer::new(b);
    let (mut first, _h1) = mock::spawn_layer::<&str, &str, _>(layer.clone());
    let (mut second, mut h2) = mock::spawn_layer::<&str, &str, _>(layer.clone());

    assert!(ready(first.poll_ready()));
    assert!(second.poll_ready().is_pending());
    rt.block_on(rt.advance(Duration::from_millis(1999)));
    assert!(!second.is_woken());
    rt.block_on(rt.advance(Duration::from_millis(1)));
    assert!(second.is_woken(), "woken at acquire_timeout");
    assert!(
        ready(second.poll_ready()),
        "Ready, so that the call reports the refusal"
    );
    let out = now(second.call("b"));
    assert!(
        matches!(out, Err(Error::Rejected(Rejection::WaitTimeout))),
        "{out:?}"
    );
    assert!(no_request(&mut h2));
    assert_eq!(rt.elapsed(), secs(2));
}

#[test]
fn bulkhead_readiness_waits_for_the_inner_service_too() {
    let rt = VirtualRuntime::new();
    let b = Bulkhead::builder()
        .max_concurrent(1)
        .build(rt.clone())
        .unwrap();
    let (mut svc, mut handle) = mock::spawn_layer::<&str, &str, _>(BulkheadLayer::new(b));
    handle.allow(0);
    assert!(
        svc.poll_ready().is_pending(),
        "the inner service is not ready"
    );
    handle.allow(1);
    assert!(svc.is_woken());
    assert!(ready(svc.poll_ready()));
}

#[test]
fn open_breaker_is_ready_and_fails_fast_with_the_time_left() {
    let rt = VirtualRuntime::new();
    rt.set_auto_advance(false);
    let breaker = CircuitBreaker::builder()
        .consecutive_failures(1)
        .open_for(secs(30))
        .half_open_calls(1)
        .build(rt.clone())
        .unwrap();
    let layer = BreakerLayer::new(rt.clone(), breaker);
    let (mut svc, mut handle) = mock::spawn_layer::<&str, &str, _>(layer.clone());

    assert!(ready(svc.poll_ready()));
    let call = svc.call("a");
    let Poll::Ready(Some((_, send))) = handle.poll_request() else {
        panic!("no request")
    };
    send.send_error("backend down");
    assert!(matches!(block_on(call), Err(Error::Inner(_))));
    assert_eq!(layer.breaker().state(), State::Open);

    rt.block_on(rt.advance(secs(10)));
    assert!(
        ready(svc.poll_ready()),
        "an open breaker does not park the caller"
    );
    let out = now(svc.call("b"));
    assert!(
        matches!(out, Err(Error::CircuitOpen { remaining }) if remaining == secs(20)),
        "{out:?}"
    );
    assert!(
        no_request(&mut handle),
        "the open breaker kept the call from the backend"
    );
}

#[test]
fn half_open_probe_slot_is_taken_at_readiness() {
    let rt = VirtualRuntime::new();
    rt.set_auto_advance(false);
    let breaker = CircuitBreaker::builder()
        .consecutive_failures(1)
        .open_for(secs(30))
        .half_open_calls(1)
        .build(rt.clone())
        .unwrap();
    breaker
        .try_acquire()
        .unwrap()
        .record(Outcome::Failure, Duration::ZERO);
    let layer = BreakerLayer::new(rt.clone(), breaker);
    let (mut probe, mut h1) = mock::spawn_layer::<&str, &str, _>(layer.clone());
    let (mut other, mut h2) = mock::spawn_layer::<&str, &str, _>(layer.clone());

    rt.block_on(rt.advance(secs(30)));
    assert!(ready(probe.poll_ready()), "the probe slot");
    assert!(ready(other.poll_ready()));
    assert!(
        matches!(now(other.call("x")), Err(Error::CircuitOpen { .. })),
        "the one probe slot was taken by the first readied service"
    );
    assert!(no_request(&mut h2));
    let call = probe.call("p");
    answer(&mut h1, "ok");
    assert_eq!(block_on(call).unwrap(), "ok");
    assert_eq!(
        layer.breaker().state(),
        State::Closed,
        "a successful probe closes it"
    );
}

#[test]
fn breaker_counts_what_its_classifier_calls_a_failure() {
    let rt = VirtualRuntime::new();
    // A response "503" is a failure even though the call succeeded.
    let breaker = CircuitBreaker::builder()
        .consecutive_failures(2)
        .classifier(|r: &Result<&'static str, MockError>| match r {
            Ok("503") | Err(_) => Outcome::Failure,
            Ok(_) => Outcome::Success,
        })
        .build(rt.clone())
        .unwrap();
    let layer = BreakerLayer::new(rt.clone(), breaker);
    let (mut svc, mut handle) = mock::spawn_layer::<&str, &str, _>(layer.clone());
    for _ in 0..2 {
        assert!(ready(svc.poll_ready()));
        let call = svc.call("a");
        answer(&mut handle, "503");
        assert_eq!(
            block_on(call).unwrap(),
            "503",
            "the response itself is passed on"
        );
    }
    assert_eq!(layer.breaker().state(), State::Open);
}

#[test]
fn rate_limit_waits_in_poll_ready_until_the_exact_instant() {
    let rt = VirtualRuntime::new();
    rt.set_auto_advance(false);
    let limiter = RateLimiter::builder()
        .quota(Quota::new(1, secs(1)))
        .build(rt.clone())
        .unwrap();
    let (mut svc, mut handle) = mock::spawn_layer::<&str, &str, _>(RateLimitLayer::new(limiter));

    assert!(ready(svc.poll_ready()));
    let call = svc.call("a");
    answer(&mut handle, "A");
    block_on(call).unwrap();

    assert!(
        svc.poll_ready().is_pending(),
        "the next unit conforms in 1 s"
    );
    rt.block_on(rt.advance(Duration::from_millis(999)));
    assert!(!svc.is_woken());
    rt.block_on(rt.advance(Duration::from_millis(1)));
    assert!(svc.is_woken(), "woken when the call conforms");
    assert!(ready(svc.poll_ready()));
    let call = svc.call("b");
    answer(&mut handle, "B");
    assert_eq!(block_on(call).unwrap(), "B");
}

#[test]
fn rate_limit_or_reject_is_ready_and_fails_fast_with_retry_after() {
    let rt = VirtualRuntime::new();
    rt.set_auto_advance(false);
    let limiter = RateLimiter::builder()
        .quota(Quota::new(2, secs(1)).burst(1))
        .build(rt.clone())
        .unwrap();
    let (mut svc, mut handle) =
        mock::spawn_layer::<&str, &str, _>(RateLimitLayer::or_reject(limiter));

    assert!(ready(svc.poll_ready()));
    let call = svc.call("a");
    answer(&mut handle, "A");
    block_on(call).unwrap();
    assert!(ready(svc.poll_ready()));
    let out = now(svc.call("b"));
    assert!(
        matches!(out, Err(Error::RateLimited { retry_after }) if retry_after == Duration::from_millis(500)),
        "{out:?}"
    );
    assert!(no_request(&mut handle));
}

#[test]
fn keyed_rate_limit_refuses_per_key_in_call() {
    let rt = VirtualRuntime::new();
    let limiter = KeyedRateLimiter::<char, _>::builder()
        .quota(Quota::new(1, secs(1)))
        .build(rt.clone())
        .unwrap();
    let layer = KeyedRateLimitLayer::new(limiter, |req: &&'static str| req.chars().next().unwrap());
    let (mut svc, mut handle) = mock::spawn_layer::<&str, &str, _>(layer);

    assert!(ready(svc.poll_ready()));
    let call = svc.call("alice-1");
    answer(&mut handle, "ok");
    block_on(call).unwrap();
    assert!(ready(svc.poll_ready()), "readiness is the inner service's");
    let out = now(svc.call("alice-2"));
    assert!(
        matches!(out, Err(Error::RateLimited { retry_after }) if retry_after == secs(1)),
        "{out:?}"
    );
    assert!(no_request(&mut handle));
    assert!(ready(svc.poll_ready()));
    let call = svc.call("bob-1");
    assert_eq!(
        answer(&mut handle, "ok"),
        "bob-1",
        "another key has its own quota"
    );
    block_on(call).unwrap();
}

#[test]
fn keyed_rate_limit_without_room_for_a_new_key_is_rejected() {
    let rt = VirtualRuntime::new();
    let limiter = KeyedRateLimiter::<char, _>::builder()
        .quota(Quota::new(1, secs(1)))
        .max_keys(1)
        .build(rt.clone())
        .unwrap();
    let layer = KeyedRateLimitLayer::new(limiter, |req: &&'static str| req.chars().next().unwrap());
    let (mut svc, mut handle) = mock::spawn_layer::<&str, &str, _>(layer);
    assert!(ready(svc.poll_ready()));
    let call = svc.call("a");
    answer(&mut handle, "ok");
    block_on(call).unwrap();
    assert!(ready(svc.poll_ready()));
    let out = now(svc.call("b"));
    assert!(
        matches!(out, Err(Error::Rejected(Rejection::QueueFull))),
        "{out:?}"
    );
}

#[test]
fn adaptive_limit_takes_its_permit_at_readiness_and_learns_from_results() {
    let rt = VirtualRuntime::new();
    let bulkhead = Bulkhead::builder()
        .max_concurrent(100)
        .queue_capacity(8)
        .build(rt.clone())
        .unwrap();
    let aimd = Aimd::builder().min(1).initial(1).build().unwrap();
    let layer = AdaptiveLayer::new(AdaptiveLimiter::new(bulkhead, aimd));
    let (mut first, mut h1) = mock::spawn_layer::<&str, &str, _>(layer.clone());
    let (mut second, mut h2) = mock::spawn_layer::<&str, &str, _>(layer.clone());

    assert!(ready(first.poll_ready()));
    assert!(second.poll_ready().is_pending(), "the limit is 1");
    let call = first.call("a");
    answer(&mut h1, "A");
    block_on(call).unwrap();
    assert!(second.is_woken());
    assert_eq!(layer.limiter().limit(), 2, "a success raises AIMD's limit");

    assert!(ready(second.poll_ready()));
    let call = second.call("b");
    let Poll::Ready(Some((_, send))) = h2.poll_request() else {
        panic!("no request")
    };
    send.send_error("overloaded");
    assert!(matches!(block_on(call), Err(Error::Inner(_))));
    assert_eq!(
        layer.limiter().stats().dropped,
        1,
        "an error is a loss signal"
    );
    assert!(layer.limiter().limit() < 2);
}

#[test]
fn a_clone_does_not_share_a_reserved_permit() {
    let rt = VirtualRuntime::new();
    let b = Bulkhead::builder()
        .max_concurrent(1)
        .build(rt.clone())
        .unwrap();
    let layer = BulkheadLayer::new(b);
    let (mut svc, mut handle) = mock::spawn_layer::<&str, &str, _>(layer.clone());
    assert!(ready(svc.poll_ready()));
    let mut clone = svc.get_ref().clone();
    let out = block_on(poll_once(tower::Service::call(&mut clone, "c")));
    assert!(
        matches!(out, Some(Err(Error::Rejected(Rejection::QueueFull)))),
        "the clone has no permit and none is free: {out:?}"
    );
    assert!(no_request(&mut handle));
}
