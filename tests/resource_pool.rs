//! ResourcePool behaviour on the virtual clock: reuse, bounds, FIFO
//! waiters, failures, limits at their exact instants, configuration.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use weir::Runtime;
use weir::test_util::VirtualRuntime;
use weir::{
    ResourcePool,
    pool::{Manager, PoolError},
};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A resource that records when it is dropped.
struct Conn {
    id: u32,
    dropped_at: Arc<std::sync::Mutex<Vec<(u32, Duration)>>>,
    rt: VirtualRuntime,
    broken: bool,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.dropped_at
            .lock()
            .unwrap()
            .push((self.id, self.rt.elapsed()));
    }
}

#[derive(Clone)]
struct Conns {
    rt: VirtualRuntime,
    next: Arc<AtomicU32>,
    fail_creates: Arc<AtomicUsize>,
    recycles: Arc<AtomicUsize>,
    detached: Arc<AtomicUsize>,
    create_delay: Duration,
    dropped_at: Arc<std::sync::Mutex<Vec<(u32, Duration)>>>,
}

impl Conns {
    fn new(rt: &VirtualRuntime) -> Self {
        Conns {
            rt: rt.clone(),
            next: Arc::new(AtomicU32::new(1)),
            fail_creates: Arc::new(AtomicUsize::new(0)),
            recycles: Arc::new(AtomicUsize::new(0)),
            detached: Arc::new(AtomicUsize::new(0)),
            create_delay: Duration::ZERO,
            dropped_at: Default::default(),
        }
    }

    fn drops(&self) -> Vec<(u32, Duration)> {
        self.dropped_at.lock().unwrap().clone()
    }
}

#[derive(Debug, PartialEq)]
struct Refused;

impl Manager for Conns {
    type Resource = Conn;
    type Error = Refused;

    async fn create(&self) -> Result<Conn, Refused> {
        if !self.create_delay.is_zero() {
            self.rt.sleep(self.create_delay).await;
        }
        if self
            .fail_creates
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(Refused);
        }
        Ok(Conn {
            id: self.next.fetch_add(1, Ordering::SeqCst),
            dropped_at: self.dropped_at.clone(),
            rt: self.rt.clone(),
            broken: false,
        })
    }

    async fn recycle(&self, conn: &mut Conn) -> Result<(), Refused> {
        self.recycles.fetch_add(1, Ordering::SeqCst);
        if conn.broken { Err(Refused) } else { Ok(()) }
    }

    fn detach(&self, _conn: &mut Conn) {
        self.detached.fetch_add(1, Ordering::SeqCst);
    }
}

fn run<F: Future>(f: impl FnOnce(VirtualRuntime) -> F) -> F::Output {
    let rt = VirtualRuntime::new();
    rt.block_on(f(rt.clone()))
}

#[test]
fn a_returned_resource_is_recycled_and_reused() {
    run(|rt| async move {
        let m = Conns::new(&rt);
        let pool = ResourcePool::builder(m.clone())
            .max_size(4)
            .build(rt.clone())
            .unwrap();
        let a = pool.get().await.unwrap();
        assert_eq!(a.id, 1);
        drop(a);
        let again = pool.get().await.unwrap();
        assert_eq!(again.id, 1);
        assert_eq!(m.recycles.load(Ordering::SeqCst), 1);
        let s = pool.stats();
        assert_eq!(
            (s.size, s.idle, s.in_use, s.created, s.recycled),
            (1, 0, 1, 1, 1)
        );
    });
}

#[test]
fn test_on_acquire_off_skips_recycle() {
    run(|rt| async move {
        let m = Conns::new(&rt);
        let pool = ResourcePool::builder(m.clone())
            .test_on_acquire(false)
            .build(rt.clone())
            .unwrap();
        drop(pool.get().await.unwrap());
        drop(pool.get().await.unwrap());
        assert_eq!(m.recycles.load(Ordering::SeqCst), 0);
        assert_eq!(pool.stats().created, 1);
    });
}

