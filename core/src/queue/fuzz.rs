//! Model checks for the fuzz targets `queue_bounded` and `queue_priority`,
//! also replayed by `cargo test` and driven by proptest.
//!
//! Each byte string decodes into a queue configuration and a sequence of
//! operations; every operation runs on the real queue and on a sequential
//! model (`VecDeque` for the channels, `BinaryHeap` or a scan for the
//! priority lanes), and the two must agree on every result and on
//! `len`/`is_full`/`is_closed` after each step. Any byte string decodes; the
//! only panics are model mismatches.

use core::cmp::Reverse;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use std::collections::{BinaryHeap, VecDeque};

use crate::{
    PriorityQueue,
    queue::{PriorityPushError, TryRecvError, TrySendError},
};

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future>(fut: F) -> Poll<F::Output> {
    let mut fut = pin!(fut);
    fut.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

/// Checks a bounded (or, when the first byte's top bit is set, unbounded)
/// channel against a `VecDeque`.
pub fn queue_bounded(data: &[u8]) {
    let Some((&conf, ops)) = data.split_first() else {
        return;
    };
    let unbounded = conf & 0x80 != 0;
    let cap = usize::from(conf % 8) + 1;
    let (tx, rx) = if unbounded {
        super::unbounded::<u32>()
    } else {
        match super::bounded::<u32>(cap) {
            Ok(pair) => pair,
            Err(e) => panic!("bounded({cap}) refused: {e}"),
        }
    };
    let mut senders = vec![tx];
    let mut receivers = vec![rx];
    let mut model: VecDeque<u32> = VecDeque::new();
    let mut closed = false;
    let mut next = 0u32;
    let full = |m: &VecDeque<u32>| !unbounded && m.len() == cap;

    let mut it = ops.iter().copied();
    while let Some(op) = it.next() {
        let arg = it.next().unwrap_or(0);
        match op % 10 {
            // try_send / async send polled once
            0..=2 => {
                let Some(tx) = senders.get(usize::from(arg) % senders.len().max(1)) else {
                    continue;
                };
                next += 1;
                let got = if op % 10 == 2 {
                    match poll_once(tx.send(next)) {
                        Poll::Ready(Ok(())) => Ok(()),
                        Poll::Ready(Err(e)) => Err(TrySendError::Closed(e.0)),
                        // The dropped future dropped the value; nothing queued.
                        Poll::Pending => Err(TrySendError::Full(next)),
                    }
                } else {
                    tx.try_send(next)
                };
                let want = if closed {
                    Err(TrySendError::Closed(next))
                } else if full(&model) {
                    Err(TrySendError::Full(next))
                } else {
                    model.push_back(next);
                    Ok(())
                };
                assert_eq!(got, want, "send {next}");
            }
            // try_recv / async recv polled once
            3 | 4 => {
                let Some(rx) = receivers.get(usize::from(arg) % receivers.len().max(1)) else {
                    continue;
                };
                let got = if op % 10 == 4 {
                    match poll_once(rx.recv()) {
                        Poll::Ready(Ok(v)) => Ok(v),
                        Poll::Ready(Err(_)) => Err(TryRecvError::Closed),
                        Poll::Pending => Err(TryRecvError::Empty),
                    }
                } else {
                    rx.try_recv()
                };
                let want = match model.pop_front() {
                    Some(v) => Ok(v),
                    None if closed => Err(TryRecvError::Closed),
                    None => Err(TryRecvError::Empty),
                };
                assert_eq!(got, want, "recv");
            }
            // recv_many polled once
            5 => {
                let Some(rx) = receivers.first() else {
                    continue;
                };
                let n = usize::from(arg % 6);
                let mut buf = Vec::new();
                let got = match poll_once(rx.recv_many(&mut buf, n)) {
                    Poll::Ready(r) => Some(r.map_err(|_| ())),
                    Poll::Pending => None,
                };
                let want = if n == 0 {
                    Some(Ok(0))
                } else if model.is_empty() {
                    closed.then_some(Err(()))
                } else {
                    Some(Ok(n.min(model.len())))
                };
                assert_eq!(got, want, "recv_many({n})");
                let taken: Vec<u32> = model.drain(..buf.len()).collect();
                assert_eq!(buf, taken, "recv_many({n}) values");
            }
            // close from either end
            6 => {
                let newly = if arg & 1 == 0 {
                    senders.first().map(|t| t.close())
                } else {
                    receivers.first().map(|r| r.close())
                };
                if let Some(newly) = newly {
                    assert_eq!(newly, !closed, "close");
                    closed = true;
                }
            }
            // clone or drop a handle
            7 => {
                if let Some(t) = senders.first() {
                    senders.push(t.clone());
                }
            }
            8 => {
                if !senders.is_empty() {
                    senders.swap_remove(usize::from(arg) % senders.len());
                    closed |= senders.is_empty();
                }
            }
            _ => {
                if arg & 1 == 0 {
                    if let Some(r) = receivers.first() {
                        receivers.push(r.clone());
                    }
                } else if !receivers.is_empty() {
                    receivers.swap_remove(usize::from(arg) % receivers.len());
                    if receivers.is_empty() {
                        // The queue and what it held go with the last receiver.
                        closed = true;
                        model.clear();
                    }
                }
            }
        }
        if let Some(tx) = senders.first() {
            assert_eq!(tx.is_closed(), closed, "is_closed");
            if !receivers.is_empty() {
                assert_eq!(tx.len(), model.len(), "len");
                assert_eq!(tx.is_full(), full(&model), "is_full");
            }
        }
        if let Some(rx) = receivers.first() {
            assert_eq!(rx.is_closed(), closed, "is_closed");
            assert_eq!(rx.len(), model.len(), "len");
            assert_eq!(rx.is_empty(), model.is_empty(), "is_empty");
            assert_eq!(rx.capacity(), (!unbounded).then_some(cap), "capacity");
        }
    }
}

/// The priority lanes' model: a max-heap on (lane, oldest first) without
/// aging; with aging, a scan computing each value's standing.
struct PriorityModel {
    lanes: usize,
    cap: usize,
    age: Option<u64>,
    heap: BinaryHeap<(usize, Reverse<u64>, u32)>,
    /// (lane, seq, pops when pushed, value), used with aging.
    list: Vec<(usize, u64, u64, u32)>,
    seq: u64,
    pops: u64,
    closed: bool,
}

impl PriorityModel {
    fn len(&self) -> usize {
        self.heap.len() + self.list.len()
    }

    fn push(&mut self, lane: usize, v: u32) -> Result<(), PriorityPushError<u32>> {
        if lane >= self.lanes {
            return Err(PriorityPushError::NoSuchLane(v));
        }
        if self.closed {
            return Err(PriorityPushError::Closed(v));
        }
        if self.len() == self.cap {
            return Err(PriorityPushError::Full(v));
        }
        if self.age.is_some() {
            self.list.push((lane, self.seq, self.pops, v));
        } else {
            self.heap.push((lane, Reverse(self.seq), v));
        }
        self.seq += 1;
        Ok(())
    }

    fn pop(&mut self) -> Result<u32, TryRecvError> {
        let got = match self.age {
            None => self.heap.pop().map(|(_, _, v)| v),
            Some(age) => {
                let top = self.lanes - 1;
                let pops = self.pops;
                let best = self
                    .list
                    .iter()
                    .enumerate()
                    .max_by_key(|(_, (lane, seq, at, _))| {
                        let raised = usize::try_from((pops - *at) / age).unwrap_or(usize::MAX);
                        (lane.saturating_add(raised).min(top), Reverse(*seq))
                    })
                    .map(|(i, _)| i);
                best.map(|i| self.list.remove(i).3)
            }
        };
        match got {
            Some(v) => {
                self.pops += 1;
                Ok(v)
            }
            None if self.closed => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }
}

/// Checks a [`PriorityQueue`] (lanes, capacity and aging from the first three
/// bytes) against a `BinaryHeap` model, or a scan when aging is on.
pub fn queue_priority(data: &[u8]) {
    let [l, c, a, ops @ ..] = data else {
        return;
    };
    let lanes = if *l == 0xff {
        64
    } else {
        usize::from(l % 8) + 1
    };
    let cap = usize::from(c % 16) + 1;
    let age = (a % 4 != 0).then(|| u64::from(a % 4));
    let mut builder = PriorityQueue::<u32>::builder().lanes(lanes).capacity(cap);
    if let Some(age) = age {
        builder = builder.age_after(age);
    }
    let q = match builder.build() {
        Ok(q) => q,
        Err(e) => panic!("valid configuration refused: {e}"),
    };
    let mut model = PriorityModel {
        lanes,
        cap,
        age,
        heap: BinaryHeap::new(),
        list: Vec::new(),
        seq: 0,
        pops: 0,
        closed: false,
    };
    let mut next = 0u32;
    let mut it = ops.iter().copied();
    while let Some(op) = it.next() {
        let arg = it.next().unwrap_or(0);
        match op % 6 {
            0 | 1 => {
                // One lane past the end, to check NoSuchLane.
                let lane = usize::from(arg) % (lanes + 1);
                next += 1;
                let got = if op % 6 == 1 {
                    match poll_once(q.push(lane, next)) {
                        Poll::Ready(r) => r,
                        Poll::Pending => Err(PriorityPushError::Full(next)),
                    }
                } else {
                    q.try_push(lane, next)
                };
                assert_eq!(got, model.push(lane, next), "push({lane}, {next})");
            }
            2 | 3 => {
                let got = if op % 6 == 3 {
                    match poll_once(q.pop()) {
                        Poll::Ready(Ok(v)) => Ok(v),
                        Poll::Ready(Err(_)) => Err(TryRecvError::Closed),
                        Poll::Pending => Err(TryRecvError::Empty),
                    }
                } else {
                    q.try_pop()
                };
                assert_eq!(got, model.pop(), "pop");
            }
            4 => {
                if arg % 4 == 0 {
                    assert_eq!(q.close(), !model.closed, "close");
                    model.closed = true;
                }
            }
            _ => {
                let lane = usize::from(arg) % lanes;
                let want = if age.is_some() {
                    model.list.iter().filter(|e| e.0 == lane).count()
                } else {
                    model.heap.iter().filter(|e| e.0 == lane).count()
                };
                assert_eq!(q.lane_len(lane), want, "lane_len({lane})");
            }
        }
        assert_eq!(q.len(), model.len(), "len");
        assert_eq!(q.is_full(), model.len() == cap, "is_full");
        assert_eq!(q.is_closed(), model.closed, "is_closed");
    }
}
