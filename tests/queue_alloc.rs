//! Queue hot paths allocate nothing per operation in steady state, waiting
//! included.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use weir::test_util::alloc_count::{self, CountingAllocator};
use weir::{PriorityQueue, queue};

#[global_allocator]
static A: CountingAllocator = CountingAllocator::system();

fn poll<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

/// One round: fill the queue with async sends, drain it with async receives,
/// then a receiver that has to wait: polled empty (registers), woken by a
/// send, completes.
fn bounded_round(tx: &queue::Sender<u64>, rx: &queue::Receiver<u64>, cap: u64) {
    for i in 0..cap {
        assert_eq!(poll(pin!(tx.send(i))), Poll::Ready(Ok(())));
    }
    // A sender that has to wait: pending while full, done after a receive.
    {
        let mut send = pin!(tx.send(99));
        assert!(poll(send.as_mut()).is_pending());
        assert_eq!(rx.try_recv(), Ok(0));
        assert_eq!(poll(send.as_mut()), Poll::Ready(Ok(())));
    }
    for i in 1..cap {
        assert_eq!(poll(pin!(rx.recv())), Poll::Ready(Ok(i)));
    }
    assert_eq!(poll(pin!(rx.recv())), Poll::Ready(Ok(99)));
    let mut recv = pin!(rx.recv());
    assert!(poll(recv.as_mut()).is_pending());
    assert_eq!(tx.try_send(7), Ok(()));
    assert_eq!(poll(recv.as_mut()), Poll::Ready(Ok(7)));
}

#[test]
fn bounded_send_recv_and_waiting_allocate_nothing() {
    let (tx, rx) = queue::bounded::<u64>(8).unwrap();
    // Warm-up: the wait lists' shared state is created on first use.
    bounded_round(&tx, &rx, 8);
    for _ in 0..100 {
        let (n, ()) = alloc_count::count(|| bounded_round(&tx, &rx, 8));
        assert_eq!(n.allocations, 0, "{n:?}");
    }
    let (n, ()) = alloc_count::count(|| {
        for i in 0..1000 {
            tx.try_send(i).unwrap();
            assert_eq!(rx.try_recv(), Ok(i));
        }
    });
    assert_eq!(n.allocations, 0, "try_send/try_recv: {n:?}");
}

#[test]
fn recv_many_into_a_reused_buffer_allocates_nothing() {
    let (tx, rx) = queue::bounded::<u64>(16).unwrap();
    let mut buf = Vec::with_capacity(16);
    let round = |buf: &mut Vec<u64>| {
        for i in 0..16 {
            tx.try_send(i).unwrap();
        }
        buf.clear();
        assert_eq!(poll(pin!(rx.recv_many(buf, 16))), Poll::Ready(Ok(16)));
        // Waiting for the first value of a batch.
        buf.clear();
        let mut batch = pin!(rx.recv_many(buf, 16));
        assert!(poll(batch.as_mut()).is_pending());
        tx.try_send(1).unwrap();
        assert_eq!(poll(batch.as_mut()), Poll::Ready(Ok(1)));
    };
    round(&mut buf);
    let (n, ()) = alloc_count::count(|| round(&mut buf));
    assert_eq!(n.allocations, 0, "{n:?}");
}

#[test]
fn unbounded_steady_state_allocates_nothing() {
    let (tx, rx) = queue::unbounded::<u64>();
    // Values that stay within one segment of the unbounded queue; a new
    // segment is allocated once per 31 values, so count a full cycle away
    // from a boundary: try_send then try_recv of the same value reuses it.
    tx.try_send(0).unwrap();
    assert_eq!(rx.try_recv(), Ok(0));
    let (n, ()) = alloc_count::count(|| {
        let mut recv = pin!(rx.recv());
        assert!(poll(recv.as_mut()).is_pending());
        tx.try_send(1).unwrap();
        assert_eq!(poll(recv.as_mut()), Poll::Ready(Ok(1)));
    });
    assert_eq!(n.allocations, 0, "{n:?}");
}

#[test]
fn priority_push_pop_and_waiting_allocate_nothing() {
    let q = PriorityQueue::<u64>::builder()
        .lanes(8)
        .capacity(64)
        .age_after(4)
        .build()
        .unwrap();
    let round = || {
        for i in 0..64u64 {
            q.try_push((i % 8) as usize, i).unwrap();
        }
        for _ in 0..64 {
            assert!(q.try_pop().is_ok());
        }
        let mut pop = pin!(q.pop());
        assert!(poll(pop.as_mut()).is_pending());
        assert_eq!(poll(pin!(q.push(3, 5))), Poll::Ready(Ok(())));
        assert_eq!(poll(pop.as_mut()), Poll::Ready(Ok(5)));
    };
    round();
    for _ in 0..50 {
        let (n, ()) = alloc_count::count(round);
        assert_eq!(n.allocations, 0, "{n:?}");
    }
}
