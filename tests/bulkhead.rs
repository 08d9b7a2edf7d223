//! Bulkhead rules on the virtual clock, with exact instants: queue order,
//! each refusal reason, close, cancellation, run-time limit changes, and a
//! model-based property test.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use weir::Runtime;
use weir::test_util::VirtualRuntime;
use weir::{
    Bulkhead,
    limit::{BulkheadError, QueueOrder},
};

/// Polls once with a waker that does nothing: "is it ready now?".
fn poll<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(Waker::noop()))
}

/// The refusal a future gives on this poll, if it gives one.
fn refused<T, F: Future<Output = Result<T, BulkheadError>> + Unpin>(
    f: &mut F,
) -> Option<BulkheadError> {
    match poll(f) {
        Poll::Ready(Err(e)) => Some(e),
        _ => None,
    }
}

fn bulkhead(
    limit: u32,
    queued: u32,
    wait: Duration,
    order: QueueOrder,
) -> Bulkhead<VirtualRuntime> {
    Bulkhead::builder()
        .max_concurrent(limit)
        .queue_capacity(queued)
        .acquire_timeout(wait)
        .queue_order(order)
        .build(VirtualRuntime::new())
        .unwrap()
}

/// Queues `count` waiters in order behind one held permit, releases it, and
/// returns the order in which the waiters were served (each releasing its
/// permit before the next is looked at).
fn service_order(order: QueueOrder, count: usize) -> Vec<usize> {
    let b = bulkhead(1, 10, Duration::MAX, order);
    let held = b.try_acquire().unwrap();
    let mut waiters: Vec<_> = (0..count).map(|_| Box::pin(b.acquire())).collect();
    for w in &mut waiters {
        assert!(poll(w).is_pending());
    }
    assert_eq!(b.stats().queued_waiters, count as u64);
    drop(held);
    let mut served = Vec::new();
    let mut done = vec![false; count];
    while served.len() < count {
        let ready: Vec<_> = (0..count)
            .filter(|&i| !done[i])
            .filter_map(|i| match poll(&mut waiters[i]) {
                Poll::Ready(r) => Some((i, r.unwrap())),
                Poll::Pending => None,
            })
            .collect();
        assert_eq!(ready.len(), 1, "exactly one waiter holds the single permit");
        let (i, permit) = ready.into_iter().next().unwrap();
        done[i] = true;
        served.push(i);
        drop(permit);
    }
    served
}

#[test]
fn fifo_serves_oldest_first() {
    assert_eq!(service_order(QueueOrder::Fifo, 4), vec![0, 1, 2, 3]);
}

#[test]
fn lifo_serves_newest_first() {
    assert_eq!(service_order(QueueOrder::Lifo, 4), vec![3, 2, 1, 0]);
}

#[test]
fn queue_is_counted_in_permits_and_fifo_refuses_the_newcomer() {
    let b = bulkhead(2, 3, Duration::MAX, QueueOrder::Fifo);
    let _held = b.try_acquire_many(2).unwrap();
    let mut two = Box::pin(b.acquire_many(2));
    assert!(poll(&mut two).is_pending());
    // Two places taken of three: another two do not fit, one does.
    assert_eq!(
        refused(&mut Box::pin(b.acquire_many(2))),
        Some(BulkheadError::QueueFull {
            max_concurrent: 2,
            queue_capacity: 3
        })
    );
    let mut one = Box::pin(b.acquire());
    assert!(poll(&mut one).is_pending());
    assert_eq!(
        refused(&mut Box::pin(b.acquire())),
        Some(BulkheadError::QueueFull {
            max_concurrent: 2,
            queue_capacity: 3
        })
    );
    let s = b.stats();
    assert_eq!(
        (s.queued, s.queued_waiters, s.rejected_queue_full),
        (3, 2, 2)
    );
}

#[test]
fn lifo_full_queue_pushes_out_the_oldest() {
    let b = bulkhead(3, 2, Duration::MAX, QueueOrder::Lifo);
    let held = b.try_acquire_many(3).unwrap();
    let mut a = Box::pin(b.acquire());
    let mut c = Box::pin(b.acquire());
    assert!(poll(&mut a).is_pending());
    assert!(poll(&mut c).is_pending());
    let mut d = Box::pin(b.acquire());
    assert!(poll(&mut d).is_pending());
    // `a`, the oldest, made room for `d`.
    assert_eq!(
        refused(&mut a),
        Some(BulkheadError::QueueFull {
            max_concurrent: 3,
            queue_capacity: 2
        })
    );
    assert_eq!(b.stats().rejected_queue_full, 1);
    // A request larger than the whole queue is refused and evicts nobody.
    assert_eq!(
        refused(&mut Box::pin(b.acquire_many(3))),
        Some(BulkheadError::QueueFull {
            max_concurrent: 3,
            queue_capacity: 2
        })
    );
    assert_eq!(b.stats().queued_waiters, 2);
    drop(held);
    assert!(matches!(poll(&mut d), Poll::Ready(Ok(_))));
    assert!(matches!(poll(&mut c), Poll::Ready(Ok(_))));
}

