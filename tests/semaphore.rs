//! The semaphore's documented rules, one test each: fairness, barging,
//! weights, cancellation, close, unwinding, limits, threads.

use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use weir::{
    Semaphore,
    sync::{Acquire, AcquireError, AcquireOwned, Fairness, OwnedPermit, Permit, TryAcquireError},
};

struct Flag(AtomicBool);
impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn flag() -> (Arc<Flag>, Waker) {
    let f = Arc::new(Flag(AtomicBool::new(false)));
    (f.clone(), Waker::from(f))
}

fn poll<F: std::future::Future>(f: Pin<&mut F>, w: &Waker) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(w))
}

fn fair(n: usize) -> Semaphore {
    Semaphore::builder(n).spin(false).build().unwrap()
}

fn barging(n: usize) -> Semaphore {
    Semaphore::builder(n)
        .fairness(Fairness::Barging)
        .spin(false)
        .build()
        .unwrap()
}

#[test]
fn fair_large_head_is_not_starved_by_small_requests() {
    let sem = fair(3);
    let mut held = sem.try_acquire_many(3).unwrap();
    let (big_woke, wb) = flag();
    let mut big = pin!(sem.acquire_many(3));
    assert!(poll(big.as_mut(), &wb).is_pending());
    let (_, ws) = flag();
    let mut small = pin!(sem.acquire());
    assert!(poll(small.as_mut(), &ws).is_pending());

    // Releasing 1 at a time: each goes to the head, none to the small one.
    drop(held.split(1).unwrap());
    assert_eq!(sem.available_permits(), 0, "partial grant to the head");
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    drop(held.split(1).unwrap());
    assert!(poll(small.as_mut(), &ws).is_pending());
    assert!(!big_woke.0.load(Ordering::SeqCst));
    drop(held);
    assert!(big_woke.0.load(Ordering::SeqCst));
    let p = match poll(big.as_mut(), &wb) {
        Poll::Ready(Ok(p)) => p,
        other => panic!("{other:?}"),
    };
    assert_eq!(p.num_permits(), 3);
    assert!(poll(small.as_mut(), &ws).is_pending());
    drop(p);
    assert!(matches!(poll(small.as_mut(), &ws), Poll::Ready(Ok(_))));
}

#[test]
fn fair_try_acquire_does_not_overtake_a_waiter() {
    let sem = fair(2);
    let mut held = sem.try_acquire_many(2).unwrap();
    let (_, w) = flag();
    let mut waiter = pin!(sem.acquire_many(2));
    assert!(poll(waiter.as_mut(), &w).is_pending());
    sem.add_permits(0).unwrap();
    drop(held.split(1).unwrap());
    // The waiter holds 1 of its 2; nothing is free for anyone else.
    assert_eq!(sem.available_permits(), 0);
    assert!(sem.try_acquire().is_err());
}

#[test]
fn barging_newcomer_takes_free_permits_past_a_waiter() {
    let sem = barging(2);
    let held = sem.try_acquire_many(2).unwrap();
    let (woke, w) = flag();
    let mut big = pin!(sem.acquire_many(2));
    assert!(poll(big.as_mut(), &w).is_pending());
    let mut held = held;
    drop(held.split(1).unwrap());
    assert_eq!(
        sem.available_permits(),
        1,
        "no partial grants in barging mode"
    );
    assert!(!woke.0.load(Ordering::SeqCst));
    let barger = sem.try_acquire().expect("barging takes free permits");
    drop(held);
    drop(barger);
    assert!(woke.0.load(Ordering::SeqCst));
    assert!(matches!(poll(big.as_mut(), &w), Poll::Ready(Ok(_))));
}

#[test]
fn cancelling_a_partly_granted_waiter_passes_its_permits_on() {
    let sem = fair(2);
    let held = sem.try_acquire_many(2).unwrap();
    let (_, w1) = flag();
    let mut first = Box::pin(sem.acquire_many(2));
    assert!(poll(first.as_mut(), &w1).is_pending());
    let (second_woke, w2) = flag();
    let mut second = pin!(sem.acquire());
    assert!(poll(second.as_mut(), &w2).is_pending());
    let mut held = held;
    drop(held.split(1).unwrap()); // the first now holds 1 of 2
    assert!(!second_woke.0.load(Ordering::SeqCst));
    drop(first);
    assert!(
        second_woke.0.load(Ordering::SeqCst),
        "cancel passed the permit on"
    );
    let p = match poll(second.as_mut(), &w2) {
        Poll::Ready(Ok(p)) => p,
        other => panic!("{other:?}"),
    };
    drop((p, held));
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn cancelling_a_granted_but_unpolled_waiter_returns_its_permits() {
    let sem = fair(1);
    let held = sem.try_acquire().unwrap();
    let (woke, w) = flag();
    let mut a = Box::pin(sem.acquire());
    assert!(poll(a.as_mut(), &w).is_pending());
    drop(held);
    assert!(woke.0.load(Ordering::SeqCst));
    assert_eq!(sem.available_permits(), 0, "granted to the waiter");
    drop(a);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn close_fails_every_waiter_at_once_and_later_acquires() {
    let sem = fair(3);
    let held = sem.try_acquire_many(3).unwrap();
    let mut waiters: Vec<_> = (1..=3)
        .map(|n| (Box::pin(sem.acquire_many(n)), flag()))
        .collect();
    for (f, (_, w)) in &mut waiters {
        assert!(poll(f.as_mut(), w).is_pending());
    }
    sem.close();
    for (f, (woke, w)) in &mut waiters {
        assert!(woke.0.load(Ordering::SeqCst));
        assert!(matches!(
            poll(f.as_mut(), w),
            Poll::Ready(Err(AcquireError::Closed))
        ));
    }
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    let (_, w) = flag();
    let mut late = pin!(sem.acquire());
    assert!(matches!(
        poll(late.as_mut(), &w),
        Poll::Ready(Err(AcquireError::Closed))
    ));
    // Permits held across close still count back.
    drop(held);
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn permit_comes_back_when_the_holder_panics() {
    let sem = fair(2);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _p = sem.try_acquire_many(2).unwrap();
        panic!("user code fails while holding permits");
    }));
    assert!(r.is_err());
    assert_eq!(sem.available_permits(), 2);
    assert!(sem.try_acquire_many(2).is_ok(), "not poisoned");
}

