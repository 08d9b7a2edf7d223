//! Hedging on the virtual clock: when hedges start, who wins, what is
//! cancelled, and what the budget and the latency quantile change.

mod common;

use std::pin::pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_lite::future::poll_once;

use weir::Runtime;
use weir::test_util::VirtualRuntime;
use weir::{ConfigError, Rule};
use weir::{Error, Policy};
use weir::{Hedge, RetryBudget};

const MS: fn(u64) -> Duration = Duration::from_millis;

/// Sets its flag when dropped: proves an attempt was cancelled.
struct DropFlag(Arc<AtomicU32>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// An attempt factory: attempt `n` takes `latency(n)`; starts are logged
/// with their virtual instant and every dropped attempt is counted.
struct Attempts {
    rt: VirtualRuntime,
    started: Mutex<Vec<Duration>>,
    dropped: Arc<AtomicU32>,
}

impl Attempts {
    fn new(rt: &VirtualRuntime) -> Self {
        Attempts {
            rt: rt.clone(),
            started: Mutex::new(Vec::new()),
            dropped: Arc::new(AtomicU32::new(0)),
        }
    }

    fn op(
        &self,
        latency: fn(usize) -> Duration,
    ) -> impl Future<Output = Result<usize, &'static str>> + Send + use<> {
        let mut started = self.started.lock().unwrap();
        let n = started.len();
        started.push(self.rt.elapsed());
        let (rt, flag) = (self.rt.clone(), DropFlag(self.dropped.clone()));
        let d = latency(n);
        async move {
            let _flag = flag;
            rt.sleep(d).await;
            Ok(n)
        }
    }
}

#[test]
fn slow_attempt_is_hedged_and_the_loser_is_dropped_at_once() {
    let rt = VirtualRuntime::new();
    let a = Attempts::new(&rt);
    let hedge = Hedge::fixed(MS(20)).build().unwrap();
    let out = rt.block_on(hedge.run(&rt, || a.op(|n| if n == 0 { MS(100) } else { MS(10) })));
    assert_eq!(out, Ok(1));
    assert_eq!(*a.started.lock().unwrap(), vec![MS(0), MS(20)]);
    assert_eq!(rt.elapsed(), MS(30));
    // Both attempts are gone by the time the call returns: the winner
    // finished, the loser was cancelled then and there.
    assert_eq!(a.dropped.load(Ordering::SeqCst), 2);
}

#[test]
fn a_fast_call_is_never_hedged() {
    let rt = VirtualRuntime::new();
    let a = Attempts::new(&rt);
    let hedge = Hedge::fixed(MS(20)).max_hedges(3).build().unwrap();
    let out = rt.block_on(hedge.run(&rt, || a.op(|_| MS(19))));
    assert_eq!(out, Ok(0));
    assert_eq!(a.started.lock().unwrap().len(), 1);
}

#[test]
fn hedges_start_one_delay_apart_up_to_the_maximum() {
    let rt = VirtualRuntime::new();
    let a = Attempts::new(&rt);
    let hedge = Hedge::fixed(MS(20)).max_hedges(2).build().unwrap();
    let out = rt.block_on(hedge.run(&rt, || a.op(|_| MS(100))));
    assert_eq!(out, Ok(0), "the first attempt finishes first");
    assert_eq!(*a.started.lock().unwrap(), vec![MS(0), MS(20), MS(40)]);
    assert_eq!(rt.elapsed(), MS(100));
}

#[test]
fn failures_do_not_start_hedges_and_the_last_error_is_returned() {
    let rt = VirtualRuntime::new();
    let calls = AtomicU32::new(0);
    let hedge = Hedge::fixed(MS(20)).max_hedges(2).build().unwrap();
    let r2 = rt.clone();
    let out = rt.block_on(hedge.run(&rt, || {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        let rt = r2.clone();
        async move {
            rt.sleep(MS(5)).await;
            Err::<(), _>(if n == 0 { "first" } else { "later" })
        }
    }));
    assert_eq!(out, Err("first"));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(rt.elapsed(), MS(5));
}

#[test]
fn an_empty_budget_stops_hedging() {
    let rt = VirtualRuntime::new();
    let budget = Arc::new(
        RetryBudget::builder()
            .ratio(0.0)
            .min_per_second(1)
            .window(Duration::from_secs(1))
            .build(&rt)
            .unwrap(),
    );
    let hedge = Hedge::fixed(MS(20)).budget(budget).build().unwrap();
    let a = Attempts::new(&rt);
    let b = Attempts::new(&rt);
    rt.block_on(async {
        let slow = |n: usize| if n == 0 { MS(100) } else { MS(10) };
        // Two slow calls at once: the one token pays for one hedge.
        let (x, y) =
            futures_lite::future::zip(hedge.run(&rt, || a.op(slow)), hedge.run(&rt, || b.op(slow)))
                .await;
        assert_eq!((x, y), (Ok(1), Ok(0)));
    });
    assert_eq!(a.started.lock().unwrap().len(), 2);
    assert_eq!(b.started.lock().unwrap().len(), 1);
}

