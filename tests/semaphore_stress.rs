//! Stress on every runtime: many tasks run acquire futures of weight 1..=3
//! against one semaphore, and a random share of them is cancelled (raced
//! against a short sleep, or dropped after one poll, possibly after being
//! partly granted). At the end every permit is back, exactly, and nothing
//! hung.
//!
//! Release builds run 1,000,000 acquire futures per fairness mode
//! (`cargo test --release --all-features --test semaphore_stress`); debug
//! builds, which `.ci/run` uses, run 250,000 per mode to stay within
//! seconds per runtime.

mod common;

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_lite::future;
use weir::Runtime;
use weir::{Semaphore, sync::Fairness};

const PERMITS: usize = 6;
const TASKS: usize = 200;
const FUTURES: usize = if cfg!(debug_assertions) {
    250_000
} else {
    1_000_000
};

/// What happened to the acquire futures, to prove each path ran.
#[derive(Default)]
struct Tally {
    granted: AtomicUsize,
    lost_race: AtomicUsize,
    dropped_after_poll: AtomicUsize,
}

async fn run<R: Runtime>(rt: R, fairness: Fairness) {
    let sem = Arc::new(
        Semaphore::builder(PERMITS)
            .fairness(fairness)
            .build()
            .unwrap(),
    );
    let in_use = Arc::new(AtomicUsize::new(0));
    let tally = Arc::new(Tally::default());
    let handles: Vec<_> = (0..TASKS)
        .map(|t| {
            let (sem, in_use, tally, rt2) =
                (sem.clone(), in_use.clone(), tally.clone(), rt.clone());
            rt.spawn(async move {
                let mut rng = fastrand::Rng::with_seed(t as u64);
                for _ in 0..FUTURES / TASKS {
                    let n = rng.usize(1..=3);
                    match rng.u8(0..10) {
                        // Raced against a short sleep: granted, or cancelled
                        // while waiting.
                        0..=2 => {
                            let sleep = rt2.sleep(Duration::from_micros(rng.u64(1..50)));
                            let acq = async { Some(sem.acquire_many(n).await.unwrap()) };
                            match future::or(acq, async {
                                sleep.await;
                                None
                            })
                            .await
                            {
                                Some(p) => {
                                    tally.granted.fetch_add(1, Ordering::Relaxed);
                                    hold(&in_use, n, &mut rng).await;
                                    drop(p);
                                }
                                None => {
                                    tally.lost_race.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                        // Polled once, then dropped (granted or not).
                        3..=4 => {
                            let mut acq = pin!(sem.acquire_many(n));
                            if let Some(p) = future::poll_once(acq.as_mut()).await {
                                drop(p.unwrap());
                            }
                            tally.dropped_after_poll.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            let p = sem.acquire_many(n).await.unwrap();
                            tally.granted.fetch_add(1, Ordering::Relaxed);
                            hold(&in_use, n, &mut rng).await;
                            drop(p);
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("stress task");
    }
    assert_eq!(
        sem.available_permits(),
        PERMITS,
        "a permit was lost or created"
    );
    assert_eq!(in_use.load(Ordering::SeqCst), 0);
    let granted = tally.granted.load(Ordering::Relaxed);
    let raced = tally.lost_race.load(Ordering::Relaxed);
    let dropped = tally.dropped_after_poll.load(Ordering::Relaxed);
    assert_eq!(
        granted + raced + dropped,
        FUTURES / TASKS * TASKS,
        "every future accounted for"
    );
    assert!(
        granted > FUTURES / 2 && dropped > 0,
        "{granted} {raced} {dropped}"
    );
    // All permits can be taken at once: none is stuck with a dead waiter.
    assert!(sem.try_acquire_many(PERMITS).is_ok());
}

/// Checks the bound while holding `n` permits, maybe across a yield.
async fn hold(in_use: &AtomicUsize, n: usize, rng: &mut fastrand::Rng) {
    let now = in_use.fetch_add(n, Ordering::SeqCst) + n;
    assert!(now <= PERMITS, "{now} permits in use of {PERMITS}");
    if rng.bool() {
        future::yield_now().await;
    }
    in_use.fetch_sub(n, Ordering::SeqCst);
}

async fn stress_fair<R: Runtime>(rt: R) {
    run(rt, Fairness::Fair).await;
}

async fn stress_barging<R: Runtime>(rt: R) {
    run(rt, Fairness::Barging).await;
}

on_every_runtime!(stress_fair, stress_barging);