#[test]
fn a_failed_recycle_discards_and_replaces() {
    run(|rt| async move {
        let m = Conns::new(&rt);
        let pool = ResourcePool::builder(m.clone())
            .max_size(1)
            .build(rt.clone())
            .unwrap();
        let mut a = pool.get().await.unwrap();
        a.broken = true;
        drop(a);
        let b = pool.get().await.unwrap();
        assert_eq!(b.id, 2);
        assert_eq!(m.drops(), [(1, Duration::ZERO)]);
        let s = pool.stats();
        assert_eq!((s.size, s.created, s.discarded, s.recycled), (1, 2, 1, 0));
    });
}

#[test]
fn waiters_are_served_in_arrival_order_within_max_size() {
    run(|rt| async move {
        let m = Conns::new(&rt);
        let pool = ResourcePool::builder(m.clone())
            .max_size(2)
            .build(rt.clone())
            .unwrap();
        let a = pool.get().await.unwrap();
        let b = pool.get().await.unwrap();
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let tasks: Vec<_> = (0..4)
            .map(|i| {
                let (pool, order, rt2) = (pool.clone(), order.clone(), rt.clone());
                rt.spawn(async move {
                    let c = pool.get().await.unwrap();
                    order.lock().unwrap().push((i, c.id));
                    rt2.sleep(secs(1)).await;
                })
            })
            .collect();
        rt.idle().await;
        assert_eq!(pool.stats().waiting, 4);
        drop(b);
        drop(a);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [(0, 2), (1, 1), (2, 2), (3, 1)]);
        let s = pool.stats();
        assert_eq!((s.size, s.created, s.waiting, s.idle), (2, 2, 0, 2));
    });
}

#[test]
fn acquire_timeout_fires_at_the_exact_instant() {
    run(|rt| async move {
        let pool = ResourcePool::builder(Conns::new(&rt))
            .max_size(1)
            .acquire_timeout(Duration::from_millis(2500))
            .build(rt.clone())
            .unwrap();
        let held = pool.get().await.unwrap();
        assert!(matches!(pool.get().await, Err(PoolError::Timeout)));
        assert_eq!(rt.elapsed(), Duration::from_millis(2500));
        let s = pool.stats();
        assert_eq!((s.timeouts, s.waiting, s.size), (1, 0, 1));
        drop(held);
        // The timed-out waiter left no trace: the next get is served at once.
        pool.get().await.unwrap();
        assert_eq!(rt.elapsed(), Duration::from_millis(2500));
    });
}

#[test]
fn acquire_timeout_covers_a_slow_create_and_frees_its_slot() {
    run(|rt| async move {
        let mut m = Conns::new(&rt);
        m.create_delay = secs(10);
        let pool = ResourcePool::builder(m)
            .max_size(1)
            .acquire_timeout(secs(3))
            .build(rt.clone())
            .unwrap();
        assert!(matches!(pool.get().await, Err(PoolError::Timeout)));
        assert_eq!(rt.elapsed(), secs(3));
        assert_eq!(pool.stats().size, 0);
    });
}

#[test]
fn a_failing_create_does_not_leak_a_slot() {
    run(|rt| async move {
        let m = Conns::new(&rt);
        m.fail_creates.store(2, Ordering::SeqCst);
        let pool = ResourcePool::builder(m.clone())
            .max_size(1)
            .build(rt.clone())
            .unwrap();
        assert!(matches!(pool.get().await, Err(PoolError::Create(Refused))));
        assert!(matches!(pool.get().await, Err(PoolError::Create(Refused))));
        let s = pool.stats();
        assert_eq!((s.size, s.create_errors), (0, 2));
        let c = pool.get().await.unwrap();
        assert_eq!(c.id, 1);
        assert_eq!(pool.stats().size, 1);
    });
}

