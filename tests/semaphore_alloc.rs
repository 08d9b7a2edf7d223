//! Zero allocations per semaphore operation in steady state, including an
//! acquire that has to wait and is then granted, and one cancelled while it
//! waits: the waiter node lives in the future, so waiting costs no heap.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use weir::test_util::alloc_count::{self, CountingAllocator};
use weir::{Semaphore, sync::Fairness};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::system();

fn sems() -> Vec<Semaphore> {
    let mut v = Vec::new();
    for fairness in [Fairness::Fair, Fairness::Barging] {
        for spin in [true, false] {
            v.push(
                Semaphore::builder(1)
                    .fairness(fairness)
                    .spin(spin)
                    .build()
                    .unwrap(),
            );
        }
    }
    v
}

fn uncontended(sem: &Semaphore) {
    let mut cx = Context::from_waker(Waker::noop());
    let mut acq = pin!(sem.acquire());
    let Poll::Ready(Ok(p)) = acq.as_mut().poll(&mut cx) else {
        panic!("a free permit is granted at once")
    };
    drop(p);
    drop(sem.try_acquire().unwrap());
}

fn wait_then_granted(sem: &Semaphore) {
    let mut cx = Context::from_waker(Waker::noop());
    let held = sem.try_acquire().unwrap();
    let mut acq = pin!(sem.acquire());
    assert!(acq.as_mut().poll(&mut cx).is_pending());
    drop(held);
    let Poll::Ready(Ok(p)) = acq.as_mut().poll(&mut cx) else {
        panic!("granted after the release")
    };
    drop(p);
}

fn wait_then_cancelled(sem: &Semaphore) {
    let mut cx = Context::from_waker(Waker::noop());
    let held = sem.try_acquire().unwrap();
    {
        let mut acq = pin!(sem.acquire());
        assert!(acq.as_mut().poll(&mut cx).is_pending());
    }
    drop(held);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn uncontended_acquire_release_allocates_nothing() {
    for sem in sems() {
        uncontended(&sem);
        let (n, ()) = alloc_count::count(|| uncontended(&sem));
        assert_eq!(n.allocations, 0, "{sem:?}");
    }
}

#[test]
fn acquire_that_waits_then_is_granted_allocates_nothing() {
    for sem in sems() {
        wait_then_granted(&sem);
        let (n, ()) = alloc_count::count(|| wait_then_granted(&sem));
        assert_eq!(n.allocations, 0, "{sem:?}");
    }
}

#[test]
fn acquire_cancelled_while_waiting_allocates_nothing() {
    for sem in sems() {
        wait_then_cancelled(&sem);
        let (n, ()) = alloc_count::count(|| wait_then_cancelled(&sem));
        assert_eq!(n.allocations, 0, "{sem:?}");
    }
}

#[test]
fn owned_acquire_that_waits_allocates_nothing() {
    let sem = Arc::new(Semaphore::new(1));
    let run = || {
        let mut cx = Context::from_waker(Waker::noop());
        let held = sem.clone().try_acquire_owned().unwrap();
        let mut acq = pin!(sem.clone().acquire_owned());
        assert!(acq.as_mut().poll(&mut cx).is_pending());
        drop(held);
        let Poll::Ready(Ok(p)) = acq.as_mut().poll(&mut cx) else {
            panic!("granted after the release")
        };
        drop(p);
    };
    run();
    let (n, ()) = alloc_count::count(run);
    assert_eq!(n.allocations, 0);
}