#[test]
fn quantile_delay_follows_observed_latency() {
    let rt = VirtualRuntime::new();
    let hedge = Hedge::quantile(0.9, MS(500))
        .min_samples(10)
        .build()
        .unwrap();
    assert_eq!(hedge.current_delay(), MS(500));
    for _ in 0..10 {
        let a = Attempts::new(&rt);
        rt.block_on(hedge.run(&rt, || a.op(|_| MS(40)))).unwrap();
    }
    let d = hedge.current_delay();
    assert!(
        d >= MS(40) && d < MS(48),
        "p90 of 40 ms calls, bucketed: {d:?}"
    );
    // A call slower than the learned p90 is now hedged.
    let a = Attempts::new(&rt);
    let t0 = rt.elapsed();
    let out = rt.block_on(hedge.run(&rt, || a.op(|n| if n == 0 { MS(400) } else { MS(5) })));
    assert_eq!(out, Ok(1));
    assert_eq!(a.started.lock().unwrap()[1] - t0, d);
}

#[test]
fn bad_configuration_names_the_field() {
    assert_eq!(
        Hedge::fixed(MS(1))
            .max_hedges(0)
            .build()
            .unwrap_err()
            .field(),
        "max_hedges"
    );
    assert_eq!(
        Hedge::quantile(1.5, MS(1)).build().unwrap_err().field(),
        "quantile"
    );
    assert_eq!(
        Hedge::fixed(MS(1))
            .min_samples(0)
            .build()
            .unwrap_err()
            .field(),
        "min_samples"
    );
}

#[test]
fn hedge_layer_composes_with_a_per_attempt_timeout() {
    let rt = VirtualRuntime::new();
    let a = Attempts::new(&rt);
    let hedge = Hedge::fixed(MS(20)).max_hedges(1).build().unwrap();
    let policy = Policy::new(rt.clone()).hedge(hedge).timeout(MS(50));
    let out = rt.block_on(policy.call(|| a.op(|n| if n == 0 { MS(1000) } else { MS(60) })));
    // First attempt cut at 50 ms, the hedge (started at 20) at 70 ms.
    assert_eq!(out, Err(Error::Timeout));
    assert_eq!(rt.elapsed(), MS(70));
}

async fn hedging_wins_on_every_runtime<R: Runtime>(rt: R) {
    let hedge = Hedge::fixed(MS(5)).build().unwrap();
    let calls = AtomicU32::new(0);
    let out = hedge
        .run(&rt, || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            let rt = rt.clone();
            async move {
                if n == 0 {
                    std::future::pending::<()>().await;
                }
                rt.sleep(MS(1)).await;
                Ok::<_, ()>(n)
            }
        })
        .await;
    assert_eq!(out, Ok(1));
}

on_every_runtime!(hedging_wins_on_every_runtime);

/// Issue 10, finding 8: a zero delay, or more hedges than the documented
/// bound, is refused with the field and the rule.
#[test]
fn zero_delay_and_too_many_hedges_are_refused() {
    let err = |field, rule| Err(ConfigError::new("Hedge", field, rule));
    assert_eq!(
        Hedge::fixed(Duration::ZERO).build().map(drop),
        err("delay", Rule::Zero)
    );
    assert_eq!(
        Hedge::quantile(0.9, Duration::ZERO).build().map(drop),
        err("initial", Rule::Zero)
    );
    assert_eq!(
        Hedge::fixed(MS(1)).max_hedges(10_000).build().map(drop),
        err("max_hedges", Rule::OutOfRange("1..=10"))
    );
    assert_eq!(Hedge::MAX_HEDGES, 10);
    assert!(
        Hedge::fixed(Duration::from_nanos(1))
            .max_hedges(Hedge::MAX_HEDGES)
            .build()
            .is_ok(),
        "the bounds themselves are accepted"
    );
}

/// A runtime whose timers are all past due by the time they are polled,
/// as on an executor thread that was starved: the case where every hedge
/// is due in the same poll.
#[derive(Clone, Debug)]
struct LateTimers<R>(R);

impl<R: Runtime> Runtime for LateTimers<R> {
    type Sleep = std::future::Ready<()>;
    type JoinHandle<T: Send + 'static> = R::JoinHandle<T>;

    fn now(&self) -> Instant {
        self.0.now()
    }

    fn sleep_until(&self, _deadline: Instant) -> Self::Sleep {
        std::future::ready(())
    }

    fn spawn<F>(&self, future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.spawn(future)
    }

    fn spawn_blocking<F, T>(&self, f: F) -> Self::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.0.spawn_blocking(f)
    }
}

/// Issue 10, finding 8: however many hedges are due, one poll starts at
/// most one, and yields to the executor before the next.
async fn one_poll_starts_at_most_one_hedge<R: Runtime>(rt: R) {
    let late = LateTimers(rt);
    let hedge = Hedge::fixed(MS(1)).max_hedges(10).build().unwrap();
    let started = AtomicU32::new(0);
    let mut run = pin!(hedge.run(&late, || {
        started.fetch_add(1, Ordering::SeqCst);
        std::future::pending::<Result<(), ()>>()
    }));
    for poll in 1..=10 {
        assert!(poll_once(&mut run).await.is_none(), "attempts never end");
        assert_eq!(
            started.load(Ordering::SeqCst),
            1 + poll,
            "the first attempt and one hedge per poll"
        );
    }
    assert!(poll_once(&mut run).await.is_none());
    assert_eq!(started.load(Ordering::SeqCst), 11, "max_hedges reached");
}

on_every_runtime!(one_poll_starts_at_most_one_hedge);
