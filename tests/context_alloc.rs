//! With no context set, carrying one costs nothing: a policy call with
//! retry and hedge layers, reading the context, and a scoped future's
//! polls allocate zero times. With a context set, a scope allocates its
//! entry once and its later polls and reads allocate nothing.

#![cfg(feature = "test-util")]

use std::pin::pin;
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Duration;

use weir::context::{self, Context};
use weir::test_util::VirtualRuntime;
use weir::test_util::alloc_count::{self, CountingAllocator};
use weir::{Hedge, Policy, Retry};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::system();

#[derive(Clone, Copy, Debug, PartialEq)]
struct RequestId(u64);

/// Pending on every other poll; sees the context on each.
fn reads_twice() -> impl Future<Output = Option<RequestId>> {
    let mut polls = 0;
    std::future::poll_fn(move |cx| {
        polls += 1;
        let seen = context::get::<RequestId>();
        if polls < 2 {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            Poll::Ready(seen)
        }
    })
}

#[test]
fn a_policy_call_with_no_context_allocates_nothing() {
    let rt = VirtualRuntime::new();
    let retry = Retry::exponential(Duration::from_millis(10))
        .build()
        .unwrap();
    let hedge = Hedge::fixed(Duration::from_millis(10)).build().unwrap();
    let policy = Policy::new(rt.clone()).retry(retry).hedge(hedge);
    let mut cx = TaskContext::from_waker(Waker::noop());
    let mut call_once = |i: u64| {
        let fut =
            pin!(policy.call(|| async move {
                Ok::<_, ()>(context::get::<RequestId>().map_or(i, |r| r.0))
            }));
        fut.poll(&mut cx)
    };
    for i in 0..100 {
        assert_eq!(call_once(i), Poll::Ready(Ok(i)));
    }
    let (n, ok) = alloc_count::count(|| (0..1000).all(|i| call_once(i) == Poll::Ready(Ok(i))));
    assert!(ok);
    assert_eq!(n.allocations, 0, "{n:?}");
    // Inside a context made beforehand, the calls see it and still
    // allocate nothing.
    let ctx = Context::new().with(RequestId(5));
    let (n, ok) =
        ctx.enter(|| alloc_count::count(|| (0..1000).all(|i| call_once(i) == Poll::Ready(Ok(5)))));
    assert!(ok);
    assert_eq!(n.allocations, 0, "{n:?}");
}

#[test]
fn reading_and_scoping_an_empty_context_allocates_nothing() {
    let mut cx = TaskContext::from_waker(Waker::noop());
    let (n, ()) = alloc_count::count(|| {
        for _ in 0..1000 {
            assert!(Context::current().is_empty());
            assert_eq!(context::get::<RequestId>(), None);
            let mut fut = pin!(Context::current().scope(reads_twice()));
            assert!(fut.as_mut().poll(&mut cx).is_pending());
            assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(None));
        }
    });
    assert_eq!(n.allocations, 0, "{n:?}");
}

#[test]
fn a_scope_allocates_its_entry_once_then_never_again() {
    let mut cx = TaskContext::from_waker(Waker::noop());
    let forever = std::future::poll_fn(|cx| {
        assert_eq!(context::get::<RequestId>(), Some(RequestId(3)));
        cx.waker().wake_by_ref();
        Poll::<()>::Pending
    });
    let mut fut = pin!(context::scope(RequestId(3), forever));
    let (first, _) = alloc_count::count(|| fut.as_mut().poll(&mut cx));
    assert_eq!(first.allocations, 1, "the entry: {first:?}");
    let (later, ()) = alloc_count::count(|| {
        for _ in 0..1000 {
            assert!(fut.as_mut().poll(&mut cx).is_pending());
        }
    });
    assert_eq!(later.allocations, 0, "{later:?}");
}
