//! Model check of the semaphore for the fuzz target `semaphore` and the
//! proptest suite: a byte string is decoded into a sequence of operations
//! (acquire and poll by hand, try_acquire, release, cancel, add, forget,
//! close), run against the real semaphore and a sequential model, and after
//! every step the free permits, every future's readiness and every owed
//! wake-up must agree. The model states the total rule plainly: a request
//! above the permits in existence fails instead of waiting, and forgetting
//! permits fails the waiters the smaller total no longer covers.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use crate::{
    Semaphore,
    sync::{Acquire, AcquireError, Fairness, Permit, TryAcquireError},
};

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// The sequential model: free permits and the FIFO of waiters.
struct Model {
    fair: bool,
    closed: bool,
    free: usize,
    total: usize,
    /// (waiter id, need, granted so far)
    queue: VecDeque<(usize, usize, usize)>,
}

/// What the model says a waiter's future resolves to, once it does.
type Outcome = Option<Result<usize, AcquireError>>;

impl Model {
    /// The total shrank: waiters asking for more fail, handing back what
    /// they were partly granted, and the rest are served.
    fn shrink(&mut self, by: usize, done: &mut [Outcome]) {
        self.total -= by;
        let total = self.total;
        let free = &mut self.free;
        self.queue.retain(|&(id, need, granted)| {
            if need <= total {
                return true;
            }
            *free += granted;
            done[id] = Some(Err(AcquireError::ExceedsTotal {
                requested: need,
                total,
            }));
            false
        });
        self.grant(done);
    }

    /// Serves the queue head-first; returns the ids it completed.
    fn grant(&mut self, done: &mut [Outcome]) {
        while let Some(&mut (id, need, ref mut granted)) = self.queue.front_mut() {
            let rem = need - *granted;
            if self.free >= rem {
                self.free -= rem;
                done[id] = Some(Ok(need));
                self.queue.pop_front();
                continue;
            }
            if self.fair {
                *granted += self.free;
                self.free = 0;
            }
            break;
        }
    }
}

struct Waiting<'a> {
    fut: Option<Pin<Box<Acquire<'a>>>>,
    flag: Arc<Flag>,
    /// Returned `Pending` at least once: a waker is stored and owed a wake.
    parked: bool,
}

