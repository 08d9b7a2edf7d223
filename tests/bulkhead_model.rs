//! The bulkhead against a sequential model: random sequences of acquire,
//! try-acquire, release, cancel, time advance, limit change and close, with
//! every outcome, every counter and the instant of every time-out compared.
//! A lowered limit refuses the queued callers that no longer fit.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use proptest::prelude::*;
use weir::test_util::VirtualRuntime;
use weir::{
    Bulkhead,
    limit::{BulkheadError, BulkheadPermit, BulkheadStats, QueueOrder},
};

#[derive(Debug, Clone)]
enum Op {
    Try(u32),
    Acquire(u32),
    Release(usize),
    Cancel(usize),
    Advance(u64),
    SetLimit(u32),
    Close,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u32..4).prop_map(Op::Try),
        6 => (0u32..4).prop_map(Op::Acquire),
        4 => any::<usize>().prop_map(Op::Release),
        2 => any::<usize>().prop_map(Op::Cancel),
        3 => (0u64..120).prop_map(Op::Advance),
        2 => (1u32..5).prop_map(Op::SetLimit),
        1 => Just(Op::Close),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fate {
    Waiting,
    Granted,
    Refused(BulkheadError),
}

/// The rules, written as plainly as possible.
#[derive(Debug, Default)]
struct Model {
    limit: u32,
    in_flight: u32,
    lifo: bool,
    queue_capacity: u32,
    /// `None`: wait forever.
    acquire_timeout_ms: Option<u64>,
    now_ms: u64,
    closed: bool,
    /// Waiting ids, oldest first.
    line: VecDeque<usize>,
    /// Per waiter id: permits, deadline, fate.
    waiters: Vec<(u32, Option<u64>, Fate)>,
    stats: BulkheadStats,
}

impl Model {
    fn queued(&self) -> u32 {
        self.line.iter().map(|&id| self.waiters[id].0).sum()
    }

    fn queue_full(&self) -> BulkheadError {
        BulkheadError::QueueFull {
            max_concurrent: self.limit,
            queue_capacity: self.queue_capacity,
        }
    }

    fn refuse(&mut self, e: BulkheadError) -> Result<(), BulkheadError> {
        match e {
            BulkheadError::QueueFull { .. } => self.stats.rejected_queue_full += 1,
            BulkheadError::WaitTimeout => self.stats.rejected_wait_timeout += 1,
            BulkheadError::Closed => self.stats.rejected_closed += 1,
            _ => self.stats.rejected_oversized += 1,
        }
        Err(e)
    }

    /// A new caller: admitted (`Ok(None)`), refused, or queued as `id`.
    fn enter(&mut self, n: u32, may_wait: bool, id: usize) -> Result<Option<usize>, BulkheadError> {
        if self.closed {
            return self.refuse(BulkheadError::Closed).map(|_| None);
        }
        if (self.line.is_empty() || self.lifo) && self.in_flight + n <= self.limit {
            self.in_flight += n;
            self.stats.admitted += 1;
            return Ok(None);
        }
        if n > self.limit {
            return self.refuse(BulkheadError::Oversized).map(|_| None);
        }
        if !may_wait
            || n > self.queue_capacity
            || (!self.lifo && self.queued() + n > self.queue_capacity)
        {
            return self.refuse(self.queue_full()).map(|_| None);
        }
        while self.queued() + n > self.queue_capacity {
            let oldest = self.line.pop_front().unwrap();
            self.waiters[oldest].2 = Fate::Refused(self.queue_full());
            self.stats.rejected_queue_full += 1;
        }
        let deadline = self.acquire_timeout_ms.map(|w| self.now_ms + w);
        assert_eq!(self.waiters.len(), id);
        self.waiters.push((n, deadline, Fate::Waiting));
        self.line.push_back(id);
        Ok(Some(id))
    }

    fn dispatch(&mut self) {
        while !self.closed {
            let head = if self.lifo {
                self.line.back()
            } else {
                self.line.front()
            };
            let Some(&id) = head else { return };
            let n = self.waiters[id].0;
            if self.in_flight + n > self.limit {
                return;
            }
            self.in_flight += n;
            self.stats.admitted += 1;
            self.waiters[id].2 = Fate::Granted;
            self.line.retain(|&x| x != id);
        }
    }

    /// A waiter that asks for more than the new limit can never fit: it is
    /// refused at once, and the ones it held back are served.
    fn set_limit(&mut self, limit: u32) {
        self.limit = limit;
        let waiters = &mut self.waiters;
        let stats = &mut self.stats;
        self.line.retain(|&id| {
            let over = waiters[id].0 > limit;
            if over {
                waiters[id].2 = Fate::Refused(BulkheadError::Oversized);
                stats.rejected_oversized += 1;
            }
            !over
        });
        self.dispatch();
    }

    fn release(&mut self, n: u32) {
        self.in_flight -= n;
        self.dispatch();
    }

    fn cancel(&mut self, id: usize) {
        match self.waiters[id].2 {
            Fate::Waiting => {
                self.line.retain(|&x| x != id);
                self.stats.cancelled += 1;
                self.dispatch();
            }
            Fate::Granted => self.release(self.waiters[id].0),
            Fate::Refused(_) => {}
        }
    }

