//! The rate limiter allocates nothing per check and nothing per wait.

use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use weir::Quota;

use weir::RateLimiter;
use weir::test_util::VirtualRuntime;
use weir::test_util::alloc_count::{self, CountingAllocator};

#[global_allocator]
static A: CountingAllocator = CountingAllocator::system();

#[test]
fn checks_and_probes_allocate_nothing() {
    let rt = VirtualRuntime::new();
    let limiter = RateLimiter::builder()
        .quota(Quota::new(1_000_000, Duration::from_secs(1)).burst(10))
        .build(rt)
        .unwrap();
    let _ = limiter.try_acquire();
    for _ in 0..1000 {
        let (n, _) = alloc_count::count(|| limiter.try_acquire());
        assert_eq!(n.allocations, 0);
        let (n, _) = alloc_count::count(|| limiter.try_acquire_many(3));
        assert_eq!(n.allocations, 0);
        let (n, _) = alloc_count::count(|| limiter.try_acquire_many(0));
        assert_eq!(n.allocations, 0);
        let (n, refused) = alloc_count::count(|| limiter.try_acquire_many(11));
        assert_eq!(n.allocations, 0);
        assert!(refused.is_err());
    }
}

/// A waiter that must sleep: the reservation and the runtime's sleep live
/// inline in the future. The virtual runtime's timer map keeps its node
/// once it has one, so after a warm-up the whole wait, from the first poll
/// to the grant, allocates nothing; so does a cancelled wait.
#[test]
fn waiting_and_cancelling_allocate_nothing() {
    let rt = VirtualRuntime::new();
    rt.set_auto_advance(false);
    let limiter = RateLimiter::builder()
        .quota(Quota::new(10, Duration::from_secs(1)).burst(1))
        .build(rt.clone())
        .unwrap();
    let mut cx = Context::from_waker(Waker::noop());
    for round in 0..50 {
        let warm = round < 2;
        limiter.try_acquire().unwrap();
        let mut waiter = pin!(limiter.acquire());
        let (n, first) = alloc_count::count(|| waiter.as_mut().poll(&mut cx));
        assert_eq!(first, Poll::Pending);
        assert!(warm || n.allocations == 0, "first poll allocated {n:?}");
        rt.block_on(rt.advance(Duration::from_millis(100)));
        let (n, granted) = alloc_count::count(|| waiter.as_mut().poll(&mut cx));
        assert_eq!(granted, Poll::Ready(()));
        assert!(warm || n.allocations == 0, "grant allocated {n:?}");

        // Cancelled before its instant: no allocation, units come back.
        limiter.try_acquire().unwrap_err();
        let (n, ()) = alloc_count::count(|| {
            let mut gone = pin!(limiter.acquire());
            assert_eq!(gone.as_mut().poll(&mut cx), Poll::Pending);
        });
        assert!(warm || n.allocations == 0, "cancelled wait allocated {n:?}");
        rt.block_on(rt.advance(Duration::from_millis(100)));
    }
}