#[test]
fn a_failed_create_passes_the_slot_to_the_next_waiter() {
    run(|rt| async move {
        let mut m = Conns::new(&rt);
        m.create_delay = secs(1);
        m.fail_creates.store(1, Ordering::SeqCst);
        let pool = ResourcePool::builder(m.clone())
            .max_size(1)
            .build(rt.clone())
            .unwrap();
        let first = rt.spawn({
            let pool = pool.clone();
            async move { pool.get().await.map(|c| c.id) }
        });
        let second = rt.spawn({
            let pool = pool.clone();
            async move { pool.get().await.map(|c| c.id) }
        });
        assert!(matches!(
            first.await.unwrap(),
            Err(PoolError::Create(Refused))
        ));
        assert_eq!(second.await.unwrap(), Ok(1));
        assert_eq!(rt.elapsed(), secs(2));
    });
}

#[test]
fn detach_frees_the_slot_and_calls_the_hook() {
    run(|rt| async move {
        let m = Conns::new(&rt);
        let pool = ResourcePool::builder(m.clone())
            .max_size(1)
            .build(rt.clone())
            .unwrap();
        let c = pool.get().await.unwrap();
        let waiter = rt.spawn({
            let pool = pool.clone();
            async move { pool.get().await.map(|c| c.id) }
        });
        rt.idle().await;
        let raw = c.detach();
        assert_eq!(raw.id, 1);
        assert_eq!(m.detached.load(Ordering::SeqCst), 1);
        assert_eq!(waiter.await.unwrap(), Ok(2));
        let s = pool.stats();
        assert_eq!((s.size, s.discarded), (1, 1));
    });
}

#[test]
fn idle_resources_leave_at_idle_timeout_exactly() {
    run(|rt| async move {
        let m = Conns::new(&rt);
        let pool = ResourcePool::builder(m.clone())
            .idle_timeout(secs(60))
            .build(rt.clone())
            .unwrap();
        let a = pool.get().await.unwrap();
        rt.sleep(secs(5)).await;
        drop(a); // idle from 5 s
        rt.sleep(secs(30)).await;
        let b = pool.get().await.unwrap(); // reused at 35 s
        assert_eq!(b.id, 1);
        drop(b); // idle from 35 s
        rt.sleep(secs(200)).await;
        assert_eq!(m.drops(), [(1, secs(95))]);
        let s = pool.stats();
        assert_eq!((s.size, s.idle, s.discarded), (0, 0, 1));
    });
}

#[test]
fn resources_leave_at_max_lifetime_exactly() {
    run(|rt| async move {
        let m = Conns::new(&rt);
        let pool = ResourcePool::builder(m.clone())
            .max_lifetime(secs(100))
            .build(rt.clone())
            .unwrap();
        let a = pool.get().await.unwrap();
        rt.sleep(secs(10)).await;
        let b = pool.get().await.unwrap(); // created at 10 s
        drop(a); // idle; dies at 100 s
        rt.sleep(secs(105)).await; // now 115 s
        assert_eq!(m.drops(), [(1, secs(100))]);
        drop(b); // returned after its lifetime (ended at 110 s): discarded now
        assert_eq!(m.drops(), [(1, secs(100)), (2, secs(115))]);
        let s = pool.stats();
        assert_eq!((s.size, s.discarded), (0, 2));
    });
}

#[test]
fn min_idle_is_kept_warm_in_the_background() {
    run(|rt| async move {
        let m = Conns::new(&rt);
        let pool = ResourcePool::builder(m.clone())
            .max_size(3)
            .min_idle(2)
            .build(rt.clone())
            .unwrap();
        rt.idle().await;
        assert_eq!((pool.stats().idle, pool.stats().size), (2, 2));
        let a = pool.get().await.unwrap();
        rt.idle().await;
        assert_eq!((pool.stats().idle, pool.stats().size), (2, 3));
        let b = pool.get().await.unwrap();
        let c = pool.get().await.unwrap();
        rt.idle().await;
        // At max_size: nothing more can be made.
        assert_eq!((pool.stats().idle, pool.stats().size), (0, 3));
        drop((a, b, c));
        assert_eq!(pool.stats().idle, 3);
    });
}

