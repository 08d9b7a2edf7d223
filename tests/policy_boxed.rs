//! `Policy::boxed` (issue 16: a pipeline's type must be nameable): the boxed
//! pipeline fits in a struct field, behaves as the concrete one, shares
//! its stages between clones, and costs exactly one allocation for the
//! call plus one per attempt.

use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use weir::Quota;
use weir::policy::BoxPolicy;
use weir::test_util::VirtualRuntime;
use weir::test_util::alloc_count::{self, CountingAllocator};
use weir::{Bulkhead, CircuitBreaker, Error, Policy, RateLimiter, Retry, Runtime};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::system();

/// What a user writes: the pipeline's type in a field, no stage named.
struct Client {
    policy: BoxPolicy<VirtualRuntime, u64, &'static str>,
}

fn five_stages(
    rt: &VirtualRuntime,
) -> Policy<
    VirtualRuntime,
    impl weir::policy::Stage<VirtualRuntime, u64, &'static str> + Send + 'static,
> {
    let rate = RateLimiter::builder()
        .quota(Quota::new(1_000_000, Duration::from_secs(1)).burst(1_000_000))
        .build(rt.clone())
        .unwrap();
    let bulkhead = Bulkhead::builder()
        .max_concurrent(8)
        .queue_capacity(8)
        .build(rt.clone())
        .unwrap();
    let breaker = CircuitBreaker::builder().build(rt.clone()).unwrap();
    let retry = Retry::constant(Duration::from_millis(10))
        .max_attempts(3)
        .build()
        .unwrap();
    Policy::new(rt.clone())
        .timeout(Duration::from_secs(5))
        .retry(retry)
        .breaker(breaker)
        .rate_limit(rate)
        .bulkhead(bulkhead)
}

/// The instants at which a call that fails twice makes its attempts.
fn attempt_instants<F>(
    rt: &VirtualRuntime,
    call: F,
) -> (Result<u64, Error<&'static str>>, Vec<Instant>)
where
    F: FnOnce(
        &(dyn Fn() -> std::future::Ready<Result<u64, &'static str>> + Sync),
    ) -> Result<u64, Error<&'static str>>,
{
    let seen = Mutex::new(Vec::new());
    let op = || {
        let mut seen = seen.lock().unwrap();
        seen.push(rt.now());
        std::future::ready(if seen.len() < 3 {
            Err("flaky")
        } else {
            Ok(seen.len() as u64)
        })
    };
    let out = call(&op);
    (out, seen.into_inner().unwrap())
}

#[test]
fn boxed_retries_at_the_same_instants_as_the_concrete_policy() {
    let rt = VirtualRuntime::new();
    let concrete = five_stages(&rt);
    let (want, want_at) = attempt_instants(&rt, |op| rt.block_on(concrete.call(op)));

    let rt2 = VirtualRuntime::new();
    let client = Client {
        policy: five_stages(&rt2).boxed(),
    };
    let (got, got_at) = attempt_instants(&rt2, |op| rt2.block_on(client.policy.call(op)));

    assert_eq!(want, Ok(3));
    assert_eq!(got, want);
    let offsets = |at: &[Instant]| at.iter().map(|t| *t - at[0]).collect::<Vec<_>>();
    let ms = Duration::from_millis;
    assert_eq!(offsets(&want_at), [ms(0), ms(10), ms(20)]);
    assert_eq!(offsets(&got_at), offsets(&want_at));
}

#[test]
fn clones_share_the_stages() {
    let rt = VirtualRuntime::new();
    let one = RateLimiter::builder()
        .quota(Quota::new(1, Duration::from_secs(1)).burst(1))
        .build(rt.clone())
        .unwrap();
    let a: BoxPolicy<_, u8, ()> = Policy::new(rt.clone()).rate_limit_or_reject(one).boxed();
    let b = a.clone();
    assert_eq!(rt.block_on(a.call(|| async { Ok(1) })), Ok(1));
    let refused = rt.block_on(b.call(|| async { Ok(2) }));
    assert!(
        matches!(refused, Err(Error::RateLimited { .. })),
        "{refused:?}"
    );
    assert!(format!("{b:?}").starts_with("BoxPolicy {"), "{b:?}");
}

#[test]
fn a_boxed_call_allocates_once_plus_once_per_attempt() {
    let rt = VirtualRuntime::new();
    let policy = five_stages(&rt).boxed();
    let mut cx = Context::from_waker(Waker::noop());
    let mut call_once = |i: u64| {
        let fut = std::pin::pin!(policy.call(|| async move { Ok(i) }));
        fut.poll(&mut cx)
    };
    for i in 0..100 {
        assert_eq!(call_once(i), Poll::Ready(Ok(i)));
    }
    let (n, out) = alloc_count::count(|| {
        let mut sum = 0;
        for i in 0..1000 {
            if let Poll::Ready(Ok(v)) = call_once(i) {
                sum += v;
            }
        }
        sum
    });
    assert_eq!(out, (0..1000).sum::<u64>());
    // The pipeline's future and the one attempt's future, per call.
    assert_eq!(n.allocations, 2 * 1000, "{n:?}");
}
