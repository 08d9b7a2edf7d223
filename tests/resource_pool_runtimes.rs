//! The resource pool on every runtime: many tasks sharing a small pool,
//! never more than `max_size` alive, every caller served, timeouts and
//! failing creates accounted for.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use weir::Runtime;
use weir::{
    ResourcePool,
    pool::{Manager, PoolError},
};

#[derive(Clone, Default)]
struct Counting {
    alive: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    creates: Arc<AtomicUsize>,
}

struct Res(Arc<AtomicUsize>);

impl Drop for Res {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Manager for Counting {
    type Resource = Res;
    type Error = &'static str;

    async fn create(&self) -> Result<Res, &'static str> {
        // Every third create fails.
        if self.creates.fetch_add(1, Ordering::SeqCst) % 3 == 2 {
            return Err("refused");
        }
        let n = self.alive.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(n, Ordering::SeqCst);
        Ok(Res(self.alive.clone()))
    }

    async fn recycle(&self, _: &mut Res) -> Result<(), &'static str> {
        Ok(())
    }
}

async fn many_tasks_share_a_small_pool<R: Runtime>(rt: R) {
    const MAX: usize = 3;
    let m = Counting::default();
    let pool = ResourcePool::builder(m.clone())
        .max_size(MAX)
        .build(rt.clone())
        .unwrap();
    let served = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..40u64)
        .map(|i| {
            let (pool, rt2, served) = (pool.clone(), rt.clone(), served.clone());
            rt.spawn(async move {
                for _ in 0..5 {
                    loop {
                        match pool.get().await {
                            Ok(_res) => {
                                rt2.sleep(Duration::from_millis(i % 2)).await;
                                served.fetch_add(1, Ordering::SeqCst);
                                break;
                            }
                            Err(PoolError::Create("refused")) => continue,
                            Err(e) => panic!("unexpected {e:?}"),
                        }
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(served.load(Ordering::SeqCst), 200);
    assert!(m.peak.load(Ordering::SeqCst) <= MAX);
    let s = pool.stats();
    assert_eq!((s.in_use, s.waiting), (0, 0));
    assert_eq!(s.size, s.idle);
    assert_eq!(m.alive.load(Ordering::SeqCst), s.size);
    assert_eq!(
        s.created + s.create_errors,
        m.creates.load(Ordering::SeqCst) as u64
    );
}

async fn timeouts_on_every_runtime<R: Runtime>(rt: R) {
    let pool = ResourcePool::builder(Counting::default())
        .max_size(1)
        .acquire_timeout(Duration::from_millis(20))
        .build(rt.clone())
        .unwrap();
    let held = pool.get().await.unwrap();
    let t0 = rt.now();
    assert!(matches!(pool.get().await, Err(PoolError::Timeout)));
    assert!(rt.now() - t0 >= Duration::from_millis(20));
    drop(held);
    assert!(pool.get().await.is_ok());
    let s = pool.stats();
    assert_eq!((s.timeouts, s.size, s.waiting), (1, 1, 0));
}

on_every_runtime!(many_tasks_share_a_small_pool, timeouts_on_every_runtime);