#[test]
fn fifo_never_lets_a_newcomer_overtake_but_lifo_does() {
    for (order, newcomer_admitted) in [(QueueOrder::Fifo, false), (QueueOrder::Lifo, true)] {
        let b = bulkhead(3, 10, Duration::MAX, order);
        let _held = b.try_acquire_many(2).unwrap();
        // Needs 2 with 1 free: waits at the head.
        let mut big = Box::pin(b.acquire_many(2));
        assert!(poll(&mut big).is_pending());
        assert_eq!(b.try_acquire().is_ok(), newcomer_admitted, "{order:?}");
        let mut small = Box::pin(b.acquire());
        assert_eq!(poll(&mut small).is_ready(), newcomer_admitted, "{order:?}");
    }
}

#[test]
fn head_of_line_blocks_smaller_waiters_under_fifo() {
    let b = bulkhead(3, 10, Duration::MAX, QueueOrder::Fifo);
    let held = b.try_acquire_many(3).unwrap();
    let mut big = Box::pin(b.acquire_many(3));
    let mut small = Box::pin(b.acquire());
    assert!(poll(&mut big).is_pending());
    assert!(poll(&mut small).is_pending());
    drop(held);
    let big_permit = match poll(&mut big) {
        Poll::Ready(Ok(p)) => p,
        other => panic!("head not served: {other:?}"),
    };
    assert!(poll(&mut small).is_pending());
    drop(big_permit);
    assert!(poll(&mut small).is_ready());
}

#[test]
fn wait_times_out_at_exactly_acquire_timeout() {
    let b = bulkhead(1, 5, Duration::from_millis(250), QueueOrder::Fifo);
    let rt = b.runtime().clone();
    rt.block_on(async {
        let _held = b.try_acquire().unwrap();
        rt.advance(Duration::from_millis(40)).await;
        let t0 = rt.elapsed();
        assert_eq!(b.acquire().await.unwrap_err(), BulkheadError::WaitTimeout);
        assert_eq!(rt.elapsed(), t0 + Duration::from_millis(250));
        assert_eq!(b.stats().rejected_wait_timeout, 1);
        assert_eq!(b.stats().queued_waiters, 0);
    });
}

#[test]
fn a_permit_freed_before_the_deadline_is_granted_at_that_instant() {
    let b = bulkhead(1, 5, Duration::from_millis(250), QueueOrder::Fifo);
    let rt = b.runtime().clone();
    rt.set_auto_advance(false);
    rt.block_on(async {
        let holder = {
            let (b, rt) = (b.clone(), rt.clone());
            rt.clone().spawn(async move {
                let _p = b.try_acquire().unwrap();
                rt.sleep(Duration::from_millis(249)).await;
            })
        };
        rt.idle().await;
        let waiter = {
            let (b, rt) = (b.clone(), rt.clone());
            rt.clone().spawn(async move {
                let p = b.acquire().await;
                (p.is_ok(), rt.elapsed())
            })
        };
        rt.advance(Duration::from_secs(1)).await;
        holder.await.unwrap();
        assert_eq!(waiter.await.unwrap(), (true, Duration::from_millis(249)));
    });
}

#[test]
fn acquire_timeout_zero_never_waits_nor_yields() {
    let b = bulkhead(1, 10, Duration::ZERO, QueueOrder::Fifo);
    let rt = b.runtime().clone();
    let _held = b.try_acquire().unwrap();
    // Ready on the very first poll, with no timer left behind.
    assert_eq!(
        refused(&mut Box::pin(b.acquire())),
        Some(BulkheadError::QueueFull {
            max_concurrent: 1,
            queue_capacity: 10
        })
    );
    assert_eq!(rt.pending_timers(), 0);
    assert_eq!(rt.elapsed(), Duration::ZERO);
    assert_eq!(b.stats().rejected_queue_full, 1);
    assert_eq!(b.stats().rejected_wait_timeout, 0);
}

