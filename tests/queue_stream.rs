//! The receiver as a `Stream`: a `next()` that is dropped while it waits
//! (what `select!` and timeouts do) must not keep a wake-up that another
//! receiver needs (issue 10, finding 1).

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use futures_lite::StreamExt;
use futures_lite::future::{self, poll_once};
use weir::Runtime;
use weir::queue;

/// A waker that counts its wake-ups.
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Arc<Count>, Waker) {
    let count = Arc::new(Count(AtomicUsize::new(0)));
    (count.clone(), Waker::from(count))
}

/// `rx.next()` raced against a timeout that wins: the `next()` future is
/// dropped while it waits, and the receiver keeps its stream state.
async fn abandon_next<R: Runtime>(rt: &R, rx: &mut queue::Receiver<u32>) {
    let timed_out = future::or(async { rx.next().await.map(|_| false) }, async {
        rt.sleep(Duration::from_millis(1)).await;
        Some(true)
    })
    .await;
    assert_eq!(timed_out, Some(true), "nothing was sent, the timeout wins");
}

/// Receiver A waits as a stream and gives up; receiver B waits in `recv()`;
/// one value is sent: B must be woken and get it.
async fn abandoned_next_does_not_swallow_the_wake_up_of_recv<R: Runtime>(rt: R) {
    let (tx, mut a) = queue::unbounded::<u32>();
    let b = a.clone();
    abandon_next(&rt, &mut a).await;

    let mut recv = pin!(b.recv());
    let (woken, waker) = counting_waker();
    assert!(
        recv.as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
    tx.send(7).await.unwrap();
    assert_eq!(
        woken.0.load(Ordering::SeqCst),
        1,
        "the waiting recv() was not woken while a value sits queued"
    );
    assert_eq!(recv.await, Ok(7));
    // A still works as a stream afterwards.
    tx.send(8).await.unwrap();
    assert_eq!(a.next().await, Some(8));
}

/// The same with two streams: A abandons its `next()`, B waits in `next()`.
async fn abandoned_next_does_not_swallow_the_wake_up_of_another_stream<R: Runtime>(rt: R) {
    let (tx, mut a) = queue::bounded::<u32>(4).unwrap();
    let mut b = a.clone();
    abandon_next(&rt, &mut a).await;

    let (woken, waker) = counting_waker();
    {
        let mut next = pin!(b.next());
        assert!(
            next.as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        tx.send(1).await.unwrap();
        assert_eq!(
            woken.0.load(Ordering::SeqCst),
            1,
            "the waiting next() was not woken while a value sits queued"
        );
        assert_eq!(next.await, Some(1));
    }
    // Both streams go on receiving, and the stream ends after close.
    tx.send(2).await.unwrap();
    tx.send(3).await.unwrap();
    drop(tx);
    assert_eq!(a.next().await, Some(2));
    assert_eq!(b.next().await, Some(3));
    assert_eq!(a.next().await, None);
    assert_eq!(b.next().await, None);
}

/// An abandoned stream that is later polled again still takes values: the
/// stream's own state is not broken by the fix.
async fn abandoned_stream_resumes_and_counts_every_value<R: Runtime>(rt: R) {
    let (tx, mut a) = queue::bounded::<u32>(2).unwrap();
    let b = a.clone();
    abandon_next(&rt, &mut a).await;
    let producer = rt.spawn(async move {
        for i in 0..200 {
            tx.send(i).await.unwrap();
        }
    });
    // Alternate the two consumers; each value is received exactly once.
    let mut got = Vec::new();
    loop {
        let next = future::or(async { a.next().await }, async { b.recv().await.ok() }).await;
        match next {
            Some(v) => got.push(v),
            None => break,
        }
        if got.len() % 7 == 0 {
            // A select! that drops a waiting next() now and then.
            if let Some(Some(v)) = poll_once(a.next()).await {
                got.push(v);
            }
        }
    }
    producer.await.unwrap();
    got.sort_unstable();
    assert_eq!(got, (0..200).collect::<Vec<_>>());
}

on_every_runtime!(
    abandoned_next_does_not_swallow_the_wake_up_of_recv,
    abandoned_next_does_not_swallow_the_wake_up_of_another_stream,
    abandoned_stream_resumes_and_counts_every_value,
);