#[test]
fn close_fails_waiters_and_drops_idle() {
    run(|rt| async move {
        let m = Conns::new(&rt);
        let pool = ResourcePool::builder(m.clone())
            .max_size(2)
            .build(rt.clone())
            .unwrap();
        let a = pool.get().await.unwrap();
        drop(pool.get().await.unwrap()); // one idle
        let _b = pool.get().await.unwrap();
        let waiter = rt.spawn({
            let pool = pool.clone();
            async move { pool.get().await.map(|c| c.id) }
        });
        rt.idle().await;
        pool.close();
        assert!(matches!(waiter.await.unwrap(), Err(PoolError::Closed)));
        assert!(matches!(pool.get().await, Err(PoolError::Closed)));
        drop(a);
        let s = pool.stats();
        assert_eq!((s.size, s.idle, s.in_use), (1, 0, 1));
    });
}

#[test]
fn a_cancelled_wait_leaves_the_queue() {
    run(|rt| async move {
        let pool = ResourcePool::builder(Conns::new(&rt))
            .max_size(1)
            .build(rt.clone())
            .unwrap();
        let a = pool.get().await.unwrap();
        {
            let mut get = Box::pin(pool.get());
            assert!(futures_lite::future::poll_once(&mut get).await.is_none());
            assert_eq!(pool.stats().waiting, 1);
        }
        assert_eq!(pool.stats().waiting, 0);
        // Granted, then dropped before it looked: the resource is passed on.
        let mut get = Box::pin(pool.get());
        assert!(futures_lite::future::poll_once(&mut get).await.is_none());
        drop(a);
        drop(get);
        let s = pool.stats();
        assert_eq!((s.idle, s.in_use, s.size), (1, 0, 1));
    });
}

#[test]
fn a_panic_while_holding_returns_the_resource() {
    run(|rt| async move {
        let pool = ResourcePool::builder(Conns::new(&rt))
            .max_size(1)
            .build(rt.clone())
            .unwrap();
        let task = rt.spawn({
            let pool = pool.clone();
            async move {
                let _c = pool.get().await.unwrap();
                panic!("user code failed");
            }
        });
        assert!(task.await.unwrap_err().is_panic());
        assert_eq!(pool.stats().idle, 1);
        pool.get().await.unwrap();
    });
}

#[test]
fn bad_configuration_names_the_field() {
    let rt = VirtualRuntime::new();
    let m = || Conns::new(&rt);
    let field = |e: weir::ConfigError| (e.field(), e.rule().clone());
    use weir::Rule;
    assert_eq!(
        field(
            ResourcePool::builder(m())
                .max_size(0)
                .build(rt.clone())
                .unwrap_err()
        ),
        ("max_size", Rule::Zero)
    );
    assert_eq!(
        field(
            ResourcePool::builder(m())
                .max_size(2)
                .min_idle(3)
                .build(rt.clone())
                .unwrap_err()
        ),
        ("min_idle", Rule::Exceeds("max_size"))
    );
    for (name, b) in [
        (
            "idle_timeout",
            ResourcePool::builder(m()).idle_timeout(Duration::ZERO),
        ),
        (
            "max_lifetime",
            ResourcePool::builder(m()).max_lifetime(Duration::ZERO),
        ),
        (
            "acquire_timeout",
            ResourcePool::builder(m()).acquire_timeout(Duration::ZERO),
        ),
    ] {
        assert_eq!(field(b.build(rt.clone()).unwrap_err()), (name, Rule::Zero));
    }
}

#[test]
fn public_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<ResourcePool<Conns, VirtualRuntime>>();
    send_sync::<weir::pool::Pooled<Conns>>();
    send_sync::<PoolError<Refused>>();
}
