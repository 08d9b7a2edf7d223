//! The virtual-time runtime: exact instants, deadline order, no real waiting.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weir::Runtime;
use weir::test_util::VirtualRuntime;

const S: fn(u64) -> Duration = Duration::from_secs;

/// Spawns sleepers of 30 s, 10 s and 20 s that log (label, virtual time at
/// wake-up).
fn spawn_sleepers(rt: &VirtualRuntime, log: &Arc<Mutex<Vec<(u64, Duration)>>>) {
    for secs in [30, 10, 20] {
        let (rt2, log) = (rt.clone(), log.clone());
        rt.spawn(async move {
            rt2.sleep(S(secs)).await;
            log.lock().unwrap().push((secs, rt2.elapsed()));
        });
    }
}

#[test]
fn sleepers_fire_in_deadline_order_at_exact_instants() {
    let real = Instant::now();
    let rt = VirtualRuntime::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    spawn_sleepers(&rt, &log);
    let rt2 = rt.clone();
    rt.block_on(async move { rt2.sleep(S(31)).await });
    assert_eq!(
        *log.lock().unwrap(),
        vec![(10, S(10)), (20, S(20)), (30, S(30))]
    );
    assert_eq!(rt.elapsed(), S(31));
    assert!(
        real.elapsed() < Duration::from_secs(1),
        "{:?}",
        real.elapsed()
    );
}

#[test]
fn manual_advance_fires_only_what_is_due() {
    let rt = VirtualRuntime::new();
    rt.set_auto_advance(false);
    let log = Arc::new(Mutex::new(Vec::new()));
    spawn_sleepers(&rt, &log);
    let (rt2, log2) = (rt.clone(), log.clone());
    rt.block_on(async move {
        rt2.advance(S(15)).await;
        assert_eq!(*log2.lock().unwrap(), vec![(10, S(10))]);
        assert_eq!(rt2.elapsed(), S(15));
        assert_eq!(rt2.pending_timers(), 2);
        rt2.advance(S(5)).await;
        assert_eq!(*log2.lock().unwrap(), vec![(10, S(10)), (20, S(20))]);
        rt2.advance(S(100)).await;
    });
    assert_eq!(log.lock().unwrap().len(), 3);
    assert_eq!(rt.elapsed(), S(120));
    assert_eq!(rt.pending_timers(), 0);
}

#[test]
fn equal_deadlines_fire_in_registration_order() {
    let rt = VirtualRuntime::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    for i in 0..5 {
        let (rt2, log) = (rt.clone(), log.clone());
        rt.spawn(async move {
            rt2.sleep(S(1)).await;
            log.lock().unwrap().push(i);
        });
    }
    let rt2 = rt.clone();
    rt.block_on(async move { rt2.sleep(S(2)).await });
    assert_eq!(*log.lock().unwrap(), vec![0, 1, 2, 3, 4]);
}

#[test]
fn dropped_sleep_does_not_stop_the_clock() {
    let rt = VirtualRuntime::new();
    let rt2 = rt.clone();
    rt.block_on(async move {
        let mut early = Box::pin(rt2.sleep(S(5)));
        // Poll once so it registers, then abandon it.
        futures_lite::future::poll_once(&mut early).await;
        assert_eq!(rt2.pending_timers(), 1);
        drop(early);
        assert_eq!(rt2.pending_timers(), 0);
        rt2.sleep(S(60)).await;
    });
    assert_eq!(rt.elapsed(), S(60));
}

#[test]
fn clock_stands_still_while_blocking_work_runs() {
    let rt = VirtualRuntime::new();
    let rt2 = rt.clone();
    let (seen_by_job, seen_after) = rt.block_on(async move {
        let sleeper = rt2.spawn({
            let rt3 = rt2.clone();
            async move { rt3.sleep(S(1)).await }
        });
        let rt3 = rt2.clone();
        let job = rt2.spawn_blocking(move || {
            // Work that takes real time while the only other task waits on
            // a timer: auto-advance must not jump the clock meanwhile.
            while rt3.pending_timers() == 0 {
                std::thread::yield_now();
            }
            std::thread::sleep(Duration::from_millis(20));
            rt3.elapsed()
        });
        let seen_by_job = job.await.unwrap();
        sleeper.await.unwrap();
        (seen_by_job, rt2.elapsed())
    });
    assert_eq!(seen_by_job, Duration::ZERO);
    assert_eq!(seen_after, S(1));
}

#[test]
fn sleep_duration_max_means_never_not_overflow() {
    let rt = VirtualRuntime::new();
    let rt2 = rt.clone();
    rt.block_on(async move {
        let forever = rt2.sleep(Duration::MAX);
        let quick = rt2.sleep(S(1));
        futures_lite::future::or(
            async {
                forever.await;
                false
            },
            async {
                quick.await;
                true
            },
        )
        .await
    });
    assert_eq!(rt.elapsed(), S(1));
}
