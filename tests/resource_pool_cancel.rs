//! The drop rule of `ResourcePool::get`, on every runtime: the future is
//! cancelled when dropped, and whatever it was doing stops and gives its
//! slot back (a `create` or `recycle` in progress is dropped with it).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_lite::future;
use weir::Runtime;
use weir::{ResourcePool, pool::Manager};

/// Says so on a channel when dropped.
struct Dropped(async_channel::Sender<&'static str>, &'static str);

impl Drop for Dropped {
    fn drop(&mut self) {
        let _ = self.0.try_send(self.1);
    }
}

/// The first `stall_creates` creates and the first `stall_recycles`
/// recycles wait for ever (until dropped); the others return at once.
#[derive(Clone)]
struct Stalling {
    stall_creates: Arc<AtomicUsize>,
    stall_recycles: Arc<AtomicUsize>,
    created: Arc<AtomicUsize>,
    dropped: async_channel::Sender<&'static str>,
}

fn stalling() -> (Stalling, async_channel::Receiver<&'static str>) {
    let (tx, rx) = async_channel::unbounded();
    let m = Stalling {
        stall_creates: Arc::default(),
        stall_recycles: Arc::default(),
        created: Arc::default(),
        dropped: tx,
    };
    (m, rx)
}

fn take_one(n: &AtomicUsize) -> bool {
    n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

impl Manager for Stalling {
    type Resource = usize;
    type Error = ();

    async fn create(&self) -> Result<usize, ()> {
        if take_one(&self.stall_creates) {
            let _guard = Dropped(self.dropped.clone(), "create");
            future::pending::<()>().await;
        }
        Ok(self.created.fetch_add(1, Ordering::SeqCst) + 1)
    }

    async fn recycle(&self, _: &mut usize) -> Result<(), ()> {
        if take_one(&self.stall_recycles) {
            let _guard = Dropped(self.dropped.clone(), "recycle");
            future::pending::<()>().await;
        }
        Ok(())
    }
}

async fn dropping_get_mid_create_drops_the_create_and_frees_the_slot<R: Runtime>(rt: R) {
    let (m, dropped) = stalling();
    m.stall_creates.store(1, Ordering::SeqCst);
    let pool = ResourcePool::builder(m).max_size(1).build(rt).unwrap();
    let mut get = Box::pin(pool.get());
    assert!(future::poll_once(get.as_mut()).await.is_none());
    assert_eq!(pool.stats().size, 1, "the create holds the slot");
    drop(get);
    assert_eq!(dropped.try_recv(), Ok("create"), "the create was dropped");
    assert_eq!(pool.stats().size, 0);
    assert_eq!(*pool.get().await.unwrap(), 1);
}

async fn dropping_get_mid_recycle_discards_the_resource_and_frees_the_slot<R: Runtime>(rt: R) {
    let (m, dropped) = stalling();
    let pool = ResourcePool::builder(m.clone())
        .max_size(1)
        .build(rt)
        .unwrap();
    drop(pool.get().await.unwrap());
    m.stall_recycles.store(1, Ordering::SeqCst);
    let mut get = Box::pin(pool.get());
    assert!(future::poll_once(get.as_mut()).await.is_none());
    drop(get);
    assert_eq!(dropped.try_recv(), Ok("recycle"), "the recycle was dropped");
    let s = pool.stats();
    assert_eq!((s.size, s.idle, s.in_use, s.discarded), (0, 0, 0, 1));
    assert_eq!(*pool.get().await.unwrap(), 2, "a new one in the freed slot");
}

on_every_runtime!(
    dropping_get_mid_create_drops_the_create_and_frees_the_slot,
    dropping_get_mid_recycle_discards_the_resource_and_frees_the_slot,
);
