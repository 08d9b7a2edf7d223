//! loom models of the admission protocol: the fast path, the line, run-time
//! limit changes and cancellation, each checking that permits held never
//! exceed the limit in force and that no wake-up or permit is lost.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use loom::sync::atomic::AtomicUsize;
use loom::sync::atomic::Ordering::SeqCst;

use super::QueueOrder;
use super::error::BulkheadError;
use super::raw::{Entry, Fast, Raw};
use crate::loom::sync::Arc;

/// A bare-bones acquire over `Raw` (no timer), as `Acquire` drives it.
struct Wait<'a> {
    raw: &'a Raw,
    n: u32,
    slot: Option<u32>,
}

impl Future for Wait<'_> {
    type Output = Result<(), BulkheadError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let idx = match self.slot {
            Some(idx) => idx,
            None => {
                if self.raw.try_fast(self.n) == Fast::Admitted {
                    return Poll::Ready(Ok(()));
                }
                match self.raw.enter(self.n, Some(cx.waker())) {
                    Entry::Admitted => return Poll::Ready(Ok(())),
                    Entry::Rejected(e) => return Poll::Ready(Err(e)),
                    Entry::Queued(idx) => {
                        self.slot = Some(idx);
                        idx
                    }
                }
            }
        };
        match self.raw.poll_slot(idx, cx.waker()) {
            Some(out) => {
                self.slot = None;
                Poll::Ready(out)
            }
            None => Poll::Pending,
        }
    }
}

struct Unpark(loom::thread::Thread);

impl std::task::Wake for Unpark {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls on the current loom thread, parking in between: a lost wake-up
/// parks it for good, which loom reports as a deadlock.
fn block_on<F: Future>(f: F) -> F::Output {
    let waker = core::task::Waker::from(std::sync::Arc::new(Unpark(loom::thread::current())));
    let mut f = core::pin::pin!(f);
    loop {
        if let Poll::Ready(out) = f.as_mut().poll(&mut Context::from_waker(&waker)) {
            return out;
        }
        loom::thread::park();
    }
}

/// Counts holders; panics the moment more than `limit` hold at once.
struct Holders(AtomicUsize);

impl Holders {
    fn enter(&self, limit: usize) {
        let before = self.0.fetch_add(1, SeqCst);
        assert!(
            before < limit,
            "{} holders with a limit of {limit}",
            before + 1
        );
    }
    fn leave(&self) {
        self.0.fetch_sub(1, SeqCst);
    }
}

#[test]
fn loom_fast_path_never_exceeds_the_limit() {
    loom::model(|| {
        let raw = Arc::new(Raw::new(1, 0, QueueOrder::Fifo, 0));
        let holders = Arc::new(Holders(AtomicUsize::new(0)));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (raw, holders) = (raw.clone(), holders.clone());
                loom::thread::spawn(move || {
                    if raw.try_fast(1) == Fast::Admitted {
                        holders.enter(1);
                        holders.leave();
                        raw.release(1);
                    }
                })
            })
            .collect();
        if raw.try_fast(1) == Fast::Admitted {
            holders.enter(1);
            holders.leave();
            raw.release(1);
        }
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(raw.in_flight(), 0);
    });
}

#[test]
fn loom_a_release_always_reaches_a_waiter() {
    loom::model(|| {
        let raw = Arc::new(Raw::new(1, 4, QueueOrder::Fifo, 2));
        let holders = Arc::new(Holders(AtomicUsize::new(0)));
        assert_eq!(raw.try_fast(1), Fast::Admitted);
        holders.enter(1);
        let waiter = {
            let (raw, holders) = (raw.clone(), holders.clone());
            loom::thread::spawn(move || {
                let got = block_on(Wait {
                    raw: &raw,
                    n: 1,
                    slot: None,
                });
                assert_eq!(got, Ok(()));
                holders.enter(1);
                holders.leave();
                raw.release(1);
            })
        };
        holders.leave();
        raw.release(1);
        // block_on would hang (and loom report a deadlock) on a lost wake.
        waiter.join().unwrap();
        assert_eq!(raw.in_flight(), 0);
        assert_eq!(raw.stats().queued_waiters, 0);
    });
}

