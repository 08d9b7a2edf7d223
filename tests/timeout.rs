//! Timeout drops the inner future at the deadline, exactly.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_lite::future::{block_on, poll_once};
use weir::Runtime;
use weir::test_util::VirtualRuntime;
use weir::{
    Timeout,
    resilience::{Elapsed, timeout, timeout_at},
};

const SEC: Duration = Duration::from_secs(1);

struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn expiry_drops_the_inner_future_at_the_deadline() {
    let rt = VirtualRuntime::new();
    rt.set_auto_advance(false);
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = DropFlag(dropped.clone());
    let r = rt.clone();
    let work = async move {
        let _held = flag;
        r.sleep(10 * SEC).await;
        "finished"
    };
    let fut = timeout(&rt, SEC, work);
    let mut fut = std::pin::pin!(fut);
    assert!(block_on(poll_once(&mut fut)).is_none());
    rt.block_on(rt.advance(SEC - Duration::from_nanos(1)));
    assert!(block_on(poll_once(&mut fut)).is_none(), "not yet");
    assert!(!dropped.load(Ordering::SeqCst));
    rt.block_on(rt.advance(Duration::from_nanos(1)));
    let out = block_on(poll_once(&mut fut)).expect("expired");
    assert_eq!(out, Err(Elapsed::new(rt.now())));
    assert!(
        dropped.load(Ordering::SeqCst),
        "dropped at expiry, before the TimeoutFuture is"
    );
    assert_eq!(rt.pending_timers(), 0, "the inner sleep went with it");
    assert_eq!(rt.elapsed(), SEC);
}

#[test]
fn completion_before_the_deadline_wins() {
    let rt = VirtualRuntime::new();
    let r = rt.clone();
    let out = rt.block_on(timeout(&rt, 2 * SEC, async move {
        r.sleep(SEC).await;
        5
    }));
    assert_eq!(out, Ok(5));
    assert_eq!(rt.elapsed(), SEC);
    assert_eq!(
        rt.pending_timers(),
        0,
        "the timer is dropped with the future"
    );
}

#[test]
fn ready_at_the_deadline_counts_as_done() {
    let rt = VirtualRuntime::new();
    let r = rt.clone();
    // Both the work and the timer are due at 1 s; the work's output wins.
    let out = rt.block_on(timeout(&rt, SEC, async move {
        r.sleep(SEC).await;
        1
    }));
    assert_eq!(out, Ok(1));
}

#[test]
fn deadline_in_the_past() {
    let rt = VirtualRuntime::new();
    rt.block_on(rt.advance(SEC));
    let past = rt.now() - SEC;
    assert_eq!(
        rt.block_on(timeout_at(&rt, past, async { 3 })),
        Ok(3),
        "a ready future still succeeds"
    );
    let out = rt.block_on(timeout_at(&rt, past, std::future::pending::<()>()));
    assert_eq!(out, Err(Elapsed::new(past)));
    assert_eq!(rt.elapsed(), SEC, "no time passed");
}

#[test]
fn policy_validates_and_reuses() {
    let rt = VirtualRuntime::new();
    assert_eq!(
        Timeout::new(rt.clone(), Duration::ZERO)
            .unwrap_err()
            .field(),
        "duration"
    );
    let t = Timeout::new(rt.clone(), SEC).unwrap();
    assert!(rt.block_on(t.call(rt.sleep(2 * SEC))).is_err());
    assert_eq!(rt.block_on(t.call(async { 1 })), Ok(1));
    assert_eq!(rt.elapsed(), SEC);
    assert!(Timeout::new(rt, Duration::MAX).is_ok(), "MAX means never");
}

async fn timeout_fires_on_every_runtime<R: Runtime>(rt: R) {
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = DropFlag(dropped.clone());
    let r = rt.clone();
    let t0 = rt.now();
    let out = timeout(&rt, Duration::from_millis(5), async move {
        let _held = flag;
        r.sleep(Duration::from_secs(30)).await;
    })
    .await;
    assert!(out.is_err());
    assert!(dropped.load(Ordering::SeqCst));
    let took = rt.now() - t0;
    assert!(
        took >= Duration::from_millis(5) && took < Duration::from_secs(30),
        "{took:?}"
    );
    assert_eq!(
        timeout(&rt, Duration::from_secs(30), async { 9 }).await,
        Ok(9)
    );
}

on_every_runtime!(timeout_fires_on_every_runtime);
