//! loom models of the semaphore's protocols: every interleaving of a few
//! threads acquiring, releasing, cancelling and closing keeps the permit
//! count exact and loses no wake-up (a lost wake-up shows as a deadlock,
//! which loom reports).

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use std::task::Wake;

use loom::sync::Arc;
use loom::thread;

use super::{AcquireError, Fairness, Semaphore};

struct Unparker(thread::Thread);

impl Wake for Unparker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `f` on the current loom thread, parking between polls; a lost
/// wake-up leaves it parked forever, which loom reports as a deadlock.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let waker = Waker::from(std::sync::Arc::new(Unparker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        thread::park();
    }
}

fn sem(permits: usize, fairness: Fairness) -> Arc<Semaphore> {
    Arc::new(
        Semaphore::builder(permits)
            .fairness(fairness)
            .build()
            .unwrap(),
    )
}

fn both(model: impl Fn(Fairness) + Sync + Send + 'static) {
    let model = std::sync::Arc::new(model);
    for f in [Fairness::Fair, Fairness::Barging] {
        let m = model.clone();
        loom::model(move || m(f));
    }
}

#[test]
fn loom_two_threads_share_one_permit() {
    both(|f| {
        let s = sem(1, f);
        let s2 = s.clone();
        let t = thread::spawn(move || {
            let p = block_on(s2.acquire()).unwrap();
            drop(p);
        });
        let p = block_on(s.acquire()).unwrap();
        drop(p);
        t.join().unwrap();
        assert_eq!(s.available_permits(), 1);
    });
}

#[test]
fn loom_cancel_partly_granted_waiter_passes_permits_on() {
    // The acquire of 2 is granted 1 (fair) or nothing (barging), then
    // dropped while the held permit is released on another thread; a third
    // party waiting for 2 must then get both.
    both(|f| {
        let s = sem(2, f);
        // Held by the model rather than a guard, so that another loom
        // thread can release it through `raw.release`.
        core::mem::forget(s.try_acquire().unwrap());
        let held = 1;
        let s_rel = s.clone();
        let releaser = thread::spawn(move || {
            // What the guard's drop calls.
            s_rel.raw.release(held);
        });
        let s_c = s.clone();
        let canceller = thread::spawn(move || {
            let mut acq = pin!(s_c.acquire_many(2));
            let mut cx = Context::from_waker(Waker::noop());
            if let Poll::Ready(p) = acq.as_mut().poll(&mut cx) {
                drop(p.unwrap());
            }
        });
        let p = block_on(s.acquire_many(2)).unwrap();
        assert_eq!(p.num_permits(), 2);
        drop(p);
        releaser.join().unwrap();
        canceller.join().unwrap();
        assert_eq!(s.available_permits(), 2);
    });
}

#[test]
fn loom_close_fails_waiter_and_returns_partial_grant() {
    both(|f| {
        // 2 permits, 1 held for good: the waiter for 2 may get the other
        // as a partial grant (fair) before close fails it.
        let s = sem(2, f);
        core::mem::forget(s.try_acquire().unwrap());
        let s2 = s.clone();
        let waiter = thread::spawn(move || block_on(s2.acquire_many(2)).map(|p| p.num_permits()));
        s.close();
        let out = waiter.join().unwrap();
        assert_eq!(out, Err(AcquireError::Closed));
        assert_eq!(s.available_permits(), 1);
        assert!(s.try_acquire().is_err());
    });
}

#[test]
fn loom_add_permits_wakes_weighted_waiter() {
    both(|f| {
        // Both permits held for good: the waiter for 2 fits the total but
        // only the added permits can serve it.
        let s = sem(2, f);
        core::mem::forget(s.try_acquire_many(2).unwrap());
        let s2 = s.clone();
        let waiter = thread::spawn(move || {
            let p = block_on(s2.acquire_many(2)).unwrap();
            p.num_permits()
        });
        s.add_permits(1).unwrap();
        s.add_permits(1).unwrap();
        assert_eq!(waiter.join().unwrap(), 2);
        assert_eq!(s.available_permits(), 2);
    });
}

#[test]
fn loom_impossible_request_races_release_and_blocks_nobody() {
    // 2 permits, 1 held and released on another thread. A request for 3
    // can never be met: it must fail, wherever it lands in the release,
    // without keeping a permit or the head of the queue; the request for 2
    // must then be served (a wedged queue shows as a deadlock).
    both(|f| {
        let s = sem(2, f);
        core::mem::forget(s.try_acquire().unwrap());
        let s_rel = s.clone();
        let releaser = thread::spawn(move || s_rel.raw.release(1));
        let s_big = s.clone();
        let big = thread::spawn(move || block_on(s_big.acquire_many(3)).map(|p| p.num_permits()));
        let p = block_on(s.acquire_many(2)).unwrap();
        assert_eq!(p.num_permits(), 2);
        drop(p);
        assert_eq!(
            big.join().unwrap(),
            Err(AcquireError::ExceedsTotal {
                requested: 3,
                total: 2
            })
        );
        releaser.join().unwrap();
        assert_eq!(s.available_permits(), 2);
    });
}

#[test]
fn loom_forget_fails_a_waiter_it_leaves_over_the_total() {
    // 2 permits, both held: one is released, the other forgotten, on two
    // threads, while a waiter asks for 2. With 1 left in all the waiter can
    // never be served: it fails whether it links before the forget (failed
    // by it, giving back any partial grant) or after (on linking).
    both(|f| {
        let s = sem(2, f);
        core::mem::forget(s.try_acquire_many(2).unwrap());
        let s_rel = s.clone();
        let releaser = thread::spawn(move || s_rel.raw.release(1));
        let s_w = s.clone();
        let waiter = thread::spawn(move || block_on(s_w.acquire_many(2)).map(|p| p.num_permits()));
        s.raw.forget_held(1);
        assert_eq!(
            waiter.join().unwrap(),
            Err(AcquireError::ExceedsTotal {
                requested: 2,
                total: 1
            })
        );
        releaser.join().unwrap();
        assert_eq!(s.available_permits(), 1);
    });
}

#[test]
fn loom_try_acquire_races_release_and_waiter() {
    both(|f| {
        let s = sem(1, f);
        core::mem::forget(s.try_acquire().unwrap());
        let p = 1;
        let s2 = s.clone();
        let waiter = thread::spawn(move || drop(block_on(s2.acquire()).unwrap()));
        let s3 = s.clone();
        let trier = thread::spawn(move || s3.try_acquire().map(drop).is_ok());
        s.raw.release(p);
        trier.join().unwrap();
        waiter.join().unwrap();
        assert_eq!(s.available_permits(), 1);
    });
}
