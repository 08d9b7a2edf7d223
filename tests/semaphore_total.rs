//! A request for more permits than the semaphore holds in all can never be
//! met: it fails at once with `ExceedsTotal` instead of waiting (in fair
//! mode, taking every permit as a partial grant and blocking everyone
//! behind it), and a waiter that stops fitting when permits are forgotten
//! fails the moment they are, so the waiters behind it proceed (issue 10,
//! finding 6). Each test runs on every runtime and in both fairness modes.

mod common;

use std::sync::Arc;
use std::time::Duration;

use futures_lite::future::poll_once;
use weir::Runtime;
use weir::{
    Semaphore,
    sync::{AcquireError, Fairness, TryAcquireError},
};

fn sem(permits: usize, fairness: Fairness) -> Arc<Semaphore> {
    Arc::new(
        Semaphore::builder(permits)
            .fairness(fairness)
            .build()
            .unwrap(),
    )
}

const MODES: [Fairness; 2] = [Fairness::Fair, Fairness::Barging];

fn exceeds(requested: usize, total: usize) -> AcquireError {
    AcquireError::ExceedsTotal { requested, total }
}

/// 2 permits, 1 held: a request for 3 fails on its first poll and takes
/// nothing; a request for 2 made after it is served as soon as the held
/// permit comes back (released by another task).
async fn impossible_request_fails_at_once_and_blocks_nobody<R: Runtime>(rt: R) {
    for mode in MODES {
        let sem = sem(2, mode);
        let held = sem.clone().try_acquire_owned().unwrap();
        let mut big = Box::pin(sem.acquire_many(3));
        let got = poll_once(&mut big)
            .await
            .map(|r| r.map(|p| p.num_permits()));
        assert_eq!(got, Some(Err(exceeds(3, 2))), "{mode:?}");
        assert_eq!(sem.available_permits(), 1, "{mode:?}: nothing taken");
        assert_eq!(
            sem.try_acquire_many(3).unwrap_err(),
            TryAcquireError::ExceedsTotal {
                requested: 3,
                total: 2
            },
            "{mode:?}"
        );
        let mut next = Box::pin(sem.clone().acquire_many_owned(2));
        assert!(poll_once(&mut next).await.is_none(), "{mode:?}");
        let releaser = {
            let rt2 = rt.clone();
            rt.spawn(async move {
                rt2.sleep(Duration::from_millis(1)).await;
                drop(held);
            })
        };
        let p = next.await.unwrap();
        releaser.await.unwrap();
        assert_eq!(p.num_permits(), 2);
        drop(p);
        assert_eq!(sem.available_permits(), 2, "{mode:?}");
    }
}

/// A waiter for 3 of 3 (partly granted in fair mode) and a waiter for 1
/// behind it; forgetting a held permit leaves 2 in all, so the first fails
/// at once, gives back its partial grant, and the one behind it is served.
async fn forgetting_permits_fails_waiters_that_no_longer_fit<R: Runtime>(rt: R) {
    for mode in MODES {
        let sem = sem(3, mode);
        let mut two = sem.try_acquire_many(2).unwrap();
        let one = sem.try_acquire().unwrap();
        let mut big = Box::pin(sem.acquire_many(3));
        let mut small = Box::pin(sem.acquire());
        assert!(poll_once(&mut big).await.is_none(), "{mode:?}");
        assert!(poll_once(&mut small).await.is_none(), "{mode:?}");
        drop(one);
        // Fair: the head holds that permit now; barging: it is free, but
        // the waiter for 1 waits behind the head all the same.
        let free = if mode == Fairness::Fair { 0 } else { 1 };
        assert_eq!(sem.available_permits(), free, "{mode:?}");
        assert!(poll_once(&mut small).await.is_none(), "{mode:?}");

        two.split(1).unwrap().forget();
        let got = poll_once(&mut big)
            .await
            .map(|r| r.map(|p| p.num_permits()));
        assert_eq!(got, Some(Err(exceeds(3, 2))), "{mode:?}");
        let p = poll_once(&mut small).await.expect("served").unwrap();
        assert_eq!(p.num_permits(), 1);
        drop((p, two));
        assert_eq!(sem.available_permits(), 2, "{mode:?}");
    }
    let _ = rt;
}

