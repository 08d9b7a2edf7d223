//! A call that succeeds first time allocates nothing through the whole
//! pipeline (timeout + retry + breaker + rate limit + bulkhead).

use std::task::{Context, Poll, Waker};
use std::time::Duration;
use weir::Quota;

use weir::Policy;
use weir::test_util::VirtualRuntime;
use weir::test_util::alloc_count::{self, CountingAllocator};
use weir::{Bulkhead, RateLimiter};
use weir::{CircuitBreaker, Retry};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::system();

#[test]
fn successful_call_through_every_layer_allocates_nothing() {
    let rt = VirtualRuntime::new();
    let rate = RateLimiter::builder()
        .quota(Quota::new(1_000_000, Duration::from_secs(1)).burst(1_000_000))
        .build(rt.clone())
        .unwrap();
    let bulkhead = Bulkhead::builder()
        .max_concurrent(8)
        .queue_capacity(8)
        .build(rt.clone())
        .unwrap();
    let breaker = CircuitBreaker::builder().build(rt.clone()).unwrap();
    let retry = Retry::exponential(Duration::from_millis(10))
        .max_attempts(3)
        .build()
        .unwrap();
    let policy = Policy::new(rt.clone())
        .timeout(Duration::from_secs(5))
        .retry(retry)
        .breaker(breaker)
        .rate_limit(rate)
        .bulkhead(bulkhead);
    let mut cx = Context::from_waker(Waker::noop());
    let mut call_once = |i: u64| {
        let fut = std::pin::pin!(policy.call(|| async move { Ok::<_, ()>(i) }));
        fut.poll(&mut cx)
    };
    for i in 0..100 {
        assert_eq!(call_once(i), Poll::Ready(Ok(i)));
    }
    let (n, out) = alloc_count::count(|| {
        let mut sum = 0;
        for i in 0..1000 {
            if let Poll::Ready(Ok(v)) = call_once(i) {
                sum += v;
            }
        }
        sum
    });
    assert_eq!(out, (0..1000).sum::<u64>());
    assert_eq!(n.allocations, 0, "{n:?}");
}

/// The cancellation layer and `call_with_cancel` cost nothing on a call
/// that completes without waiting: the token is only registered with once
/// the work has to wait.
#[test]
fn cancellation_allocates_nothing_when_the_call_does_not_wait() {
    let rt = VirtualRuntime::new();
    let shutdown = weir::CancellationToken::new();
    let request = weir::CancellationToken::new();
    let retry = Retry::exponential(Duration::from_millis(10))
        .max_attempts(3)
        .build()
        .unwrap();
    let policy = Policy::new(rt.clone())
        .cancel_on(shutdown.clone())
        .retry(retry);
    let mut cx = Context::from_waker(Waker::noop());
    let mut call_once = |i: u64| {
        let fut =
            std::pin::pin!(policy.call_with_cancel(&request, || async move { Ok::<_, ()>(i) }));
        fut.poll(&mut cx)
    };
    for i in 0..100 {
        assert_eq!(call_once(i), Poll::Ready(Ok(i)));
    }
    let (n, out) = alloc_count::count(|| {
        let mut sum = 0;
        for i in 0..1000 {
            if let Poll::Ready(Ok(v)) = call_once(i) {
                sum += v;
            }
        }
        sum
    });
    assert_eq!(out, (0..1000).sum::<u64>());
    assert_eq!(n.allocations, 0, "{n:?}");
}
