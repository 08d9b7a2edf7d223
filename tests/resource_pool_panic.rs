//! A manager that panics never costs the pool a slot (issue 10, item 3): a
//! `create` or `recycle` that panics, in a caller's `get` or in the
//! background task, gives its slot back on unwind, is counted and keeps its
//! message, and the pool goes on serving.
//!
//! `acquire_timeout` in these tests is only a failure detector: with a
//! leaked slot, `get` would wait for ever; with it, the test fails with
//! `Timeout` instead of hanging.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use weir::Runtime;
use weir::{
    ResourcePool,
    pool::{Hook, Manager, PoolError},
};

/// Long enough never to fire when the pool is right.
const DETECTOR: Duration = Duration::from_secs(30);

/// Creates numbered resources; the first `panic_creates` creates and the
/// first `panic_recycles` recycles panic. `entered` hears of every create.
#[derive(Clone)]
struct Flaky {
    creates: Arc<AtomicUsize>,
    panic_creates: Arc<AtomicUsize>,
    panic_recycles: Arc<AtomicUsize>,
    entered: async_channel::Sender<usize>,
}

fn flaky(panic_creates: usize) -> (Flaky, async_channel::Receiver<usize>) {
    let (tx, rx) = async_channel::unbounded();
    let m = Flaky {
        creates: Arc::default(),
        panic_creates: Arc::new(AtomicUsize::new(panic_creates)),
        panic_recycles: Arc::default(),
        entered: tx,
    };
    (m, rx)
}

fn take_one(n: &AtomicUsize) -> bool {
    n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

impl Manager for Flaky {
    type Resource = usize;
    type Error = &'static str;

    async fn create(&self) -> Result<usize, &'static str> {
        let n = self.creates.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = self.entered.try_send(n);
        if take_one(&self.panic_creates) {
            panic!("create {n} exploded");
        }
        Ok(n)
    }

    async fn recycle(&self, _: &mut usize) -> Result<(), &'static str> {
        if take_one(&self.panic_recycles) {
            panic!("recycle exploded");
        }
        Ok(())
    }
}

/// The background task's panicking create gives its slot back: a caller
/// is served instead of timing out. Before the fix the slot leaked and
/// this `get` failed with `Timeout`.
async fn a_panicking_background_create_frees_its_slot<R: Runtime>(rt: R) {
    let (m, entered) = flaky(1);
    let pool = ResourcePool::builder(m.clone())
        .max_size(1)
        .min_idle(1)
        .acquire_timeout(DETECTOR)
        .build(rt)
        .unwrap();
    // The background task made the first (panicking) call.
    assert_eq!(entered.recv().await, Ok(1));
    let res = pool.get().await.expect("the slot came back");
    assert_eq!(*res, 2);
    let s = pool.stats();
    assert_eq!((s.size, s.in_use, s.panics, s.create_errors), (1, 1, 1, 1));
    let p = pool.last_panic().expect("the panic is kept");
    assert_eq!(
        (p.hook(), p.message()),
        (Hook::Create, Some("create 1 exploded"))
    );
    assert!(p.in_background());
}

/// A caller whose own create panics gets a typed error and the slot comes
/// back. Before the fix the panic unwound through `get` into the caller.
async fn a_panicking_create_in_get_is_a_typed_error<R: Runtime>(rt: R) {
    let (m, _entered) = flaky(1);
    let pool = ResourcePool::builder(m)
        .max_size(1)
        .acquire_timeout(DETECTOR)
        .build(rt)
        .unwrap();
    match pool.get().await {
        Err(PoolError::Panicked(p)) => {
            assert_eq!(p.hook(), Hook::Create);
            assert_eq!(p.message(), Some("create 1 exploded"));
            assert!(!p.in_background());
        }
        other => panic!("expected Panicked, got {other:?}"),
    }
    let s = pool.stats();
    assert_eq!((s.size, s.panics, s.create_errors), (0, 1, 1));
    assert_eq!(*pool.get().await.expect("the slot came back"), 2);
    assert_eq!(pool.stats().size, 1);
}

/// A panicking recycle discards the resource it was checking (its state is
/// unknown) and the caller gets a new one in the same slot. Before the fix
/// the panic unwound through `get`.
async fn a_panicking_recycle_discards_and_replaces<R: Runtime>(rt: R) {
    let (m, _entered) = flaky(0);
    let pool = ResourcePool::builder(m.clone())
        .max_size(1)
        .acquire_timeout(DETECTOR)
        .build(rt)
        .unwrap();
    drop(pool.get().await.unwrap());
    m.panic_recycles.store(1, Ordering::SeqCst);
    assert_eq!(*pool.get().await.expect("a fresh resource"), 2);
    let s = pool.stats();
    assert_eq!((s.size, s.idle, s.discarded, s.panics), (1, 1, 1, 1));
    let p = pool.last_panic().expect("the panic is kept");
    assert_eq!(
        (p.hook(), p.message()),
        (Hook::Recycle, Some("recycle exploded"))
    );
}

on_every_runtime!(
    a_panicking_background_create_frees_its_slot,
    a_panicking_create_in_get_is_a_typed_error,
    a_panicking_recycle_discards_and_replaces,
);

