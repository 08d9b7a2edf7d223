//! loom models of the pool's hand-off: a resource returned while a waiter
//! registers or gives up must end up exactly once in the pool, and the
//! gauges must add up, in every interleaving of the two locks.

use core::future::Future;
use core::marker::PhantomData;
use core::pin::{Pin, pin};
use core::task::{Context, Poll, Waker};
use std::time::Instant;

use loom::thread;

use super::{Manager, ResourcePool};
use crate::{
    Runtime,
    rt::{JoinError, JoinHandle},
};

/// A runtime that is never asked for anything in these models (no
/// timeouts, no background task).
#[derive(Clone, Debug)]
struct NoRuntime;

struct NoHandle<T>(PhantomData<fn() -> T>);

impl<T> Future for NoHandle<T> {
    type Output = Result<T, JoinError>;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(Err(JoinError::Cancelled))
    }
}

impl<T: Send + 'static> JoinHandle<T> for NoHandle<T> {
    fn abort(&mut self) {}
    fn detach(self) {}
}

impl Runtime for NoRuntime {
    type Sleep = core::future::Pending<()>;
    type JoinHandle<T: Send + 'static> = NoHandle<T>;

    fn now(&self) -> Instant {
        Instant::now()
    }
    fn sleep_until(&self, _: Instant) -> Self::Sleep {
        core::future::pending()
    }
    fn spawn<F>(&self, _: F) -> NoHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        NoHandle(PhantomData)
    }
    fn spawn_blocking<F, R>(&self, _: F) -> NoHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        NoHandle(PhantomData)
    }
}

struct Unit;

impl Manager for Unit {
    type Resource = ();
    type Error = ();
    async fn create(&self) -> Result<(), ()> {
        Ok(())
    }
    async fn recycle(&self, _: &mut ()) -> Result<(), ()> {
        Ok(())
    }
}

fn poll<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn loom_return_races_a_waiter_that_gives_up() {
    loom::model(|| {
        let pool = ResourcePool::builder(Unit)
            .max_size(1)
            .build(NoRuntime)
            .unwrap();
        let Poll::Ready(Ok(held)) = poll(pin!(pool.get())) else {
            panic!("the first get creates")
        };
        let returner = thread::spawn(move || drop(held));
        {
            // Registers as a waiter or finds the returned resource; either
            // way it is dropped, possibly after being granted.
            let mut get = pin!(pool.get());
            let _ = poll(get.as_mut());
        }
        returner.join().unwrap();
        let s = pool.stats();
        assert_eq!((s.size, s.idle, s.in_use, s.waiting), (1, 1, 0, 0));
    });
}

#[test]
fn loom_detach_passes_the_slot_to_a_waiter() {
    loom::model(|| {
        let pool = ResourcePool::builder(Unit)
            .max_size(1)
            .build(NoRuntime)
            .unwrap();
        let Poll::Ready(Ok(held)) = poll(pin!(pool.get())) else {
            panic!("the first get creates")
        };
        let detacher = thread::spawn(move || held.detach());
        let mut get = pin!(pool.get());
        let mut got = poll(get.as_mut());
        detacher.join().unwrap();
        if got.is_pending() {
            // Granted the slot by the detach: now it creates.
            got = poll(get.as_mut());
        }
        assert!(matches!(got, Poll::Ready(Ok(_))));
        drop(got);
        let s = pool.stats();
        assert_eq!((s.size, s.idle, s.in_use, s.waiting), (1, 1, 0, 0));
    });
}