#[test]
fn loom_raising_the_limit_races_admission_without_overshoot() {
    loom::model(|| {
        let raw = Arc::new(Raw::new(1, 4, QueueOrder::Fifo, 2));
        let holders = Arc::new(Holders(AtomicUsize::new(0)));
        assert_eq!(raw.try_fast(1), Fast::Admitted);
        holders.enter(2);
        let raiser = {
            let raw = raw.clone();
            loom::thread::spawn(move || raw.set_limit(2))
        };
        let waiter = {
            let (raw, holders) = (raw.clone(), holders.clone());
            loom::thread::spawn(move || {
                let got = block_on(Wait {
                    raw: &raw,
                    n: 1,
                    slot: None,
                });
                assert_eq!(got, Ok(()));
                holders.enter(2);
                holders.leave();
                raw.release(1);
            })
        };
        // A third caller that does not wait: admitted only with room.
        if raw.try_fast(1) == Fast::Admitted {
            holders.enter(2);
            holders.leave();
            raw.release(1);
        }
        raiser.join().unwrap();
        // The raise alone must let the waiter in while the first permit is
        // still held.
        waiter.join().unwrap();
        holders.leave();
        raw.release(1);
        assert_eq!(raw.in_flight(), 0);
    });
}

#[test]
fn loom_lowering_the_limit_never_admits_past_it() {
    loom::model(|| {
        let raw = Arc::new(Raw::new(2, 0, QueueOrder::Fifo, 0));
        assert_eq!(raw.try_fast(1), Fast::Admitted);
        let lowerer = {
            let raw = raw.clone();
            loom::thread::spawn(move || raw.set_limit(1))
        };
        let admitted = raw.try_fast(1) == Fast::Admitted;
        lowerer.join().unwrap();
        // Either the admission came first (2 held, limit then lowered: no
        // revocation) or the lowering did, and then nobody got in.
        let stats = raw.stats();
        assert_eq!(stats.in_flight, if admitted { 2 } else { 1 });
        assert_eq!(stats.max_concurrent, 1);
        // With the limit at 1 and 1+ held, nobody else gets in.
        assert_eq!(raw.try_fast(1), Fast::Full);
    });
}

#[test]
fn loom_cancellation_racing_a_grant_passes_the_permit_on() {
    loom::model(|| {
        let raw = Arc::new(Raw::new(1, 4, QueueOrder::Fifo, 2));
        assert_eq!(raw.try_fast(1), Fast::Admitted);
        let waker = noop_waker();
        let Entry::Queued(idx) = raw.enter(1, Some(&waker)) else {
            panic!("the second caller must queue");
        };
        let releaser = {
            let raw = raw.clone();
            loom::thread::spawn(move || raw.release(1))
        };
        raw.cancel(idx);
        releaser.join().unwrap();
        // Granted-then-dropped or dropped-then-released: either way the
        // permit is back and the line is empty.
        let stats = raw.stats();
        assert_eq!((stats.in_flight, stats.queued_waiters), (0, 0));
        assert_eq!(raw.try_fast(1), Fast::Admitted);
    });
}

#[test]
fn loom_lowering_the_limit_refuses_a_waiter_that_no_longer_fits() {
    // One permit held of 2. A caller for 2 must wait (1 + 2 > 2) and a
    // caller for 1 may queue behind it; the limit drops to 1 while both
    // race to the line, then the held permit comes back. The big caller can
    // never fit a limit of 1: it must be refused, whether it joined the
    // line before the lowering (refused by it) or after (refused on entry),
    // and the small one must get its permit instead of waiting behind it
    // for good (loom reports that as a deadlock).
    for order in [QueueOrder::Fifo, QueueOrder::Lifo] {
        loom::model(move || {
            let raw = Arc::new(Raw::new(2, 4, order, 2));
            assert_eq!(raw.try_fast(1), Fast::Admitted);
            let big = {
                let raw = raw.clone();
                loom::thread::spawn(move || {
                    block_on(Wait {
                        raw: &raw,
                        n: 2,
                        slot: None,
                    })
                })
            };
            let small = {
                let raw = raw.clone();
                loom::thread::spawn(move || {
                    let got = block_on(Wait {
                        raw: &raw,
                        n: 1,
                        slot: None,
                    });
                    if got.is_ok() {
                        raw.release(1);
                    }
                    got
                })
            };
            raw.set_limit(1);
            raw.release(1);
            assert_eq!(big.join().unwrap(), Err(BulkheadError::Oversized));
            assert_eq!(small.join().unwrap(), Ok(()));
            let stats = raw.stats();
            assert_eq!(
                (
                    stats.in_flight,
                    stats.queued_waiters,
                    stats.rejected_oversized
                ),
                (0, 0, 1)
            );
        });
    }
}

fn noop_waker() -> core::task::Waker {
    core::task::Waker::noop().clone()
}
