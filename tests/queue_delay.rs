//! DelayQueue on the virtual clock: exact instants, deadline order, ties
//! FIFO, removal, earlier inserts waking a waiting receiver.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use weir::DelayQueue;
use weir::Runtime;
use weir::test_util::VirtualRuntime;

const MS: Duration = Duration::from_millis(1);

#[test]
fn yields_in_deadline_order_at_exact_instants() {
    let rt = VirtualRuntime::new();
    let q = DelayQueue::new(rt.clone());
    let t0 = rt.now();
    q.insert("c", t0 + 30 * MS).unwrap();
    q.insert("a", t0 + 10 * MS).unwrap();
    q.insert_after("b", 20 * MS).unwrap();
    q.insert("a2", t0 + 10 * MS).unwrap(); // tie with "a": FIFO
    rt.block_on(async {
        for (want, at) in [("a", 10), ("a2", 10), ("b", 20), ("c", 30)] {
            assert_eq!(q.recv().await, Ok(want));
            assert_eq!(rt.elapsed(), at * MS, "{want}");
        }
    });
    assert!(q.is_empty());
}

#[test]
fn past_deadlines_are_due_at_once() {
    let rt = VirtualRuntime::new();
    let q = DelayQueue::new(rt.clone());
    q.insert(1, rt.now()).unwrap();
    q.insert_after(2, Duration::ZERO).unwrap();
    assert_eq!(q.try_recv(), Ok(1));
    assert_eq!(rt.block_on(q.recv()), Ok(2));
    assert_eq!(rt.elapsed(), Duration::ZERO);
}

#[test]
fn nothing_is_due_early() {
    let rt = VirtualRuntime::new();
    rt.set_auto_advance(false);
    let q = DelayQueue::new(rt.clone());
    q.insert_after(5u8, 10 * MS).unwrap();
    rt.block_on(async {
        let mut recv = pin!(q.recv());
        let cx = &mut Context::from_waker(Waker::noop());
        assert!(recv.as_mut().poll(cx).is_pending());
        rt.advance(9 * MS).await;
        assert!(recv.as_mut().poll(cx).is_pending());
        assert!(q.try_recv().unwrap_err().is_empty());
        rt.advance(MS).await;
        assert_eq!(recv.as_mut().poll(cx), Poll::Ready(Ok(5)));
    });
}

#[test]
fn removed_values_are_never_received() {
    let rt = VirtualRuntime::new();
    let q = DelayQueue::new(rt.clone());
    let k1 = q.insert_after("gone", 10 * MS).unwrap();
    q.insert_after("kept", 20 * MS).unwrap();
    assert_eq!(k1.deadline(), rt.now() + 10 * MS);
    assert_eq!(q.remove(&k1), Some("gone"));
    assert_eq!(q.len(), 1);
    rt.block_on(async {
        assert_eq!(q.recv().await, Ok("kept"));
        assert_eq!(rt.elapsed(), 20 * MS);
    });
    assert_eq!(q.remove(&k1), None);
}

#[test]
fn an_earlier_insert_wakes_a_waiting_receiver() {
    let rt = VirtualRuntime::new();
    let q = Arc::new(DelayQueue::new(rt.clone()));
    q.insert_after("late", 100 * MS).unwrap();
    let got = rt.block_on({
        let (rt, q) = (rt.clone(), q.clone());
        async move {
            let waiter = rt.spawn({
                let (rt, q) = (rt.clone(), q.clone());
                async move { (q.recv().await, rt.elapsed()) }
            });
            // The receiver is asleep until 100 ms when this insert arrives.
            rt.advance(5 * MS).await;
            q.insert_after("early", 10 * MS).unwrap();
            waiter.await.unwrap()
        }
    });
    assert_eq!(got, (Ok("early"), 15 * MS));
}

#[test]
fn a_cancelled_receiver_does_not_delay_another() {
    let rt = VirtualRuntime::new();
    rt.set_auto_advance(false);
    let q = DelayQueue::new(rt.clone());
    q.insert_after(1, 50 * MS).unwrap();
    rt.block_on(async {
        let cx = &mut Context::from_waker(Waker::noop());
        let mut a = Box::pin(q.recv());
        let mut b = pin!(q.recv());
        assert!(a.as_mut().poll(cx).is_pending());
        assert!(b.as_mut().poll(cx).is_pending());
        q.insert_after(2, 10 * MS).unwrap();
        drop(a); // the receiver that may have been notified goes away
        rt.advance(10 * MS).await;
        assert_eq!(b.as_mut().poll(cx), Poll::Ready(Ok(2)));
    });
}

#[test]
fn an_empty_queue_waits_for_the_first_insert() {
    let rt = VirtualRuntime::new();
    let q = Arc::new(DelayQueue::new(rt.clone()));
    let got = rt.block_on({
        let (rt, q) = (rt.clone(), q.clone());
        async move {
            let waiter = rt.spawn({
                let (rt, q) = (rt.clone(), q.clone());
                async move { (q.recv().await, rt.elapsed()) }
            });
            rt.advance(7 * MS).await;
            q.insert_after('x', 3 * MS).unwrap();
            waiter.await.unwrap()
        }
    });
    assert_eq!(got, (Ok('x'), 10 * MS));
}
