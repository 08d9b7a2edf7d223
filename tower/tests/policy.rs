//! A whole Policy as one tower layer, and the lone timeout, retry and
//! hedge layers, with tower-test's mock on weir's virtual clock.

use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use tower::{Service, ServiceBuilder, ServiceExt};
use tower_test::mock::{self, Handle};
use weir_core::Bulkhead;
use weir_core::{CircuitBreaker, Hedge, Retry};
use weir_core::{Error, Policy};
use weir_core::{Runtime, test_util::VirtualRuntime};
use weir_tower::PolicyLayer;

type Requests = Arc<Mutex<Vec<(Duration, &'static str)>>>;

/// Serves the mock's requests from a task on `rt`: `reply(n, req)` answers
/// the n-th request (from 0) with a response, an error, or nothing (the
/// request then never completes). Records when each request arrived.
fn serve(
    rt: &VirtualRuntime,
    mut handle: Handle<&'static str, &'static str>,
    reply: impl Fn(usize, &'static str) -> Option<Result<&'static str, &'static str>> + Send + 'static,
) -> Requests {
    let seen: Requests = Arc::default();
    let log = seen.clone();
    let clock = rt.clone();
    let task = rt.spawn(async move {
        let mut parked = Vec::new();
        let mut n = 0;
        while let Some((req, send)) = handle.next_request().await {
            log.lock().unwrap().push((clock.elapsed(), req));
            match reply(n, req) {
                Some(Ok(resp)) => send.send_response(resp),
                Some(Err(e)) => send.send_error(e),
                None => parked.push(send),
            }
            n += 1;
        }
    });
    drop(task); // detached
    seen
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn retry_calls_again_with_a_clone_of_the_request_after_the_backoff() {
    let rt = VirtualRuntime::new();
    let retry = Retry::constant(ms(100)).max_attempts(3).build().unwrap();
    let (svc, handle) = mock::pair::<&'static str, &'static str>();
    let seen = serve(&rt, handle, |n, _| {
        Some(if n < 2 { Err("flaky") } else { Ok("done") })
    });
    let mut svc = ServiceBuilder::new()
        .layer(PolicyLayer::retry(rt.clone(), retry))
        .service(svc);

    let out = rt.block_on(async { svc.ready().await.unwrap().call("q").await });
    assert_eq!(out.unwrap(), "done");
    assert_eq!(
        *seen.lock().unwrap(),
        vec![(ms(0), "q"), (ms(100), "q"), (ms(200), "q")]
    );
}

#[test]
fn the_pipelines_outcomes_come_out_as_weirs_error() {
    let rt = VirtualRuntime::new();
    let breaker = CircuitBreaker::builder()
        .consecutive_failures(2)
        .open_for(Duration::from_secs(30))
        .build(rt.clone())
        .unwrap();
    let policy = Policy::new(rt.clone()).breaker(breaker);
    let (svc, handle) = mock::pair::<&'static str, &'static str>();
    let seen = serve(&rt, handle, |_, _| Some(Err("down")));
    let mut svc = ServiceBuilder::new()
        .layer(PolicyLayer::new(policy))
        .service(svc);

    for _ in 0..2 {
        let out = rt.block_on(async { svc.ready().await.unwrap().call("a").await });
        assert!(
            matches!(out, Err(Error::Inner(ref e)) if e.to_string() == "down"),
            "{out:?}"
        );
    }
    let open = rt.block_on(async { svc.ready().await.unwrap().call("b").await });
    assert!(
        matches!(open, Err(Error::CircuitOpen { remaining }) if remaining == Duration::from_secs(30)),
        "two failures opened the breaker: {open:?}"
    );
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "the open breaker kept the call from the backend"
    );
}

#[test]
fn a_retry_outside_the_breaker_waits_out_its_open_time() {
    let rt = VirtualRuntime::new();
    // No jitter on the breaker's hint, so the probe's instant is exact.
    let retry = Retry::constant(ms(100))
        .max_attempts(4)
        .retry_after_jitter(0.0)
        .build()
        .unwrap();
    let breaker = CircuitBreaker::builder()
        .consecutive_failures(2)
        .open_for(Duration::from_secs(30))
        .build(rt.clone())
        .unwrap();
    let policy = Policy::new(rt.clone()).retry(retry).breaker(breaker);
    let (svc, handle) = mock::pair::<&'static str, &'static str>();
    let seen = serve(&rt, handle, |n, _| {
        Some(if n < 2 { Err("down") } else { Ok("back") })
    });
    let mut svc = ServiceBuilder::new()
        .layer(PolicyLayer::new(policy))
        .service(svc);

    let out = rt.block_on(async { svc.ready().await.unwrap().call("q").await });
    assert_eq!(out.unwrap(), "back");
    // Two failures open the breaker at 100 ms; the third attempt (200 ms)
    // meets it open for 29.9 s more, and the fourth, at exactly 30.1 s, is
    // the half-open probe. The backend saw only the calls it could answer.
    let at: Vec<Duration> = seen.lock().unwrap().iter().map(|(t, _)| *t).collect();
    assert_eq!(at, vec![ms(0), ms(100), ms(100) + Duration::from_secs(30)]);
}

#[test]
fn timeout_alone_fails_the_call_at_the_exact_instant() {
    let rt = VirtualRuntime::new();
    let (svc, handle) = mock::pair::<&'static str, &'static str>();
    let _seen = serve(&rt, handle, |_, _| None);
    let mut svc = ServiceBuilder::new()
        .layer(PolicyLayer::timeout(rt.clone(), Duration::from_secs(2)))
        .service(svc);
    let out = rt.block_on(async { svc.ready().await.unwrap().call("slow").await });
    assert!(matches!(out, Err(Error::Timeout)), "{out:?}");
    assert_eq!(rt.elapsed(), Duration::from_secs(2));
}

#[test]
fn hedge_alone_sends_a_second_request_when_the_first_is_slow() {
    let rt = VirtualRuntime::new();
    let hedge = Hedge::fixed(ms(30)).build().unwrap();
    let (svc, handle) = mock::pair::<&'static str, &'static str>();
    // The first request never answers; the hedge does.
    let seen = serve(&rt, handle, |n, _| (n > 0).then_some(Ok("from the hedge")));
    let mut svc = ServiceBuilder::new()
        .layer(PolicyLayer::hedge(rt.clone(), hedge))
        .service(svc);
    let out = rt.block_on(async { svc.ready().await.unwrap().call("q").await });
    assert_eq!(out.unwrap(), "from the hedge");
    assert_eq!(*seen.lock().unwrap(), vec![(ms(0), "q"), (ms(30), "q")]);
}

#[test]
fn policy_readiness_is_the_inner_services() {
    let rt = VirtualRuntime::new();
    let policy = Policy::new(rt.clone()).timeout(Duration::from_secs(1));
    let (mut svc, mut handle) = mock::spawn_layer::<&str, &str, _>(PolicyLayer::new(policy));
    handle.allow(0);
    assert!(svc.poll_ready().is_pending());
    handle.allow(1);
    assert!(svc.is_woken());
    assert!(matches!(svc.poll_ready(), Poll::Ready(Ok(()))));
}

#[test]
fn a_bulkhead_in_the_policy_bounds_attempts_in_flight() {
    let rt = VirtualRuntime::new();
    let bulkhead = Bulkhead::builder()
        .max_concurrent(2)
        .queue_capacity(8)
        .build(rt.clone())
        .unwrap();
    let policy = Policy::new(rt.clone()).bulkhead(bulkhead.clone());
    let (svc, handle) = mock::pair::<&'static str, &'static str>();
    let _seen = serve(&rt, handle, |_, _| None);
    let svc = ServiceBuilder::new()
        .layer(PolicyLayer::new(policy))
        .service(svc);

    let clock = rt.clone();
    rt.block_on(async move {
        let mut calls = Vec::new();
        for _ in 0..5 {
            let mut svc = svc.clone();
            calls.push(clock.spawn(async move { svc.ready().await.unwrap().call("q").await }));
        }
        clock.idle().await;
        let stats = bulkhead.stats();
        assert_eq!((stats.in_flight, stats.queued), (2, 3), "{stats:?}");
    });
}

#[test]
fn a_flat_bulkhead_outside_the_policy_gives_readiness_and_one_error() {
    type MockError = Box<dyn std::error::Error + Send + Sync>;
    let rt = VirtualRuntime::new();
    let bulkhead = Bulkhead::builder()
        .max_concurrent(1)
        .queue_capacity(1)
        .build(rt.clone())
        .unwrap();
    let policy = Policy::new(rt.clone()).timeout(Duration::from_secs(5));
    let stack = ServiceBuilder::new()
        .layer(weir_tower::BulkheadLayer::new(bulkhead).flat())
        .layer(PolicyLayer::new(policy));
    let (mut first, mut handle) = mock::spawn_layer::<&'static str, &'static str, _>(stack.clone());
    let (mut second, _h2) = mock::spawn_layer::<&'static str, &'static str, _>(stack);

    assert!(matches!(first.poll_ready(), Poll::Ready(Ok(()))));
    assert!(
        second.poll_ready().is_pending(),
        "the bulkhead outside makes readiness honest"
    );
    let call = first.call("a");
    let out: Result<&str, Error<MockError>> = rt.block_on(async {
        let mut call = std::pin::pin!(call);
        assert!(
            futures_lite::future::poll_once(call.as_mut())
                .await
                .is_none()
        );
        let Poll::Ready(Some((_, send))) = handle.poll_request() else {
            panic!("the request did not reach the mock");
        };
        send.send_error("down");
        call.await
    });
    // One level of weir's error, not Error<Error<..>>.
    assert!(
        matches!(&out, Err(Error::Inner(e)) if e.to_string() == "down"),
        "{out:?}"
    );
    assert!(
        second.is_woken(),
        "the permit came back when the call ended"
    );
}
