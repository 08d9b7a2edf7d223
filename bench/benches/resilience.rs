//! Resilience overheads, weir beside its peers on the same workload.
//!
//! * `breaker_closed_call`: one call through a closed breaker whose call
//!   succeeds at once: weir's permit API and its async `call` (polled once
//!   with a no-op waker) against failsafe's `call(|| Ok(1))` with its default
//!   configuration.
//! * `retry_decision`: deciding one retry: computing the next delay (with
//!   jitter) and, for weir, the budget deposit and withdrawal; failsafe's
//!   jittered backoff iterator as the peer (it has no budget).
//!
//! ```text
//! cargo bench -p weir-bench --bench resilience
//! ```

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use failsafe::CircuitBreaker as _;
use weir::test_util::VirtualRuntime;
use weir::{
    CircuitBreaker, Retry, RetryBudget,
    resilience::{Jitter, Outcome},
};

fn poll_now<F: Future>(fut: F) -> Poll<F::Output> {
    pin!(fut).poll(&mut Context::from_waker(Waker::noop()))
}

fn breaker_closed_call(c: &mut Criterion) {
    let mut g = c.benchmark_group("breaker_closed_call");
    let rt = VirtualRuntime::new();
    let weir = CircuitBreaker::builder().build(rt.clone()).unwrap();
    g.bench_function("weir_permit", |b| {
        b.iter(|| {
            let p = weir.try_acquire().unwrap();
            p.record(black_box(Outcome::Success), Duration::ZERO);
        })
    });
    g.bench_function("weir_call", |b| {
        b.iter(|| poll_now(weir.call(|| async { Ok::<_, ()>(black_box(1)) })))
    });
    let fs = failsafe::Config::new().build();
    g.bench_function("failsafe_call", |b| {
        b.iter(|| fs.call(|| Ok::<_, ()>(black_box(1))))
    });
    g.finish();
}

fn retry_decision(c: &mut Criterion) {
    let mut g = c.benchmark_group("retry_decision");
    let rt = VirtualRuntime::new();
    // Each run earns a token and spends one: the balance stays put.
    let budget = Arc::new(RetryBudget::builder().ratio(1.0).build(&rt).unwrap());
    let now = Instant::now();
    let with_budget = Retry::exponential(Duration::from_secs(1))
        .max_delay(Duration::from_secs(60))
        .jitter(Jitter::Equal)
        .max_attempts(u32::MAX)
        .budget(budget)
        .build()
        .unwrap();
    g.bench_function("weir_start_next_delay_budget", |b| {
        b.iter(|| {
            let mut s = with_budget.start(now);
            with_budget.next_delay(&mut s, now, None)
        })
    });
    let plain = Retry::exponential(Duration::from_secs(1))
        .max_delay(Duration::from_secs(60))
        .jitter(Jitter::Equal)
        .max_attempts(u32::MAX)
        .build()
        .unwrap();
    let mut s = plain.start(now);
    g.bench_function("weir_next_delay", |b| {
        b.iter(|| plain.next_delay(&mut s, now, None))
    });
    let mut it = failsafe::backoff::equal_jittered(Duration::from_secs(1), Duration::from_secs(60));
    g.bench_function("failsafe_equal_jittered_next", |b| b.iter(|| it.next()));
    g.finish();
}

criterion_group!(benches, breaker_closed_call, retry_decision);
criterion_main!(benches);
