//! Cancellation tokens on every runtime: a cancel from another task ends a
//! wait through `cancellable` (typed `CancelledError`) and gives back what
//! the wait held; deadlines reach the children of a dropped scope.

mod common;

use std::time::Duration;

use weir::Runtime;
use weir::queue;
use weir::{CancellationToken, cancel::CancelledError};

/// A receive waits on an empty queue under a token deep in a chain whose
/// middle tokens were dropped; another task cancels the root; the receive
/// ends with `CancelledError` and no wake-up is kept from the next receiver.
async fn cancel_from_another_task_ends_a_cancellable_recv<R: Runtime>(rt: R) {
    let (tx, rx) = queue::bounded::<u32>(1).unwrap();
    let root = CancellationToken::new();
    let mut leaf = root.child_token();
    for _ in 0..1_000 {
        leaf = leaf.child_token();
    }
    let waiting = rt.spawn({
        let rx = rx.clone();
        async move { leaf.cancellable(rx.recv()).await }
    });
    let canceller = rt.spawn({
        let root = root.clone();
        async move { root.cancel() }
    });
    canceller.await.unwrap();
    assert_eq!(waiting.await.unwrap(), Err(CancelledError));
    // The cancelled wait took nothing and keeps nothing.
    tx.send(5).await.unwrap();
    assert_eq!(rx.recv().await, Ok(5));
}

/// Before the cancel the wait completes normally, with `Ok`.
async fn cancellable_passes_the_output_through<R: Runtime>(rt: R) {
    let (tx, rx) = queue::unbounded::<&str>();
    let token = CancellationToken::new();
    let waiting = rt.spawn({
        let token = token.clone();
        async move { token.cancellable(rx.recv()).await }
    });
    tx.send("hi").await.unwrap();
    assert_eq!(waiting.await.unwrap(), Ok(Ok("hi")));
    assert!(!token.is_cancelled());
}

/// A deadline set on a scope cancels the scope's children even after the
/// scope's own token is dropped (the timer holds a handle).
async fn a_deadline_reaches_the_children_of_a_dropped_scope<R: Runtime>(rt: R) {
    let root = CancellationToken::new();
    let scope = root.child_token();
    let call = scope.child_token();
    let start = rt.now();
    scope.cancel_at(&rt, start + Duration::from_millis(20));
    drop(scope);
    call.cancelled().await;
    assert!(rt.now() >= start + Duration::from_millis(20));
    assert!(!root.is_cancelled());
}

on_every_runtime!(
    cancel_from_another_task_ends_a_cancellable_recv,
    cancellable_passes_the_output_through,
    a_deadline_reaches_the_children_of_a_dropped_scope,
);

/// On the virtual clock, the deadline of a dropped scope fires at exactly
/// its instant.
#[test]
fn a_dropped_scope_deadline_fires_at_its_exact_instant() {
    let rt = weir::test_util::VirtualRuntime::new();
    let scope = CancellationToken::new();
    let call = scope.child_token();
    scope.cancel_at(&rt, rt.now() + Duration::from_secs(30));
    drop(scope);
    rt.block_on(call.cancelled());
    assert_eq!(rt.elapsed(), Duration::from_secs(30));
}