/// `forget_permits` (free permits) shrinks the total the same way: in
/// barging mode a waiter for 3 leaves a permit free, and forgetting it
/// fails the waiter.
async fn forgetting_free_permits_fails_a_waiter_that_no_longer_fits<R: Runtime>(rt: R) {
    let sem = sem(3, Fairness::Barging);
    let two = sem.try_acquire_many(2).unwrap();
    let mut big = Box::pin(sem.acquire_many(3));
    let mut next = Box::pin(sem.acquire_many(2));
    assert!(poll_once(&mut big).await.is_none());
    assert!(poll_once(&mut next).await.is_none());
    assert_eq!(sem.forget_permits(1), 1);
    let got = poll_once(&mut big)
        .await
        .map(|r| r.map(|p| p.num_permits()));
    assert_eq!(got, Some(Err(exceeds(3, 2))));
    assert!(poll_once(&mut next).await.is_none(), "2 of 2 are held");
    drop(two);
    assert_eq!(
        poll_once(&mut next).await.unwrap().unwrap().num_permits(),
        2
    );
    let _ = rt;
}

/// The rule for permits added later: a request is measured against the
/// total when it would wait, so a refused request stays refused (ask
/// again), while a waiter that fits is served by the added permits. A
/// semaphore with no permits at all refuses every non-zero request.
async fn added_permits_serve_waiters_but_revive_no_refused_request<R: Runtime>(rt: R) {
    for mode in MODES {
        let sem = sem(0, mode);
        let got = poll_once(Box::pin(sem.acquire())).await;
        assert_eq!(
            got.map(|r| r.map(|p| p.num_permits())),
            Some(Err(exceeds(1, 0)))
        );
        sem.add_permits(1).unwrap();
        let held = sem.try_acquire().unwrap();
        let mut two = Box::pin(sem.acquire_many(2));
        let got = poll_once(&mut two)
            .await
            .map(|r| r.map(|p| p.num_permits()));
        assert_eq!(got, Some(Err(exceeds(2, 1))), "{mode:?}");
        sem.add_permits(1).unwrap();
        // Now 2 exist: the same request waits, and is served by an add.
        let mut again = Box::pin(sem.acquire_many(2));
        assert!(poll_once(&mut again).await.is_none(), "{mode:?}");
        sem.add_permits(1).unwrap();
        drop(held);
        let p = poll_once(&mut again).await.unwrap().unwrap();
        assert_eq!(p.num_permits(), 2);
        assert_eq!(sem.available_permits(), 1, "{mode:?}");
        drop(p);
        assert_eq!(sem.available_permits(), 3, "{mode:?}");
    }
    let _ = rt;
}

/// More waiters fail at once than one round of wake-ups holds (32): every
/// one of them fails and is woken, and the waiter behind them is served.
async fn a_shrink_fails_every_waiter_over_the_total_however_many<R: Runtime>(rt: R) {
    for mode in MODES {
        let sem = sem(3, mode);
        let mut held = sem.try_acquire_many(3).unwrap();
        let mut big: Vec<_> = (0..40).map(|_| Box::pin(sem.acquire_many(3))).collect();
        for f in &mut big {
            assert!(poll_once(f).await.is_none(), "{mode:?}");
        }
        let mut small = Box::pin(sem.acquire_many(2));
        assert!(poll_once(&mut small).await.is_none(), "{mode:?}");
        // Fair: the first waiter for 3 is partly granted the released one.
        drop(held.split(1).unwrap());
        held.split(1).unwrap().forget();
        for f in &mut big {
            let got = poll_once(f).await.map(|r| r.map(|p| p.num_permits()));
            assert_eq!(got, Some(Err(exceeds(3, 2))), "{mode:?}");
        }
        assert!(poll_once(&mut small).await.is_none(), "1 of 2 is held");
        drop(held);
        assert_eq!(
            poll_once(&mut small).await.unwrap().unwrap().num_permits(),
            2
        );
        assert_eq!(sem.available_permits(), 2, "{mode:?}");
    }
    let _ = rt;
}

on_every_runtime!(
    a_shrink_fails_every_waiter_over_the_total_however_many,
    impossible_request_fails_at_once_and_blocks_nobody,
    forgetting_permits_fails_waiters_that_no_longer_fit,
    forgetting_free_permits_fails_a_waiter_that_no_longer_fits,
    added_permits_serve_waiters_but_revive_no_refused_request,
);
