//! ResourcePool get + put allocates nothing in steady state, including a
//! caller that has to wait for a returned resource.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use weir::test_util::VirtualRuntime;
use weir::test_util::alloc_count::{self, CountingAllocator};
use weir::{ResourcePool, pool::Manager};

#[global_allocator]
static A: CountingAllocator = CountingAllocator::system();

fn poll<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

struct Ints;

impl Manager for Ints {
    type Resource = u64;
    type Error = ();
    async fn create(&self) -> Result<u64, ()> {
        Ok(5)
    }
    async fn recycle(&self, _: &mut u64) -> Result<(), ()> {
        Ok(())
    }
}

/// One round: a get+put of an idle resource, then a second caller that
/// waits while the only resource is out and is served when it comes back.
fn round(pool: &ResourcePool<Ints, VirtualRuntime>) {
    let Poll::Ready(Ok(held)) = poll(pin!(pool.get())) else {
        panic!("an idle resource is ready at once")
    };
    let mut waiting = pin!(pool.get());
    assert!(poll(waiting.as_mut()).is_pending());
    drop(held);
    let Poll::Ready(Ok(again)) = poll(waiting.as_mut()) else {
        panic!("the waiter is served by the return")
    };
    assert_eq!(*again, 5);
}

#[test]
fn get_put_and_waiting_allocate_nothing() {
    let pool = ResourcePool::builder(Ints)
        .max_size(1)
        .build(VirtualRuntime::new())
        .unwrap();
    for _ in 0..4 {
        round(&pool); // warm-up: the resource, the waiter node, the queues
    }
    for _ in 0..100 {
        let (counts, ()) = alloc_count::count(|| round(&pool));
        assert_eq!(counts.allocations, 0, "{counts:?}");
    }
    assert_eq!(pool.stats().created, 1);
}
