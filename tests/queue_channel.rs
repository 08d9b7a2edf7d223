//! Channel behaviour beyond the model tests: close wakes waiters, handles
//! counting, cancellation passing wake-ups on, Stream, bounded(0).

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use futures_lite::StreamExt;
use weir::queue::{self, RecvError, SendError, TryRecvError, TrySendError};
use weir::{ConfigError, Rule};

fn cx() -> Context<'static> {
    Context::from_waker(Waker::noop())
}

#[test]
fn bounded_zero_is_a_config_error() {
    let err = queue::bounded::<u8>(0).unwrap_err();
    assert_eq!(err, ConfigError::new("queue::bounded", "cap", Rule::Zero));
}

#[test]
fn close_wakes_a_waiting_sender_with_its_value() {
    let (tx, rx) = queue::bounded::<&str>(1).unwrap();
    tx.try_send("in").unwrap();
    let mut send = pin!(tx.send("waiting"));
    assert!(send.as_mut().poll(&mut cx()).is_pending());
    assert!(rx.close());
    assert_eq!(
        send.as_mut().poll(&mut cx()),
        Poll::Ready(Err(SendError("waiting")))
    );
    // What was queued before the close is still received, then Closed.
    assert_eq!(rx.try_recv(), Ok("in"));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn close_wakes_a_waiting_receiver() {
    let (tx, rx) = queue::unbounded::<u8>();
    let mut recv = pin!(rx.recv());
    assert!(recv.as_mut().poll(&mut cx()).is_pending());
    drop(tx);
    assert_eq!(recv.as_mut().poll(&mut cx()), Poll::Ready(Err(RecvError)));
}

#[test]
fn last_receiver_dropped_closes_and_hands_values_back() {
    let (tx, rx) = queue::bounded::<u8>(2).unwrap();
    let rx2 = rx.clone();
    drop(rx);
    assert!(!tx.is_closed());
    drop(rx2);
    assert_eq!(tx.try_send(1), Err(TrySendError::Closed(1)));
    assert_eq!(tx.send_blocking(2), Err(SendError(2)));
}

/// Two receivers wait; one value arrives and wakes one of them; that one is
/// dropped before it runs. The other must still get the value.
#[test]
fn a_cancelled_receiver_passes_its_wake_up_on() {
    let (tx, rx) = queue::bounded::<u8>(4).unwrap();
    let woken = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    struct Count(std::sync::Arc<std::sync::atomic::AtomicUsize>);
    impl std::task::Wake for Count {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
    let waker_a = Waker::from(std::sync::Arc::new(Count(woken.clone())));
    let woken_b = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let waker_b = Waker::from(std::sync::Arc::new(Count(woken_b.clone())));
    let mut a = Box::pin(rx.recv());
    let mut b = pin!(rx.recv());
    assert!(
        a.as_mut()
            .poll(&mut Context::from_waker(&waker_a))
            .is_pending()
    );
    assert!(
        b.as_mut()
            .poll(&mut Context::from_waker(&waker_b))
            .is_pending()
    );
    tx.try_send(9).unwrap();
    // The first listener in line is notified; it goes away without running.
    assert_eq!(woken.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(woken_b.load(std::sync::atomic::Ordering::SeqCst), 0);
    drop(a);
    assert_eq!(woken_b.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(
        b.as_mut().poll(&mut Context::from_waker(&waker_b)),
        Poll::Ready(Ok(9))
    );
}

#[test]
fn receiver_is_a_stream_that_ends_after_close() {
    let (tx, mut rx) = queue::bounded::<u32>(4).unwrap();
    let t = std::thread::spawn(move || {
        for i in 0..100 {
            tx.send_blocking(i).unwrap();
        }
    });
    let got: Vec<u32> = futures_lite::future::block_on(async { (&mut rx).collect().await });
    t.join().unwrap();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
    // Ended streams stay ended.
    assert_eq!(futures_lite::future::block_on(rx.next()), None);
}

#[test]
fn recv_many_waits_for_one_then_takes_what_is_there() {
    let (tx, rx) = queue::bounded::<u8>(8).unwrap();
    let mut buf = Vec::new();
    {
        let mut batch = pin!(rx.recv_many(&mut buf, 5));
        assert!(batch.as_mut().poll(&mut cx()).is_pending());
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        assert_eq!(batch.as_mut().poll(&mut cx()), Poll::Ready(Ok(2)));
    }
    assert_eq!(buf, [1, 2]);
    // "Everything" as a batch size neither panics nor over-reserves.
    tx.try_send(3).unwrap();
    let mut all = Vec::new();
    let taken = futures_lite::future::block_on(rx.recv_many(&mut all, usize::MAX));
    assert_eq!((taken, all), (Ok(1), vec![3]));
}

#[test]
fn blocking_ends_across_threads_count_every_value() {
    let (tx, rx) = queue::bounded::<u64>(3).unwrap();
    let senders: Vec<_> = (0..3)
        .map(|s| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for i in 0..2000 {
                    tx.send_blocking(s * 2000 + i).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let receivers: Vec<_> = (0..2)
        .map(|_| {
            let rx = rx.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                while let Ok(v) = rx.recv_blocking() {
                    got.push(v);
                }
                got
            })
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    let mut all: Vec<u64> = receivers
        .into_iter()
        .flat_map(|r| r.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..6000).collect::<Vec<_>>());
}

#[test]
fn handles_report_lengths_and_counts() {
    let (tx, rx) = queue::bounded::<u8>(2).unwrap();
    assert_eq!((tx.capacity(), rx.capacity()), (Some(2), Some(2)));
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert!(tx.is_full() && rx.is_full());
    assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));
    let _rx2 = rx.clone();
    assert_eq!((tx.sender_count(), tx.receiver_count()), (1, 2));
    assert!(format!("{tx:?}").contains("len: 2"));
}

#[test]
fn handles_and_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let (tx, rx) = queue::bounded::<u8>(1).unwrap();
    send_sync(&tx);
    send_sync(&rx);
    send(&tx.send(1));
    send(&rx.recv());
    let q = weir::PriorityQueue::<u8>::builder()
        .lanes(2)
        .capacity(2)
        .build()
        .unwrap();
    send_sync(&q);
    send(&q.pop());
    send(&q.push(0, 1));
    let d = weir::DelayQueue::<u8, _>::new(weir::test_util::VirtualRuntime::new());
    send_sync(&d);
    send(&d.recv());
}
