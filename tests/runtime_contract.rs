//! The Runtime contract, checked on every runtime by the same code.

mod common;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use weir::{Runtime, rt::JoinHandle};

async fn sleep_never_returns_early<R: Runtime>(rt: R) {
    for ms in [0u64, 1, 3, 7, 15] {
        let d = Duration::from_millis(ms);
        let t0 = rt.now();
        rt.sleep(d).await;
        let slept = rt.now() - t0;
        assert!(slept >= d, "sleep({d:?}) returned after {slept:?}");
    }
    let deadline = rt.now() + Duration::from_millis(4);
    rt.sleep_until(deadline).await;
    assert!(rt.now() >= deadline);
    // A deadline in the past completes at once instead of hanging.
    rt.sleep_until(deadline - Duration::from_millis(4)).await;
}

async fn spawn_join_returns_value<R: Runtime>(rt: R) {
    let handles: Vec<_> = (0..16u64)
        .map(|i| {
            let rt2 = rt.clone();
            rt.spawn(async move {
                rt2.sleep(Duration::from_millis(i % 3)).await;
                i * i
            })
        })
        .collect();
    let mut got = Vec::new();
    for h in handles {
        got.push(h.await.expect("task completes"));
    }
    assert_eq!(got, (0..16u64).map(|i| i * i).collect::<Vec<_>>());
}

async fn panic_is_reported_and_runtime_survives<R: Runtime>(rt: R) {
    let err = rt
        .spawn(async { panic!("boom in a task") })
        .await
        .expect_err("a panicking task must not report success");
    assert!(err.is_panic(), "{err:?}");
    assert_eq!(err.panic_message(), Some("boom in a task"));

    let err = rt
        .spawn_blocking(|| -> u8 { panic!("boom in a blocking job") })
        .await
        .expect_err("a panicking blocking job must not report success");
    assert_eq!(err.panic_message(), Some("boom in a blocking job"));

    // The runtime keeps working: tasks, blocking jobs and timers.
    assert_eq!(rt.spawn(async { 5 }).await.unwrap(), 5);
    assert_eq!(rt.spawn_blocking(|| 6).await.unwrap(), 6);
    rt.sleep(Duration::from_millis(1)).await;
}

async fn spawn_blocking_runs_off_the_async_threads<R: Runtime>(rt: R) {
    let rt2 = rt.clone();
    let checked = rt
        .spawn(async move {
            let async_thread = thread::current().id();
            let (tx, rx) = mpsc::channel::<u32>();
            // The blocking job waits for a value that only an async task can
            // send: were it run on the executor's thread, the sender could
            // never run (the bound only turns such a hang into a failure).
            let job = rt2.spawn_blocking(move || {
                let got = rx.recv_timeout(Duration::from_secs(20));
                (thread::current().id(), got)
            });
            rt2.spawn(async move { tx.send(42).unwrap() }).detach();
            let (blocking_thread, got) = job.await.unwrap();
            assert_eq!(got, Ok(42), "blocking job starved the executor");
            assert_ne!(blocking_thread, async_thread);
        })
        .await;
    checked.unwrap();
}

async fn abort_drops_the_future<R: Runtime>(rt: R) {
    let (guard, dropped) = async_channel::bounded::<()>(1);
    let (started_tx, started) = async_channel::bounded::<()>(1);
    let mut task = rt.spawn(async move {
        let _guard = guard;
        started_tx.send(()).await.unwrap();
        std::future::pending::<()>().await;
    });
    started.recv().await.unwrap();
    task.abort();
    let err = task.await.expect_err("an aborted task has no output");
    assert!(err.is_cancelled(), "{err:?}");
    // Every sender dropped <=> the task's future was dropped.
    assert!(dropped.recv().await.is_err());
}

async fn dropping_a_handle_detaches<R: Runtime>(rt: R) {
    let (tx, rx) = async_channel::bounded::<u8>(1);
    let rt2 = rt.clone();
    drop(rt.spawn(async move {
        rt2.sleep(Duration::from_millis(2)).await;
        tx.send(9).await.unwrap();
    }));
    assert_eq!(rx.recv().await.unwrap(), 9);
}

on_every_runtime!(
    sleep_never_returns_early,
    spawn_join_returns_value,
    panic_is_reported_and_runtime_survives,
    spawn_blocking_runs_off_the_async_threads,
    abort_drops_the_future,
    dropping_a_handle_detaches,
);
