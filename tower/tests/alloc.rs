//! What the layers allocate, counted: nothing per call on the gating
//! layers (their permits move, nothing is boxed), nothing for a repeated
//! wait (the wait's box is reused), and one box per call for a whole
//! Policy.

use std::future::{Future, ready};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use weir_core::Quota;

use tower::Service;
use weir_core::CircuitBreaker;
use weir_core::Policy;
use weir_core::test_util::VirtualRuntime;
use weir_core::test_util::alloc_count::{self, CountingAllocator};
use weir_core::{Bulkhead, RateLimiter};
use weir_tower::{BreakerService, BulkheadService, PolicyService, RateLimitService};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::system();

fn echo()
-> impl Service<u32, Response = u32, Error = (), Future = std::future::Ready<Result<u32, ()>>> + Clone
{
    tower::service_fn(|x: u32| ready(Ok(x)))
}

/// One call made by hand: ready, call, poll the response to its end.
fn one_call<S: Service<u32>>(svc: &mut S) -> Result<S::Response, S::Error> {
    let mut cx = Context::from_waker(Waker::noop());
    let Poll::Ready(Ok(())) = svc.poll_ready(&mut cx) else {
        panic!("not ready");
    };
    let mut fut = pin!(svc.call(7));
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the inner service answers at once"),
    }
}

#[test]
fn gating_layers_allocate_nothing_per_call() {
    let rt = VirtualRuntime::new();
    let bulkhead = Bulkhead::builder()
        .max_concurrent(4)
        .build(rt.clone())
        .unwrap();
    let breaker = CircuitBreaker::builder().build(rt.clone()).unwrap();
    let rate = RateLimiter::builder()
        .quota(Quota::new(1000, Duration::from_secs(1)).burst(1000))
        .build(rt.clone())
        .unwrap();
    let mut b = BulkheadService::new(echo(), bulkhead);
    let mut c = BreakerService::new(echo(), rt.clone(), breaker);
    let mut r = RateLimitService::new(echo(), rate);
    // Warm-up: anything allocated once per service happens here.
    one_call(&mut b).unwrap();
    one_call(&mut c).unwrap();
    one_call(&mut r).unwrap();

    let (n, ()) = alloc_count::count(|| {
        for _ in 0..100 {
            one_call(&mut b).unwrap();
            one_call(&mut c).unwrap();
            // The virtual clock stands still: the burst covers every call.
            one_call(&mut r).unwrap();
        }
    });
    assert_eq!(n.allocations, 0, "{n:?}");
}

#[test]
fn a_repeated_wait_in_the_bulkhead_reuses_its_box() {
    let rt = VirtualRuntime::new();
    let bulkhead = Bulkhead::builder()
        .max_concurrent(1)
        .queue_capacity(4)
        .build(rt.clone())
        .unwrap();
    let mut holder = BulkheadService::new(echo(), bulkhead);
    let mut waiter = holder.clone();
    let mut cx = Context::from_waker(Waker::noop());

    let mut round = || {
        assert!(holder.poll_ready(&mut cx).is_ready());
        assert!(waiter.poll_ready(&mut cx).is_pending(), "the waiter queues");
        let mut held = pin!(holder.call(1));
        assert!(
            held.as_mut().poll(&mut cx).is_ready(),
            "the holder's call ends, its permit returns"
        );
        assert!(matches!(waiter.poll_ready(&mut cx), Poll::Ready(Ok(()))));
        let mut second = pin!(waiter.call(2));
        assert!(second.as_mut().poll(&mut cx).is_ready());
    };
    round();
    let (n, ()) = alloc_count::count(&mut round);
    assert_eq!(n.allocations, 0, "{n:?}");
}

#[test]
fn a_policy_call_costs_one_box() {
    let rt = VirtualRuntime::new();
    let policy = Policy::new(rt.clone()).timeout(Duration::from_secs(1));
    let mut svc = PolicyService::new(echo(), policy);
    one_call(&mut svc).unwrap();
    let (n, out) = alloc_count::count(|| one_call(&mut svc));
    assert_eq!(out, Ok(7));
    assert_eq!(n.allocations, 1, "{n:?}");
}
