//! A breaker listener that panics while a panicking call trips the breaker
//! (issue 10, finding 4).
//!
//! The call's panic unwinds through the call permit's `Drop`, which records
//! the failure, opens the breaker and reports the transition. A listener
//! that panics there is a panic during unwinding: before the fix the process
//! aborted. The scenario runs on every runtime as a spawned task (the call
//! panics on whatever thread the executor picked), and once more in a child
//! process, where an abort is a failed exit status instead of a dead test
//! binary.

mod common;

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_lite::FutureExt;
use weir::Runtime;
use weir::rt::JoinError;
use weir::{
    CircuitBreaker,
    resilience::{BreakerError, State, Transition},
};

/// Builds a breaker whose listener panics on every transition.
fn panicking_breaker<R: Runtime>(rt: &R) -> CircuitBreaker<R> {
    CircuitBreaker::builder()
        .consecutive_failures(1)
        .open_for(Duration::from_secs(3600))
        .on_transition(|t: &Transition| panic!("listener panics on {:?}", t.to))
        .build(rt.clone())
        .unwrap()
}

async fn panicking_listener_and_call<R: Runtime>(rt: R) {
    let breaker = panicking_breaker(&rt);

    // The call panics; unwinding drops its permit, which trips the breaker
    // and runs the listener. The task's own panic is what comes back.
    let b = breaker.clone();
    let task = rt.spawn(async move {
        b.call(|| async { panic!("the call panics") as Result<(), ()> })
            .await
    });
    match task.await {
        Err(JoinError::Panicked(p)) => {
            assert_eq!(p.downcast_ref::<&str>(), Some(&"the call panics"));
        }
        other => panic!("expected the call's panic, got {other:?}"),
    }
    assert_eq!(breaker.state(), State::Open, "the failure was recorded");
    assert_eq!(breaker.stats().listener_panics, 1);

    // A listener panic outside unwinding is contained too: the caller gets
    // the breaker's answer, not the listener's panic.
    breaker.reset();
    assert_eq!(breaker.stats().listener_panics, 2, "Open -> Closed");
    let out = AssertUnwindSafe(breaker.call(|| async { Err::<(), _>("down") }))
        .catch_unwind()
        .await;
    assert_eq!(out.ok(), Some(Err(BreakerError::Inner("down"))));
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(breaker.stats().listener_panics, 3);
}

on_every_runtime!(panicking_listener_and_call);

/// The same tests, in a child process: an abort is reported as this test's
/// failure rather than killing the whole test binary.
#[test]
fn no_abort_in_a_child_process() {
    let exe = std::env::current_exe().expect("test binary path");
    let out = std::process::Command::new(exe)
        .args(["panicking_listener_and_call::", "--test-threads=1"])
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "child exited with {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    let runtimes = 1 // virtual time
        + usize::from(cfg!(feature = "smol"))
        + 2 * usize::from(cfg!(feature = "tokio"))
        + usize::from(cfg!(feature = "async-std"));
    assert!(
        stdout.contains(&format!("test result: ok. {runtimes} passed")),
        "every runtime ran in the child:\n{stdout}"
    );
}
