//! The pool against a sequential model: random gets, returns, detaches,
//! cancelled waits and failing creates, polled by hand; after every step the
//! set of callers served, the gauges, and the number of live resources must
//! match the model, and never exceed `max_size`.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use proptest::prelude::*;
use weir::test_util::VirtualRuntime;
use weir::{
    ResourcePool,
    pool::{Manager, PoolError, Pooled},
};

#[derive(Clone, Default)]
struct Counting {
    alive: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    fail_next: Arc<AtomicBool>,
}

struct Res(Arc<AtomicUsize>);

impl Drop for Res {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Manager for Counting {
    type Resource = Res;
    type Error = ();

    async fn create(&self) -> Result<Res, ()> {
        if self.fail_next.swap(false, Ordering::SeqCst) {
            return Err(());
        }
        let n = self.alive.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(n, Ordering::SeqCst);
        Ok(Res(self.alive.clone()))
    }

    async fn recycle(&self, _: &mut Res) -> Result<(), ()> {
        Ok(())
    }
}

#[derive(Clone, Debug)]
enum Op {
    Get,
    Return(usize),
    Detach(usize),
    CancelWait(usize),
    FailNextCreate,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Get),
        3 => (0usize..8).prop_map(Op::Return),
        1 => (0usize..8).prop_map(Op::Detach),
        1 => (0usize..8).prop_map(Op::CancelWait),
        1 => Just(Op::FailNextCreate),
    ]
}

type GetFut<'a> = Pin<Box<dyn Future<Output = Result<Pooled<Counting>, PoolError<()>>> + 'a>>;

/// The model: how many exist, how many idle, who waits (by caller id).
#[derive(Debug, Default)]
struct Model {
    size: usize,
    idle: usize,
    waiting: VecDeque<usize>,
    fail_next: bool,
}

proptest! {
    #[test]
    fn pool_matches_the_model(max in 1usize..4, ops in proptest::collection::vec(op(), 0..80)) {
        let rt = VirtualRuntime::new();
        let m = Counting::default();
        let pool = ResourcePool::builder(m.clone()).max_size(max).build(rt).unwrap();
        let mut cx = Context::from_waker(Waker::noop());

        let mut model = Model::default();
        let mut held: Vec<(usize, Pooled<Counting>)> = Vec::new();
        let mut waiting: Vec<(usize, GetFut<'_>)> = Vec::new();
        let mut next_caller = 0;

        for op in ops {
            // What the model expects to happen to waiters after this op:
            // each freed resource or slot goes to the first waiter.
            let mut expect_served: Vec<(usize, bool)> = Vec::new(); // (caller, ok)
            match op {
                Op::Get => {
                    let id = next_caller;
                    next_caller += 1;
                    let mut fut: GetFut<'_> = Box::pin(pool.get());
                    let got = fut.as_mut().poll(&mut cx);
                    if model.waiting.is_empty() && model.idle > 0 {
                        model.idle -= 1;
                        let Poll::Ready(Ok(p)) = got else { panic!("expected an idle resource") };
                        held.push((id, p));
                    } else if model.waiting.is_empty() && model.size < max {
                        if std::mem::take(&mut model.fail_next) {
                            prop_assert!(matches!(got, Poll::Ready(Err(PoolError::Create(())))));
                        } else {
                            model.size += 1;
                            let Poll::Ready(Ok(p)) = got else { panic!("expected a new resource") };
                            held.push((id, p));
                        }
                    } else {
                        prop_assert!(got.is_pending());
                        model.waiting.push_back(id);
                        waiting.push((id, fut));
                    }
                }
                Op::Return(k) | Op::Detach(k) if k < held.len() => {
                    let (_, p) = held.remove(k);
                    if matches!(op, Op::Detach(_)) {
                        drop(p.detach());
                        model.size -= 1;
                        if let Some(w) = model.waiting.pop_front() {
                            // The waiter creates in the freed slot; if that
                            // fails, the slot passes to the next waiter.
                            if std::mem::take(&mut model.fail_next) {
                                expect_served.push((w, false));
                                if let Some(w2) = model.waiting.pop_front() {
                                    model.size += 1;
                                    expect_served.push((w2, true));
                                }
                            } else {
                                model.size += 1;
                                expect_served.push((w, true));
                            }
                        }
                    } else {
                        drop(p);
                        match model.waiting.pop_front() {
                            Some(w) => expect_served.push((w, true)),
                            None => model.idle += 1,
                        }
                    }
                }
                Op::CancelWait(k) if k < waiting.len() => {
                    let (id, fut) = waiting.remove(k);
                    drop(fut);
                    model.waiting.retain(|&w| w != id);
                }
                Op::FailNextCreate => {
                    m.fail_next.store(true, Ordering::SeqCst);
                    model.fail_next = true;
                }
                _ => {}
            }
            // Poll every waiter; exactly the expected ones resolve.
            let mut still = Vec::new();
            for (id, mut fut) in waiting.drain(..) {
                match fut.as_mut().poll(&mut cx) {
                    Poll::Pending => {
                        prop_assert!(!expect_served.iter().any(|&(w, _)| w == id), "caller {} not served", id);
                        still.push((id, fut));
                    }
                    Poll::Ready(r) => {
                        let exp = expect_served.iter().find(|&&(w, _)| w == id);
                        prop_assert!(exp.is_some(), "caller {} served out of turn", id);
                        match r {
                            Ok(p) => { prop_assert!(exp.unwrap().1); held.push((id, p)); }
                            Err(PoolError::Create(())) => prop_assert!(!exp.unwrap().1),
                            Err(_) => prop_assert!(false, "unexpected error"),
                        }
                    }
                }
            }
            waiting = still;

            let s = pool.stats();
            prop_assert_eq!(s.size, model.size);
            prop_assert_eq!(s.idle, model.idle);
            prop_assert_eq!(s.in_use, held.len());
            prop_assert_eq!(s.waiting, model.waiting.len());
            prop_assert_eq!(m.alive.load(Ordering::SeqCst), model.size);
            prop_assert!(m.peak.load(Ordering::SeqCst) <= max);
        }
        drop(waiting);
        drop(held);
        let s = pool.stats();
        prop_assert_eq!((s.in_use, s.waiting, s.idle), (0, 0, s.size));
    }
}
