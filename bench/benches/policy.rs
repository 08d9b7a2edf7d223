//! The full pipeline on a ready call: weir's Policy (timeout + retry +
//! breaker + rate limit + bulkhead) beside a tower ServiceBuilder stack with
//! the layers tower has (timeout + retry + rate limit + concurrency limit;
//! tower has no circuit breaker, so weir carries one more layer), both on
//! tokio's current-thread runtime, the same closure answering at once.
//! weir runs twice: with the rate limiter on the runtime's clock (the
//! default) and on the coarse monotonic clock.
//!
//! ```text
//! cargo bench -p weir-bench --bench policy
//! ```

use std::future::{Ready, ready};
use std::time::{Duration, Instant};
use weir::Quota;

use criterion::{Criterion, criterion_group, criterion_main};
use tower::{Service, ServiceBuilder, ServiceExt};
use weir::Policy;
use weir::Tokio;
use weir::limit::Clock;
use weir::{Bulkhead, RateLimiter, limit::RateLimiterBuilder};
use weir::{CircuitBreaker, Retry};

/// tower's retry needs a policy type; this one retries errors up to twice,
/// as weir's `max_attempts(3)` does.
#[derive(Clone)]
struct Attempts(u32);

impl<Req: Clone, Res, E> tower::retry::Policy<Req, Res, E> for Attempts {
    type Future = Ready<()>;
    fn retry(&mut self, _: &mut Req, result: &mut Result<Res, E>) -> Option<Self::Future> {
        match result {
            Ok(_) => None,
            Err(_) if self.0 > 0 => {
                self.0 -= 1;
                Some(ready(()))
            }
            Err(_) => None,
        }
    }
    fn clone_request(&mut self, req: &Req) -> Option<Req> {
        Some(req.clone())
    }
}

/// `iters` ready calls through timeout + retry + breaker + rate limit +
/// bulkhead, the rate limiter built by `limiter` (so its clock can vary).
async fn weir_calls<C: Clock>(
    iters: u64,
    limiter: impl FnOnce(RateLimiterBuilder<Tokio>) -> RateLimiter<Tokio, C>,
) -> Duration {
    let rate = limiter(
        RateLimiter::builder()
            .quota(Quota::new(1_000_000_000, Duration::from_secs(1)).burst(1_000_000_000)),
    );
    let bulkhead = Bulkhead::builder()
        .max_concurrent(64)
        .queue_capacity(64)
        .build(Tokio)
        .unwrap();
    let breaker = CircuitBreaker::builder().build(Tokio).unwrap();
    let retry = Retry::exponential(Duration::from_millis(10))
        .max_attempts(3)
        .build()
        .unwrap();
    let policy = Policy::new(Tokio)
        .timeout(Duration::from_secs(5))
        .retry(retry)
        .breaker(breaker)
        .rate_limit(rate)
        .bulkhead(bulkhead);
    let start = Instant::now();
    for i in 0..iters {
        let out = policy.call(|| async move { Ok::<_, ()>(i) }).await;
        std::hint::black_box(out).unwrap();
    }
    start.elapsed()
}

fn pipeline(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut g = c.benchmark_group("pipeline_ready_call");

    g.bench_function("weir_policy_5_layers", |b| {
        b.iter_custom(|iters| rt.block_on(weir_calls(iters, |l| l.build(Tokio).unwrap())))
    });

    #[cfg(target_os = "linux")]
    g.bench_function("weir_policy_5_layers_coarse_clock", |b| {
        b.iter_custom(|iters| {
            rt.block_on(weir_calls(iters, |l| {
                let clock = weir::limit::CoarseClock::new().unwrap();
                l.build_with_clock(Tokio, clock).unwrap()
            }))
        })
    });

    g.bench_function("tower_service_builder_4_layers", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                // tower's Retry needs a Clone inner service and RateLimit is
                // not Clone, so the rate limit goes outermost here.
                let mut svc = ServiceBuilder::new()
                    .rate_limit(1_000_000_000, Duration::from_secs(1))
                    .timeout(Duration::from_secs(5))
                    .retry(Attempts(2))
                    .concurrency_limit(64)
                    .service_fn(|i: u64| async move { Ok::<_, std::convert::Infallible>(i) });
                let start = Instant::now();
                for i in 0..iters {
                    let out = svc.ready().await.unwrap().call(i).await;
                    std::hint::black_box(out).unwrap();
                }
                start.elapsed()
            })
        })
    });
    g.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