/// Runs the operations encoded in `data` against [`Semaphore`] and the
/// model; panics on the first disagreement. Any byte string decodes.
pub fn semaphore(data: &[u8]) {
    let mut bytes = data.iter().copied();
    let cfg = bytes.next().unwrap_or(0);
    let fair = cfg & 1 == 0;
    let spin = cfg & 2 != 0;
    let initial = usize::from(cfg >> 2) % 5;
    let sem = Semaphore::builder(initial)
        .fairness(if fair {
            Fairness::Fair
        } else {
            Fairness::Barging
        })
        .spin(spin)
        .build()
        .expect("valid config");
    let mut model = Model {
        fair,
        closed: false,
        free: initial,
        total: initial,
        queue: VecDeque::new(),
    };
    let mut waiting: Vec<Waiting<'_>> = Vec::new();
    let mut done: Vec<Outcome> = Vec::new();
    let mut held: Vec<Permit<'_>> = Vec::new();

    while let Some(op) = bytes.next() {
        let arg = bytes.next().unwrap_or(0);
        let amount = |arg: u8| {
            if arg == 255 {
                usize::MAX
            } else {
                usize::from(arg % 5)
            }
        };
        match op % 9 {
            // Start an acquire and poll it once.
            0 | 1 => {
                let n = amount(arg);
                let id = waiting.len();
                done.push(None);
                let expect_now: Outcome = if n > Semaphore::MAX_PERMITS {
                    Some(Err(AcquireError::TooLarge { requested: n }))
                } else if model.closed {
                    Some(Err(AcquireError::Closed))
                } else if n == 0 {
                    Some(Ok(0))
                } else if (model.fair && !model.queue.is_empty()) || model.free < n {
                    if n > model.total {
                        Some(Err(AcquireError::ExceedsTotal {
                            requested: n,
                            total: model.total,
                        }))
                    } else {
                        model.queue.push_back((id, n, 0));
                        model.grant(&mut done);
                        done[id].take()
                    }
                } else {
                    model.free -= n;
                    Some(Ok(n))
                };
                let flag = Arc::new(Flag(AtomicBool::new(false)));
                let mut w = Waiting {
                    fut: Some(Box::pin(sem.acquire_many(n))),
                    flag,
                    parked: false,
                };
                poll_one(&mut w, expect_now, &mut held);
                waiting.push(w);
            }
            // Poll a pending acquire again.
            2 => {
                if let Some(id) = pick_pending(&waiting, arg) {
                    let expect = done[id].take();
                    poll_one(&mut waiting[id], expect, &mut held);
                }
            }
            // Cancel a pending acquire (granted or not).
            3 => {
                if let Some(id) = pick_pending(&waiting, arg) {
                    match done[id].take() {
                        Some(Ok(n)) => model.free += n,
                        Some(Err(_)) => {}
                        None => {
                            let pos = model.queue.iter().position(|w| w.0 == id).expect("queued");
                            let (_, _, granted) = model.queue.remove(pos).expect("queued");
                            model.free += granted;
                        }
                    }
                    model.grant(&mut done);
                    waiting[id].fut = None;
                }
            }
            4 => {
                let n = amount(arg);
                let expect = if n > Semaphore::MAX_PERMITS {
                    Err(TryAcquireError::TooLarge { requested: n })
                } else if model.closed {
                    Err(TryAcquireError::Closed)
                } else if n == 0 {
                    Ok(())
                } else if n > model.total {
                    Err(TryAcquireError::ExceedsTotal {
                        requested: n,
                        total: model.total,
                    })
                } else if (model.fair && !model.queue.is_empty()) || model.free < n {
                    Err(TryAcquireError::NoPermits)
                } else {
                    model.free -= n;
                    Ok(())
                };
                let got = sem.try_acquire_many(n);
                assert_eq!(
                    got.as_ref().map(|_| ()).map_err(|e| *e),
                    expect,
                    "try_acquire_many({n})"
                );
                if let Ok(p) = got {
                    held.push(p);
                }
            }
            // Release a held permit.
            5 => {
                if !held.is_empty() {
                    let p = held.swap_remove(usize::from(arg) % held.len());
                    model.free += p.num_permits();
                    drop(p);
                    model.grant(&mut done);
                }
            }
            6 => {
                let n = usize::from(arg % 4);
                model.total += n;
                model.free += n;
                sem.add_permits(n).expect("far below the maximum");
                model.grant(&mut done);
            }
            7 => {
                if arg & 1 == 0 {
                    let n = usize::from(arg >> 1) % 4;
                    let expect = n.min(model.free);
                    model.free -= expect;
                    model.shrink(expect, &mut done);
                    assert_eq!(sem.forget_permits(n), expect, "forget_permits({n})");
                } else if !held.is_empty() {
                    let p = held.swap_remove(usize::from(arg) % held.len());
                    model.shrink(p.num_permits(), &mut done);
                    p.forget();
                }
            }
            _ => {
                model.closed = true;
                for (id, _, granted) in model.queue.drain(..) {
                    model.free += granted;
                    done[id] = Some(Err(AcquireError::Closed));
                }
                sem.close();
            }
        }
        assert_eq!(sem.available_permits(), model.free, "available permits");
        assert_eq!(sem.is_closed(), model.closed);
        // Every finished waiter that had parked was woken: no lost wake-up.
        for (id, w) in waiting.iter().enumerate() {
            if w.fut.is_some() && w.parked && done[id].is_some() {
                assert!(
                    w.flag.0.load(Ordering::SeqCst),
                    "waiter {id} finished but not woken"
                );
            }
        }
    }
    // Nothing lost or created: drop everything, all permits come back.
    drop(waiting);
    drop(held);
    assert_eq!(
        sem.available_permits(),
        model.total,
        "permits after dropping all"
    );
}

fn pick_pending(waiting: &[Waiting<'_>], arg: u8) -> Option<usize> {
    let pending: Vec<usize> = (0..waiting.len())
        .filter(|&i| waiting[i].fut.is_some())
        .collect();
    (!pending.is_empty()).then(|| pending[usize::from(arg) % pending.len()])
}

fn poll_one<'a>(w: &mut Waiting<'a>, expect: Outcome, held: &mut Vec<Permit<'a>>) {
    let fut = w.fut.as_mut().expect("pending future");
    let waker = Waker::from(w.flag.clone());
    w.flag.0.store(false, Ordering::SeqCst);
    let got = fut.as_mut().poll(&mut Context::from_waker(&waker));
    match (got, expect) {
        (Poll::Pending, None) => w.parked = true,
        (Poll::Ready(Ok(p)), Some(Ok(n))) => {
            assert_eq!(p.num_permits(), n);
            held.push(p);
            w.fut = None;
        }
        (Poll::Ready(Err(e)), Some(Err(x))) => {
            assert_eq!(e, x);
            w.fut = None;
        }
        (got, expect) => panic!(
            "acquire: got {:?}, model expects {expect:?}",
            got.map(|r| r.map(|p| p.num_permits()))
        ),
    }
}
