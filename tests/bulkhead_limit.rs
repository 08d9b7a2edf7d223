//! Lowering a bulkhead's limit below what a queued caller asked for: that
//! caller can never fit, so it is refused at once with `Oversized` (never
//! left to wait, never holding back the callers behind it), in both queue
//! orders and whatever `acquire_timeout` says; callers that still fit are served
//! as capacity comes back (issue 10, finding 2).

mod common;

use std::time::Duration;

use futures_lite::future::poll_once;
use weir::Runtime;
use weir::test_util::VirtualRuntime;
use weir::{
    Bulkhead,
    limit::{BulkheadError, BulkheadPermit, QueueOrder},
};

fn permit<'a>(got: Option<Result<BulkheadPermit<'a>, BulkheadError>>) -> BulkheadPermit<'a> {
    match got {
        Some(Ok(p)) => p,
        other => panic!("expected a permit, got {other:?}"),
    }
}

/// Four permits held one by one; a waiter for 4 heads the line and two
/// waiters for 1 stand behind it. The limit drops to 2: the big waiter is
/// refused at once, and the small ones get permits as the held ones come
/// back (the last one through a release on another task, so the wake-up
/// crosses the runtime).
async fn lowered_limit_refuses_the_waiter_that_no_longer_fits<R: Runtime>(rt: R) {
    for order in [QueueOrder::Fifo, QueueOrder::Lifo] {
        // Leaked so that a permit can move into a spawned task.
        let b: &'static Bulkhead<R> = Box::leak(Box::new(
            Bulkhead::builder()
                .max_concurrent(4)
                .queue_capacity(10)
                .queue_order(order)
                .build(rt.clone())
                .unwrap(),
        ));
        let mut held: Vec<_> = (0..4).map(|_| b.try_acquire().unwrap()).collect();
        let mut big = Box::pin(b.acquire_many(4));
        let mut first = Box::pin(b.acquire());
        let mut second = Box::pin(b.acquire());
        assert!(poll_once(&mut big).await.is_none(), "{order:?}");
        assert!(poll_once(&mut first).await.is_none(), "{order:?}");
        assert!(poll_once(&mut second).await.is_none(), "{order:?}");
        assert_eq!(b.stats().queued_waiters, 3);

        b.set_max_concurrent(2).unwrap();
        assert_eq!(
            poll_once(&mut big).await.map(|r| r.err()),
            Some(Some(BulkheadError::Oversized)),
            "{order:?}: a waiter for 4 can never fit a limit of 2"
        );
        let s = b.stats();
        assert_eq!(
            (s.queued_waiters, s.rejected_oversized),
            (2, 1),
            "{order:?}"
        );

        // 4 held against a limit of 2: nothing fits until 3 come back.
        held.truncate(2);
        assert!(poll_once(&mut first).await.is_none(), "{order:?}");
        assert!(poll_once(&mut second).await.is_none(), "{order:?}");
        held.truncate(1);
        let (served, mut other) = match order {
            QueueOrder::Fifo => (&mut first, second),
            QueueOrder::Lifo => (&mut second, first),
        };
        let p = permit(poll_once(served).await);
        assert!(poll_once(&mut other).await.is_none(), "{order:?}");
        let last = held.pop().unwrap();
        let releaser = {
            let rt2 = rt.clone();
            rt.spawn(async move {
                rt2.sleep(Duration::from_millis(1)).await;
                drop(last);
            })
        };
        // The other small waiter is woken by that release.
        let p2 = other.await.unwrap();
        releaser.await.unwrap();
        drop((p, p2));
        let s = b.stats();
        assert_eq!(
            (s.in_flight, s.queued_waiters, s.admitted, s.rejected()),
            (0, 0, 6, 1),
            "{order:?}"
        );
    }
}

on_every_runtime!(lowered_limit_refuses_the_waiter_that_no_longer_fits);