/// The background task survives a create that keeps panicking: it tries
/// again after 1, 2, 4, ... s (doubling, at most 32 s) on the runtime's
/// clock, and once a create succeeds `min_idle` is met. Before the fix the
/// first panic ended the task, so the second create never came (the
/// virtual runtime reported a deadlock).
#[test]
fn a_panicking_background_create_is_retried_with_backoff() {
    common::virtual_time(|rt| async move {
        let (m, entered) = flaky(7);
        let pool = ResourcePool::builder(m)
            .max_size(2)
            .min_idle(1)
            .build(rt.clone())
            .unwrap();
        let mut at = Vec::new();
        for n in 1..=8 {
            assert_eq!(entered.recv().await, Ok(n));
            at.push(rt.elapsed().as_secs());
        }
        assert_eq!(at, [0, 1, 3, 7, 15, 31, 63, 95]);
        rt.idle().await;
        let s = pool.stats();
        assert_eq!((s.size, s.idle, s.panics, s.create_errors), (1, 1, 7, 7));
        assert_eq!(
            pool.last_panic().unwrap().message(),
            Some("create 7 exploded")
        );
    });
}

/// A `detach` hook that panics still frees the slot before its panic goes
/// on to the caller of `Pooled::detach`. Before the fix the slot leaked
/// and the next `get` of this one-slot pool timed out.
async fn a_panicking_detach_hook_frees_the_slot<R: Runtime>(rt: R) {
    #[derive(Clone)]
    struct BadDetach;
    impl Manager for BadDetach {
        type Resource = u8;
        type Error = ();
        async fn create(&self) -> Result<u8, ()> {
            Ok(1)
        }
        async fn recycle(&self, _: &mut u8) -> Result<(), ()> {
            Ok(())
        }
        fn detach(&self, _: &mut u8) {
            panic!("detach exploded");
        }
    }
    let pool = ResourcePool::builder(BadDetach)
        .max_size(1)
        .acquire_timeout(DETECTOR)
        .build(rt)
        .unwrap();
    let res = pool.get().await.unwrap();
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| res.detach()));
    assert!(out.is_err(), "the hook's panic reaches the caller");
    let s = pool.stats();
    assert_eq!((s.size, s.in_use, s.panics), (0, 0, 1));
    assert_eq!(pool.last_panic().unwrap().hook(), Hook::Detach);
    assert!(pool.get().await.is_ok(), "the slot came back");
}

on_every_runtime!(a_panicking_detach_hook_frees_the_slot);

/// A kick (here: a caller's failed create freeing its slot below
/// `min_idle`) does not cut the background task's backoff short: after its
/// create panicked at 0 s, its next try is at 1 s, not at the kick.
#[test]
fn a_kick_does_not_cut_the_create_backoff_short() {
    common::virtual_time(|rt| async move {
        let (m, entered) = flaky(2);
        let pool = ResourcePool::builder(m)
            .max_size(2)
            .min_idle(1)
            .build(rt.clone())
            .unwrap();
        assert_eq!(entered.recv().await, Ok(1));
        rt.sleep(Duration::from_millis(500)).await;
        assert!(matches!(pool.get().await, Err(PoolError::Panicked(_))));
        assert_eq!(entered.try_recv(), Ok(2));
        assert_eq!(entered.recv().await, Ok(3));
        assert_eq!(rt.elapsed(), Duration::from_secs(1));
        rt.idle().await;
        assert_eq!((pool.stats().idle, pool.stats().panics), (1, 2));
    });
}

/// A resource whose own `Drop` panics as it expires does not end the
/// background task: the same round's create still comes, and so do the
/// later rounds.
#[test]
fn a_resource_panicking_in_drop_does_not_end_maintenance() {
    struct Bomb(usize);
    impl Drop for Bomb {
        fn drop(&mut self) {
            if self.0 == 1 {
                panic!("bomb 1 went off");
            }
        }
    }
    struct Bombs(async_channel::Sender<usize>, AtomicUsize);
    impl Manager for Bombs {
        type Resource = Bomb;
        type Error = ();
        async fn create(&self) -> Result<Bomb, ()> {
            let n = self.1.fetch_add(1, Ordering::SeqCst) + 1;
            let _ = self.0.try_send(n);
            Ok(Bomb(n))
        }
        async fn recycle(&self, _: &mut Bomb) -> Result<(), ()> {
            Ok(())
        }
    }
    common::virtual_time(|rt| async move {
        let (tx, entered) = async_channel::unbounded();
        let pool = ResourcePool::builder(Bombs(tx, AtomicUsize::new(0)))
            .max_size(1)
            .min_idle(1)
            .idle_timeout(Duration::from_secs(10))
            .build(rt.clone())
            .unwrap();
        let mut at = Vec::new();
        for n in 1..=3 {
            assert_eq!(entered.recv().await, Ok(n));
            at.push(rt.elapsed().as_secs());
        }
        assert_eq!(at, [0, 10, 20]);
        let s = pool.stats();
        assert_eq!((s.size, s.discarded), (1, 2));
        pool.close();
    });
}
