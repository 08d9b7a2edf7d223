//! Observing costs no allocation on the hot path either: a policy call
//! through every layer, and a breaker's failing calls (which change its
//! state), allocate nothing with a subscriber installed that does not
//! want weir's levels, and with a Prometheus recorder counting.

#![cfg(all(feature = "tracing", feature = "metrics", feature = "test-util"))]

use std::task::{Context, Poll, Waker};
use std::time::Duration;
use weir::Quota;

use weir::Policy;
use weir::test_util::VirtualRuntime;
use weir::test_util::alloc_count::{self, CountingAllocator};
use weir::{Bulkhead, RateLimiter};
use weir::{CircuitBreaker, Retry, resilience::Outcome};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::system();

fn quiet_subscriber() -> impl tracing::Subscriber + Send + Sync {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::ERROR)
        .with_writer(std::io::sink)
        .finish()
}

#[test]
fn a_policy_call_allocates_nothing_under_a_subscriber_that_filters_weir_out() {
    tracing::subscriber::with_default(quiet_subscriber(), || {
        let rt = VirtualRuntime::new();
        let rate = RateLimiter::builder()
            .quota(Quota::new(1_000_000, Duration::from_secs(1)).burst(1_000_000))
            .build(rt.clone())
            .unwrap();
        let bulkhead = Bulkhead::builder()
            .max_concurrent(8)
            .build(rt.clone())
            .unwrap();
        let breaker = CircuitBreaker::builder().build(rt.clone()).unwrap();
        let retry = Retry::exponential(Duration::from_millis(10))
            .build()
            .unwrap();
        let policy = Policy::new(rt.clone())
            .name("p")
            .timeout(Duration::from_secs(5))
            .retry(retry)
            .breaker(breaker)
            .rate_limit(rate)
            .bulkhead(bulkhead);
        let mut cx = Context::from_waker(Waker::noop());
        let mut call_once = |i: u64| {
            let fut = std::pin::pin!(policy.call(|| async move { Ok::<_, ()>(i) }));
            fut.poll(&mut cx)
        };
        for i in 0..100 {
            assert_eq!(call_once(i), Poll::Ready(Ok(i)));
        }
        let (n, ok) = alloc_count::count(|| (0..1000).all(|i| call_once(i) == Poll::Ready(Ok(i))));
        assert!(ok);
        assert_eq!(n.allocations, 0, "{n:?}");
    });
}

#[test]
fn breaker_decisions_allocate_nothing_with_a_recorder_counting() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let rt = VirtualRuntime::new();
    let breaker = metrics::with_local_recorder(&recorder, || {
        CircuitBreaker::builder()
            .consecutive_failures(1)
            .half_open_calls(1)
            .open_for(Duration::from_nanos(1))
            .name("b")
            .build(rt.clone())
            .unwrap()
    });
    // closed -> open on a failure, refused while open, then half-open and
    // closed again on a success once the (virtual) nanosecond passed. The
    // clock is moved outside the counted parts: the virtual runtime's
    // `block_on` is not what is measured.
    let cycle = || {
        let (a, ()) = alloc_count::count(|| {
            breaker
                .try_acquire()
                .unwrap()
                .record(Outcome::Failure, Duration::ZERO);
            assert!(breaker.try_acquire().is_err());
        });
        rt.block_on(rt.advance(Duration::from_nanos(1)));
        let (b, ()) = alloc_count::count(|| {
            breaker
                .try_acquire()
                .unwrap()
                .record(Outcome::Success, Duration::ZERO);
        });
        a.allocations + b.allocations
    };
    tracing::subscriber::with_default(quiet_subscriber(), || {
        for _ in 0..10 {
            cycle();
        }
        let allocations: u64 = (0..100).map(|_| cycle()).sum();
        assert_eq!(allocations, 0);
    });
    let text = handle.render();
    assert!(
        text.contains(r#"weir_breaker_rejected_total{name="b"} 110"#),
        "{text}"
    );
}