/// With `acquire_timeout` set, the refusal comes at the instant the limit drops,
/// as `Oversized`, not as a `WaitTimeout` when `acquire_timeout` runs out; the
/// small waiter behind it is served the instant a permit comes back.
#[test]
fn lowered_limit_refuses_at_that_instant_not_at_acquire_timeout() {
    for order in [QueueOrder::Fifo, QueueOrder::Lifo] {
        let rt = VirtualRuntime::new();
        let b = Bulkhead::builder()
            .max_concurrent(4)
            .queue_capacity(10)
            .acquire_timeout(Duration::from_secs(10))
            .queue_order(order)
            .build(rt.clone())
            .unwrap();
        rt.block_on(async {
            let three = b.try_acquire_many(3).unwrap();
            let one = b.try_acquire().unwrap();
            let big = {
                let (b, rt) = (b.clone(), rt.clone());
                rt.clone().spawn(async move {
                    let got = b.acquire_many(4).await.map(|p| p.permits());
                    (got, rt.elapsed())
                })
            };
            rt.idle().await;
            let small = {
                let (b, rt) = (b.clone(), rt.clone());
                rt.clone().spawn(async move {
                    let got = b.acquire().await.map(|p| p.permits());
                    (got, rt.elapsed())
                })
            };
            rt.idle().await;
            assert_eq!(b.stats().queued_waiters, 2);
            rt.sleep(Duration::from_secs(3)).await;
            b.set_max_concurrent(2).unwrap();
            rt.sleep(Duration::from_secs(2)).await;
            drop(three);
            assert_eq!(
                big.await.unwrap(),
                (Err(BulkheadError::Oversized), Duration::from_secs(3)),
                "{order:?}"
            );
            assert_eq!(
                small.await.unwrap(),
                (Ok(1), Duration::from_secs(5)),
                "{order:?}"
            );
            drop(one);
            let s = b.stats();
            assert_eq!(
                (s.rejected_oversized, s.rejected_wait_timeout, s.admitted),
                (1, 0, 3),
                "{order:?}"
            );
        });
    }
}

/// A request above the limit in force is refused at once, without
/// waiting, in every mode: queue order, `acquire_timeout` zero or not, queue
/// empty or not, and `try_acquire_many`.
#[test]
fn request_above_the_limit_is_refused_at_once_in_every_mode() {
    for order in [QueueOrder::Fifo, QueueOrder::Lifo] {
        for wait in [Duration::ZERO, Duration::from_secs(1), Duration::MAX] {
            let rt = VirtualRuntime::new();
            let b = Bulkhead::builder()
                .max_concurrent(2)
                .queue_capacity(10)
                .acquire_timeout(wait)
                .queue_order(order)
                .build(rt.clone())
                .unwrap();
            let case = format!("{order:?}, acquire_timeout {wait:?}");
            rt.block_on(async {
                let over = || async {
                    poll_once(Box::pin(b.acquire_many(3)))
                        .await
                        .map(|r| r.err())
                };
                assert_eq!(over().await, Some(Some(BulkheadError::Oversized)), "{case}");
                assert_eq!(b.try_acquire_many(3).unwrap_err(), BulkheadError::Oversized);
                // Again with a permit held and (when waiting is allowed) a
                // caller in the line.
                let _held = b.try_acquire_many(2).unwrap();
                let mut queued = Box::pin(b.acquire());
                let queued_now = poll_once(&mut queued).await;
                if wait.is_zero() {
                    assert!(
                        matches!(
                            queued_now.map(|r| r.err()),
                            Some(Some(BulkheadError::QueueFull { .. }))
                        ),
                        "{case}"
                    );
                } else {
                    assert!(queued_now.is_none(), "{case}");
                }
                assert_eq!(over().await, Some(Some(BulkheadError::Oversized)), "{case}");
                assert_eq!(b.try_acquire_many(3).unwrap_err(), BulkheadError::Oversized);
                assert_eq!(b.stats().rejected_oversized, 4, "{case}");
            });
        }
    }
}

/// More queued callers no longer fit than one round of wake-ups holds
/// (16): every one is refused, and the caller behind them is served.
#[test]
fn lowering_refuses_every_caller_over_the_limit_however_many() {
    for order in [QueueOrder::Fifo, QueueOrder::Lifo] {
        let rt = VirtualRuntime::new();
        let b = Bulkhead::builder()
            .max_concurrent(3)
            .queue_capacity(200)
            .queue_order(order)
            .build(rt.clone())
            .unwrap();
        rt.block_on(async {
            let held = b.try_acquire_many(3).unwrap();
            let mut big: Vec<_> = (0..40).map(|_| Box::pin(b.acquire_many(3))).collect();
            for f in &mut big {
                assert!(poll_once(f).await.is_none(), "{order:?}");
            }
            let mut small = Box::pin(b.acquire_many(2));
            assert!(poll_once(&mut small).await.is_none(), "{order:?}");
            b.set_max_concurrent(2).unwrap();
            for f in &mut big {
                assert_eq!(
                    poll_once(f).await.map(|r| r.err()),
                    Some(Some(BulkheadError::Oversized)),
                    "{order:?}"
                );
            }
            assert!(poll_once(&mut small).await.is_none(), "{order:?}");
            drop(held);
            assert_eq!(permit(poll_once(&mut small).await).permits(), 2);
            let s = b.stats();
            assert_eq!(
                (s.rejected_oversized, s.queued_waiters),
                (40, 0),
                "{order:?}"
            );
        });
    }
}