#[test]
fn zero_and_too_large_requests_answer_at_once() {
    let sem = fair(0);
    let (_, w) = flag();
    let mut zero = pin!(sem.acquire_many(0));
    assert!(matches!(poll(zero.as_mut(), &w), Poll::Ready(Ok(ref p)) if p.num_permits() == 0));
    let mut huge = pin!(sem.acquire_many(usize::MAX));
    assert!(matches!(
        poll(huge.as_mut(), &w),
        Poll::Ready(Err(AcquireError::TooLarge {
            requested: usize::MAX
        }))
    ));
    assert_eq!(
        sem.try_acquire_many(usize::MAX).unwrap_err(),
        TryAcquireError::TooLarge {
            requested: usize::MAX
        }
    );
    sem.add_permits(Semaphore::MAX_PERMITS).unwrap();
    assert_eq!(sem.add_permits(1).unwrap_err().rejected(), 1);
    assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
}

#[test]
fn forgetting_permits_shrinks_the_semaphore_for_good() {
    let sem = fair(4);
    sem.try_acquire().unwrap().forget();
    assert_eq!(sem.forget_permits(1), 1);
    assert_eq!(sem.available_permits(), 2);
    // The room freed by forgetting can be added back up to the maximum.
    sem.add_permits(Semaphore::MAX_PERMITS - 2).unwrap();
}

#[test]
fn owned_permit_moves_to_another_thread_and_owned_acquire_waits() {
    let sem = Arc::new(fair(1));
    let p = sem.clone().try_acquire_owned().unwrap();
    let (woke, w) = flag();
    let mut acq: Pin<Box<AcquireOwned>> = Box::pin(sem.clone().acquire_owned());
    assert!(poll(acq.as_mut(), &w).is_pending());
    std::thread::spawn(move || drop(p)).join().unwrap();
    assert!(woke.0.load(Ordering::SeqCst));
    let p2: OwnedPermit = match poll(acq.as_mut(), &w) {
        Poll::Ready(Ok(p)) => p,
        other => panic!("{other:?}"),
    };
    assert!(Arc::ptr_eq(p2.semaphore(), &sem));
    drop(p2);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn public_types_are_send_and_sync_where_it_matters() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<Semaphore>();
    sync::<Semaphore>();
    send::<Acquire<'static>>();
    send::<AcquireOwned>();
    send::<Permit<'static>>();
    sync::<Permit<'static>>();
    send::<OwnedPermit>();
    sync::<OwnedPermit>();
}

/// Threads hammer a 3-permit semaphore with weights 1..=3; the permits in
/// use never exceed 3, and all come back.
fn threads_never_exceed_the_permits(fairness: Fairness, spin: bool) {
    let sem = Arc::new(
        Semaphore::builder(3)
            .fairness(fairness)
            .spin(spin)
            .build()
            .unwrap(),
    );
    let in_use = Arc::new(AtomicUsize::new(0));
    let per_thread = if cfg!(debug_assertions) {
        5_000
    } else {
        50_000
    };
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (sem, in_use) = (sem.clone(), in_use.clone());
            std::thread::spawn(move || {
                let mut rng = fastrand::Rng::with_seed(t);
                for _ in 0..per_thread {
                    let n = rng.usize(1..=3);
                    let p = futures_lite::future::block_on(sem.acquire_many(n)).unwrap();
                    let now = in_use.fetch_add(n, Ordering::SeqCst) + n;
                    assert!(now <= 3, "{now} permits in use");
                    in_use.fetch_sub(n, Ordering::SeqCst);
                    drop(p);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn threads_fair() {
    threads_never_exceed_the_permits(Fairness::Fair, true);
    threads_never_exceed_the_permits(Fairness::Fair, false);
}

#[test]
fn threads_barging() {
    threads_never_exceed_the_permits(Fairness::Barging, true);
    threads_never_exceed_the_permits(Fairness::Barging, false);
}
