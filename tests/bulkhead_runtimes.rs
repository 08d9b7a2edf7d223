//! The bulkhead on every runtime: many tasks, some waiting, some giving
//! up; never more in flight than the limit, every call accounted for.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use futures_lite::future;
use weir::Runtime;
use weir::{
    Bulkhead,
    limit::{BulkheadError, QueueOrder},
};

const LIMIT: u32 = 4;
const TASKS: u64 = 96;

#[derive(Default)]
struct Seen {
    running: AtomicU32,
    max_running: AtomicU32,
    ok: AtomicU64,
    refused: AtomicU64,
    gave_up: AtomicU64,
}

async fn many_tasks_never_exceed_the_limit<R: Runtime>(rt: R) {
    for order in [QueueOrder::Fifo, QueueOrder::Lifo] {
        let b = Bulkhead::builder()
            .max_concurrent(LIMIT)
            .queue_capacity(24)
            .acquire_timeout(Duration::from_millis(40))
            .queue_order(order)
            .build(rt.clone())
            .unwrap();
        let seen = Arc::new(Seen::default());
        let tasks: Vec<_> = (0..TASKS)
            .map(|i| {
                let (b, rt2, seen) = (b.clone(), rt.clone(), seen.clone());
                rt.spawn(async move {
                    let outcome = match i % 4 {
                        // Gives up after 3 ms: a cancelled wait.
                        0 => {
                            let acquire = async { Some(b.acquire().await) };
                            let give_up = async {
                                rt2.sleep(Duration::from_millis(3)).await;
                                None
                            };
                            future::or(acquire, give_up).await
                        }
                        1 => Some(b.try_acquire()),
                        _ => Some(b.acquire().await),
                    };
                    match outcome {
                        Some(Ok(permit)) => {
                            let now = seen.running.fetch_add(1, Ordering::SeqCst) + 1;
                            seen.max_running.fetch_max(now, Ordering::SeqCst);
                            rt2.sleep(Duration::from_millis(1 + i % 3)).await;
                            seen.running.fetch_sub(1, Ordering::SeqCst);
                            drop(permit);
                            seen.ok.fetch_add(1, Ordering::SeqCst);
                        }
                        Some(Err(e)) => {
                            assert!(
                                matches!(
                                    e,
                                    BulkheadError::QueueFull { .. } | BulkheadError::WaitTimeout
                                ),
                                "unexpected refusal {e:?}"
                            );
                            seen.refused.fetch_add(1, Ordering::SeqCst);
                        }
                        None => {
                            seen.gave_up.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let s = b.stats();
        let max = seen.max_running.load(Ordering::SeqCst);
        assert!(max <= LIMIT, "{max} ran at once with a limit of {LIMIT}");
        assert!(seen.ok.load(Ordering::SeqCst) > 0);
        let (ok, refused, gave_up) = (
            seen.ok.load(Ordering::SeqCst),
            seen.refused.load(Ordering::SeqCst),
            seen.gave_up.load(Ordering::SeqCst),
        );
        assert_eq!(ok + refused + gave_up, TASKS);
        // Each call is in exactly one counter; a grant that reached a task
        // which had just given up counts as admitted.
        assert_eq!(s.admitted + s.rejected() + s.cancelled, TASKS, "{s:?}");
        assert_eq!(s.rejected(), refused, "{s:?}");
        assert_eq!(s.admitted - ok, gave_up - s.cancelled, "{s:?}");
        assert_eq!((s.in_flight, s.queued, s.queued_waiters), (0, 0, 0));
        assert!(b.try_acquire_many(LIMIT).is_ok(), "permits leaked");
    }
}

on_every_runtime!(many_tasks_never_exceed_the_limit);
