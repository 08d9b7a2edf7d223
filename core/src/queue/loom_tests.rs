//! loom models of the channel's close/notify protocol (see `sys` for what
//! stands in for concurrent-queue and event-listener here).

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use loom::thread;

use super::{RecvError, SendError, TryRecvError, bounded};
use crate::loom::block_on;

/// A receiver waits on an empty queue; a sender sends. The receiver gets
/// the value: the wake-up is not lost whatever the interleaving.
#[test]
fn loom_waiting_receiver_gets_the_value() {
    loom::model(|| {
        let (tx, rx) = bounded::<u8>(1).unwrap();
        let r = thread::spawn(move || block_on(rx.recv()));
        block_on(tx.send(7)).unwrap();
        assert_eq!(r.join().unwrap(), Ok(7));
    });
}

/// A sender waits on a full queue while a receiver takes one value and then
/// closes: the waiting value is either received (it got in before the
/// close) or handed back, never both, never lost.
#[test]
fn loom_waiting_sender_against_recv_and_close() {
    loom::model(|| {
        let (tx, rx) = bounded::<u8>(1).unwrap();
        tx.try_send(1).unwrap();
        let s = thread::spawn(move || block_on(tx.send(2)));
        assert_eq!(rx.try_recv(), Ok(1));
        rx.close();
        let drained = rx.try_recv();
        match s.join().unwrap() {
            Ok(()) => assert_eq!(drained, Ok(2)),
            Err(SendError(v)) => {
                assert_eq!(v, 2);
                assert_eq!(drained, Err(TryRecvError::Closed));
            }
        }
    });
}

/// The last sender goes away while a receiver waits: the receiver wakes
/// and sees the queue closed, after the values sent before.
#[test]
fn loom_last_sender_drop_wakes_the_receiver() {
    loom::model(|| {
        let (tx, rx) = bounded::<u8>(2).unwrap();
        let tx2 = tx.clone();
        let r = thread::spawn(move || {
            let first = block_on(rx.recv());
            (first, block_on(rx.recv()))
        });
        let s = thread::spawn(move || {
            tx2.try_send(1).unwrap();
        });
        drop(tx);
        s.join().unwrap();
        assert_eq!(r.join().unwrap(), (Ok(1), Err(RecvError)));
    });
}

/// Two receivers; one registers and is then cancelled (dropped) while a
/// value arrives; the other, waiting, still receives it.
#[test]
fn loom_cancelled_receiver_passes_the_wake_up_on() {
    loom::model(|| {
        let (tx, rx) = bounded::<u8>(1).unwrap();
        let rx2 = rx.clone();
        let waiting = thread::spawn(move || block_on(rx2.recv()));
        let cancelled = thread::spawn(move || {
            let mut fut = pin!(rx.recv());
            let polled = fut.as_mut().poll(&mut Context::from_waker(Waker::noop()));
            // Dropped here, possibly after being notified.
            polled
        });
        tx.try_send(5).unwrap();
        match cancelled.join().unwrap() {
            Poll::Ready(v) => {
                // It took the value itself; close so the other one returns.
                assert_eq!(v, Ok(5));
                drop(tx);
                assert_eq!(waiting.join().unwrap(), Err(RecvError));
            }
            Poll::Pending => assert_eq!(waiting.join().unwrap(), Ok(5)),
        }
    });
}

/// A receiver polled as a `Stream` gives up its `next()` (and keeps the
/// receiver, listener and all) while a value arrives; another receiver
/// waiting in `recv` still receives it, whichever order things happen in.
#[test]
fn loom_abandoned_stream_keeps_no_wake_up() {
    use futures_core::Stream;
    loom::model(|| {
        let (tx, rx) = bounded::<u8>(1).unwrap();
        let mut stream = rx.clone();
        let waiting = thread::spawn(move || block_on(rx.recv()));
        let abandoned = thread::spawn(move || {
            let polled =
                core::pin::Pin::new(&mut stream).poll_next(&mut Context::from_waker(Waker::noop()));
            // The receiver lives on with its stored listener.
            (polled, stream)
        });
        tx.try_send(5).unwrap();
        let (polled, stream) = abandoned.join().unwrap();
        match polled {
            Poll::Ready(v) => {
                assert_eq!(v, Some(5));
                drop(tx);
                assert_eq!(waiting.join().unwrap(), Err(RecvError));
            }
            Poll::Pending => assert_eq!(waiting.join().unwrap(), Ok(5)),
        }
        drop(stream);
    });
}