    /// What polling waiter `id` now yields (and its effect).
    fn poll(&mut self, id: usize) -> Option<Result<u32, BulkheadError>> {
        let (n, deadline, fate) = self.waiters[id];
        match fate {
            Fate::Granted => Some(Ok(n)),
            Fate::Refused(e) => Some(Err(e)),
            Fate::Waiting if deadline.is_some_and(|d| d <= self.now_ms) => {
                self.line.retain(|&x| x != id);
                let _ = self.refuse(BulkheadError::WaitTimeout);
                self.dispatch();
                Some(Err(BulkheadError::WaitTimeout))
            }
            Fate::Waiting => None,
        }
    }
}

fn poll<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(Waker::noop()))
}

fn run(
    ops: Vec<Op>,
    limit: u32,
    queue_capacity: u32,
    wait_ms: Option<u64>,
    lifo: bool,
) -> Result<(), TestCaseError> {
    let rt = VirtualRuntime::new();
    rt.set_auto_advance(false);
    let acquire_timeout = wait_ms.map_or(Duration::MAX, Duration::from_millis);
    let b = Bulkhead::builder()
        .max_concurrent(limit)
        .queue_capacity(queue_capacity)
        .acquire_timeout(acquire_timeout)
        .queue_order(if lifo {
            QueueOrder::Lifo
        } else {
            QueueOrder::Fifo
        })
        .build(rt.clone())
        .unwrap();
    let mut m = Model {
        limit,
        lifo,
        queue_capacity,
        acquire_timeout_ms: wait_ms,
        ..Model::default()
    };
    let mut held: Vec<(BulkheadPermit<'_>, u32)> = Vec::new();
    let mut pending: Vec<(usize, Pin<Box<_>>)> = Vec::new();
    let mut next_id = 0;
    for op in ops {
        match op {
            Op::Try(n) => {
                let got = b.try_acquire_many(n);
                let want = m.enter(n, false, usize::MAX);
                prop_assert_eq!(
                    got.as_ref().err().copied(),
                    want.err(),
                    "try_acquire_many({})",
                    n
                );
                if let Ok(p) = got {
                    held.push((p, n));
                }
            }
            Op::Acquire(n) => {
                let mut fut = Box::pin(b.acquire_many(n));
                let got = poll(&mut fut);
                match m.enter(n, !acquire_timeout.is_zero(), next_id) {
                    Ok(Some(id)) => {
                        prop_assert!(got.is_pending(), "acquire_many({}) should wait", n);
                        pending.push((id, fut));
                        next_id += 1;
                    }
                    Ok(None) => match got {
                        Poll::Ready(Ok(p)) => held.push((p, n)),
                        other => {
                            prop_assert!(false, "acquire_many({n}) should be admitted: {other:?}")
                        }
                    },
                    Err(e) => prop_assert_eq!(got.map(|r| r.err()), Poll::Ready(Some(e))),
                }
            }
            Op::Release(k) if !held.is_empty() => {
                let (p, n) = held.swap_remove(k % held.len());
                drop(p);
                m.release(n);
            }
            Op::Cancel(k) if !pending.is_empty() => {
                let (id, fut) = pending.remove(k % pending.len());
                drop(fut);
                m.cancel(id);
            }
            Op::Release(_) | Op::Cancel(_) => {}
            Op::Advance(ms) => {
                rt.block_on(rt.advance(Duration::from_millis(ms)));
                m.now_ms += ms;
            }
            Op::SetLimit(l) => {
                b.set_max_concurrent(l).unwrap();
                m.set_limit(l);
            }
            Op::Close => {
                b.close();
                m.closed = true;
                for id in std::mem::take(&mut m.line) {
                    m.waiters[id].2 = Fate::Refused(BulkheadError::Closed);
                    m.stats.rejected_closed += 1;
                }
            }
        }
        // Every pending future looks, in arrival order, as an executor
        // woken by the bulkhead would make it.
        let mut still = Vec::new();
        for (id, mut fut) in pending.drain(..) {
            let got = poll(&mut fut);
            match m.poll(id) {
                None => {
                    prop_assert!(got.is_pending(), "waiter {} should still wait", id);
                    still.push((id, fut));
                }
                Some(Ok(n)) => match got {
                    Poll::Ready(Ok(p)) => {
                        prop_assert_eq!(p.permits(), n);
                        // The permit outlives its future: it borrows the bulkhead.
                        held.push((p, n));
                    }
                    other => prop_assert!(false, "waiter {id} should be granted: {other:?}"),
                },
                Some(Err(e)) => prop_assert_eq!(got.map(|r| r.err()), Poll::Ready(Some(e))),
            }
        }
        pending = still;
        let mut want = m.stats;
        want.max_concurrent = m.limit;
        want.in_flight = m.in_flight;
        want.queued = u64::from(m.queued());
        want.queued_waiters = m.line.len() as u64;
        prop_assert_eq!(b.stats(), want);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn bulkhead_matches_the_model(
        ops in proptest::collection::vec(op(), 1..80),
        limit in 1u32..4,
        queue_capacity in 0u32..6,
        wait in prop_oneof![Just(None), Just(Some(0u64)), (1u64..200).prop_map(Some)],
        lifo in any::<bool>(),
    ) {
        run(ops, limit, queue_capacity, wait, lifo)?;
    }
}
