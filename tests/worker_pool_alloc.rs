//! One allocation per job, on the submitting thread (after warm-up): the job cell, which
//! doubles as the result slot. Waiting (for the output, or for queue space
//! under the Wait policy) allocates nothing more.

use std::pin::pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};

use weir::WorkerPool;
use weir::test_util::alloc_count::{self, CountingAllocator};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::system();

#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    cv: Condvar,
}

impl Gate {
    fn wait(&self) {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.cv.wait(open).unwrap();
        }
    }
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.cv.notify_all();
    }
}

fn warm_pool() -> WorkerPool {
    let pool = WorkerPool::builder()
        .max_threads(1)
        .queue_capacity(2)
        .build()
        .unwrap();
    for _ in 0..4 {
        pool.run_blocking(|| ()).unwrap();
        futures_lite::future::block_on(pool.run(|| ())).unwrap();
    }
    pool.join();
    pool
}

#[test]
fn execute_allocates_the_job_only() {
    let pool = warm_pool();
    // The queue holds 2: some of these wait (blocking) for space, which
    // sets up this thread's parker once.
    for _ in 0..20 {
        pool.execute(|| ()).unwrap();
    }
    pool.join();
    for i in 0..20 {
        let (n, r) = alloc_count::count(|| pool.execute(|| ()));
        r.unwrap();
        assert_eq!(n.allocations, 1, "execute #{i}");
    }
}

#[test]
fn run_blocking_allocates_the_job_only() {
    let pool = warm_pool();
    for i in 0..10u64 {
        let (n, r) = alloc_count::count(|| pool.run_blocking(move || i * 2));
        assert_eq!(r.unwrap(), i * 2);
        assert_eq!(n.allocations, 1);
    }
}

#[test]
fn run_future_allocates_the_job_only_even_when_it_waits() {
    let pool = warm_pool();
    let gate = Arc::new(Gate::default());
    let g = gate.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    pool.execute(move || {
        tx.send(()).unwrap();
        g.wait();
    })
    .unwrap();
    rx.recv().unwrap();
    pool.execute(|| ()).unwrap();
    pool.execute(|| ()).unwrap(); // the queue (capacity 2) is full
    let mut cx = Context::from_waker(Waker::noop());

    let mut fut = pin!(pool.run(|| 7u32));
    // First poll: the queue is full, the caller waits for space.
    let (n, p) = alloc_count::count(|| fut.as_mut().poll(&mut cx));
    assert!(p.is_pending());
    assert_eq!(
        n.allocations, 1,
        "the job cell; the space listener lives in the future"
    );
    let (n, p) = alloc_count::count(|| fut.as_mut().poll(&mut cx));
    assert!(p.is_pending());
    assert_eq!(n.allocations, 0, "polling again while waiting");

    gate.open();
    // Busy-poll with a no-op waker: each poll must allocate nothing.
    loop {
        let (n, p) = alloc_count::count(|| fut.as_mut().poll(&mut cx));
        assert_eq!(n.allocations, 0);
        if let Poll::Ready(out) = p {
            assert_eq!(out.unwrap(), 7);
            break;
        }
        std::thread::yield_now();
    }
}
