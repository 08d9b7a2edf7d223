//! Closing a `DelayQueue` (issue 10, finding 9): waiting receivers end with
//! `RecvError`, values still queued come back to the closer, inserts after
//! the close hand their value back.

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use weir::{
    DelayQueue,
    queue::{RecvError, SendError, TryRecvError},
};
use weir::{Runtime, test_util::VirtualRuntime};

const HOUR: Duration = Duration::from_secs(3600);

struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A receiver asleep until a value due in an hour is woken by the close and
/// ends with `RecvError`; the value comes back from `close`.
async fn close_wakes_a_waiting_recv_and_hands_values_back<R: Runtime>(rt: R) {
    let q = DelayQueue::new(rt.clone());
    let later = q.insert_after("in two hours", 2 * HOUR).unwrap();
    let soon = q.insert_after("in an hour", HOUR).unwrap();

    let count = Arc::new(Count(AtomicUsize::new(0)));
    let waker = Waker::from(count.clone());
    let mut recv = pin!(q.recv());
    assert!(
        recv.as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
    let rest = q.close();
    assert_eq!(
        count.0.load(Ordering::SeqCst),
        1,
        "close did not wake the waiting recv"
    );
    assert_eq!(recv.await, Err(RecvError));
    assert_eq!(rest, [(soon, "in an hour"), (later, "in two hours")]);

    // Closed for good.
    assert!(q.is_closed());
    assert!(q.is_empty());
    assert_eq!(q.recv().await, Err(RecvError));
    assert_eq!(q.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(
        q.insert_after("late", Duration::ZERO),
        Err(SendError("late"))
    );
    assert_eq!(q.insert("now", rt.now()).unwrap_err().into_inner(), "now");
    assert!(q.close().is_empty());
}

/// Receivers in spawned tasks, possibly on other threads, all end at the
/// close; every value inserted is either received or handed back, and the
/// values not yet due are always handed back.
async fn close_ends_every_receiver_task_and_loses_nothing<R: Runtime>(rt: R) {
    let q = Arc::new(DelayQueue::new(rt.clone()));
    for i in 0..4u32 {
        q.insert_after(i, Duration::ZERO).unwrap();
    }
    for i in 4..8u32 {
        q.insert_after(i, HOUR).unwrap();
    }
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let q = q.clone();
            rt.spawn(async move {
                let mut got = Vec::new();
                loop {
                    match q.recv().await {
                        Ok(v) => got.push(v),
                        Err(RecvError) => return got,
                    }
                }
            })
        })
        .collect();
    // Closed while the tasks start, take values or wait (which of these
    // depends on the runtime's scheduling; none may lose a value).
    let rest = q.close();
    let mut all: Vec<u32> = rest.into_iter().map(|(_, v)| v).collect();
    assert!((4..8).all(|v| all.contains(&v)), "{all:?}");
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_unstable();
    assert_eq!(all, (0..8).collect::<Vec<_>>());
}

on_every_runtime!(
    close_wakes_a_waiting_recv_and_hands_values_back,
    close_ends_every_receiver_task_and_loses_nothing,
);

/// On the virtual clock: a receiver asleep until 10 s ends at exactly the
/// close's instant (5 s), not at its deadline.
#[test]
fn close_ends_a_sleeping_receiver_at_the_close_instant() {
    let rt = VirtualRuntime::new();
    let q = Arc::new(DelayQueue::new(rt.clone()));
    let key = q.insert_after('z', Duration::from_secs(10)).unwrap();
    let (got, rest) = rt.block_on({
        let (rt, q) = (rt.clone(), q.clone());
        async move {
            let waiter = rt.spawn({
                let (rt, q) = (rt.clone(), q.clone());
                async move { (q.recv().await, rt.elapsed()) }
            });
            rt.sleep(Duration::from_secs(5)).await;
            let rest = q.close();
            (waiter.await.unwrap(), rest)
        }
    });
    assert_eq!(got, (Err(RecvError), Duration::from_secs(5)));
    assert_eq!(rest, [(key, 'z')]);
    assert_eq!(key.deadline(), rt.now() + Duration::from_secs(5));
}