#[test]
fn close_wakes_every_waiter_with_closed() {
    let b = bulkhead(1, 10, Duration::MAX, QueueOrder::Fifo);
    let rt = b.runtime().clone();
    rt.block_on(async {
        let held = b.try_acquire().unwrap();
        let waiters: Vec<_> = (0..5)
            .map(|_| {
                let b = b.clone();
                rt.spawn(async move { b.acquire().await.map(drop) })
            })
            .collect();
        rt.idle().await;
        assert_eq!(b.stats().queued_waiters, 5);
        b.close();
        for w in waiters {
            assert_eq!(w.await.unwrap(), Err(BulkheadError::Closed));
        }
        assert_eq!(b.acquire().await.unwrap_err(), BulkheadError::Closed);
        // A permit held across close is still given back.
        drop(held);
        let s = b.stats();
        assert_eq!(
            (s.in_flight, s.queued, s.rejected_closed, s.admitted),
            (0, 0, 6, 1)
        );
        assert_eq!(rt.elapsed(), Duration::ZERO);
    });
}

#[test]
fn cancelled_waiter_gives_its_place_back() {
    let b = bulkhead(1, 1, Duration::MAX, QueueOrder::Fifo);
    let _held = b.try_acquire().unwrap();
    let mut first = Box::pin(b.acquire());
    assert!(poll(&mut first).is_pending());
    assert_eq!(
        refused(&mut Box::pin(b.acquire())),
        Some(BulkheadError::QueueFull {
            max_concurrent: 1,
            queue_capacity: 1
        })
    );
    drop(first);
    let s = b.stats();
    assert_eq!((s.queued, s.cancelled), (0, 1));
    assert!(poll(&mut Box::pin(b.acquire())).is_pending());
}

#[test]
fn a_grant_to_a_dropped_waiter_goes_to_the_next() {
    let b = bulkhead(1, 5, Duration::MAX, QueueOrder::Fifo);
    let held = b.try_acquire().unwrap();
    let mut first = Box::pin(b.acquire());
    let mut second = Box::pin(b.acquire());
    assert!(poll(&mut first).is_pending());
    assert!(poll(&mut second).is_pending());
    drop(held); // granted to `first`, which never looks
    drop(first);
    assert!(matches!(poll(&mut second), Poll::Ready(Ok(_))));
    let s = b.stats();
    assert_eq!((s.in_flight, s.admitted, s.cancelled), (0, 3, 0));
}

#[test]
fn raising_the_limit_admits_waiters_at_once_and_lowering_waits_for_returns() {
    let b = bulkhead(1, 10, Duration::MAX, QueueOrder::Fifo);
    let p1 = b.try_acquire().unwrap();
    let mut w: Vec<_> = (0..3).map(|_| Box::pin(b.acquire())).collect();
    w.iter_mut().for_each(|f| assert!(poll(f).is_pending()));
    b.set_max_concurrent(3).unwrap();
    let p2 = match poll(&mut w[0]) {
        Poll::Ready(Ok(p)) => p,
        other => panic!("{other:?}"),
    };
    let p3 = match poll(&mut w[1]) {
        Poll::Ready(Ok(p)) => p,
        other => panic!("{other:?}"),
    };
    assert!(poll(&mut w[2]).is_pending());
    // Lower to 1 with 3 held: nothing revoked; admissions resume once
    // fewer than 1 are held.
    b.set_max_concurrent(1).unwrap();
    assert_eq!(b.stats().in_flight, 3);
    drop(p1);
    drop(p2);
    assert!(poll(&mut w[2]).is_pending());
    drop(p3);
    assert!(poll(&mut w[2]).is_ready());
    assert_eq!(
        b.set_max_concurrent(0).unwrap_err().rule(),
        &weir::Rule::Zero
    );
}

#[test]
fn a_panic_gives_the_permit_back() {
    let b = bulkhead(1, 0, Duration::MAX, QueueOrder::Fifo);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _p = b.try_acquire().unwrap();
        panic!("user code fails");
    }));
    assert!(r.is_err());
    assert_eq!(b.stats().in_flight, 0);
    assert!(b.try_acquire().is_ok());
}

#[test]
fn builder_names_the_field_and_rule() {
    use weir::Rule;
    let rt = VirtualRuntime::new();
    let e = Bulkhead::builder().build(rt.clone()).unwrap_err();
    assert_eq!((e.field(), e.rule()), ("max_concurrent", &Rule::Missing));
    let e = Bulkhead::builder()
        .max_concurrent(0)
        .build(rt.clone())
        .unwrap_err();
    assert_eq!((e.field(), e.rule()), ("max_concurrent", &Rule::Zero));
    let e = Bulkhead::builder()
        .max_concurrent(u32::MAX)
        .build(rt)
        .unwrap_err();
    assert_eq!((e.field(), e.rule()), ("max_concurrent", &Rule::TooLarge));
}
