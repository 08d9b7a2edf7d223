//! End to end on tokio: a hyper 1.x client (hyper-util's legacy `Client`)
//! wrapped in weir's layers, against a local axum server on 127.0.0.1 that
//! answers 429 with `Retry-After`, 503s, and slow requests held until the
//! test releases them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::client::legacy::{self, Client};
use hyper_util::rt::TokioExecutor;
use tokio::sync::{Semaphore, watch};
use tower::{Service, ServiceBuilder, ServiceExt};
use weir_core::Bulkhead;
use weir_core::{
    CircuitBreaker, Retry,
    resilience::{Outcome, RetryEvent, State as BreakerState},
};
use weir_core::{Error, Policy};
use weir_tokio::Tokio;
use weir_tower::{BreakerLayer, BulkheadLayer, PolicyLayer};

#[derive(Default)]
struct Server {
    quota_calls: AtomicU32,
    down_calls: AtomicU32,
    in_flight: AtomicU32,
    max_in_flight: AtomicU32,
    in_flight_tx: Option<watch::Sender<u32>>,
    gate: Option<Arc<Semaphore>>,
}

/// The first call is refused with 429 and `Retry-After: 1`; later ones pass.
async fn quota(State(s): State<Arc<Server>>) -> (StatusCode, HeaderMap, &'static str) {
    let mut headers = HeaderMap::new();
    if s.quota_calls.fetch_add(1, Ordering::SeqCst) == 0 {
        headers.insert("retry-after", "1".parse().unwrap());
        return (StatusCode::TOO_MANY_REQUESTS, headers, "slow down");
    }
    (StatusCode::OK, headers, "ok")
}

async fn down(State(s): State<Arc<Server>>) -> StatusCode {
    s.down_calls.fetch_add(1, Ordering::SeqCst);
    StatusCode::SERVICE_UNAVAILABLE
}

/// Counts itself in flight and waits for a permit from the test's gate.
async fn slow(State(s): State<Arc<Server>>) -> &'static str {
    let now = s.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    s.max_in_flight.fetch_max(now, Ordering::SeqCst);
    s.in_flight_tx.as_ref().unwrap().send_replace(now);
    s.gate.as_ref().unwrap().acquire().await.unwrap().forget();
    s.in_flight.fetch_sub(1, Ordering::SeqCst);
    "done"
}

async fn start(server: Arc<Server>) -> String {
    let app = Router::new()
        .route("/quota", get(quota))
        .route("/down", get(down))
        .route("/slow", get(slow))
        .with_state(server);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

fn get_req(url: &str) -> Request<Full<Bytes>> {
    Request::get(url).body(Full::new(Bytes::new())).unwrap()
}

/// What the backend said, when it was not a success.
#[derive(Debug)]
enum Upstream {
    Status(StatusCode),
    // Read through `Debug` in a failure message.
    #[allow(dead_code)]
    Transport(legacy::Error),
}

/// The classifier: a 429 becomes weir's own `RateLimited` with the
/// server's `Retry-After`, other 5xx an inner error; anything else passes.
fn classify(response: Response<Incoming>) -> Result<Response<Incoming>, Error<Upstream>> {
    let status = response.status();
    if status == StatusCode::TOO_MANY_REQUESTS {
        let secs = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            .unwrap_or(1);
        return Err(Error::RateLimited {
            retry_after: Duration::from_secs(secs),
        });
    }
    if status.is_server_error() {
        return Err(Error::Inner(Upstream::Status(status)));
    }
    Ok(response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_honours_retry_after_from_a_429() {
    let server = Arc::new(Server::default());
    let base = start(server.clone()).await;

    let delays = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = delays.clone();
    let retry = Retry::constant(Duration::from_millis(10))
        .max_attempts(3)
        .retry_if(|e: &Error<Upstream>| e.is_transient())
        .honor_retry_after()
        .on_retry(move |ev: &RetryEvent<'_, Error<Upstream>>| {
            seen.lock().unwrap().push((ev.attempt, ev.delay));
        })
        .build()
        .unwrap();
    let policy = Policy::new(Tokio)
        .timeout(Duration::from_secs(30))
        .retry(retry);
    let mut svc = ServiceBuilder::new()
        .layer(PolicyLayer::new(policy))
        .and_then(|response| std::future::ready(classify(response)))
        .map_err(|e| Error::Inner(Upstream::Transport(e)))
        .service(client());

    let url = format!("{base}/quota");
    let response = svc
        .ready()
        .await
        .unwrap()
        .call(get_req(&url))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        server.quota_calls.load(Ordering::SeqCst),
        2,
        "one refusal, one retry"
    );
    let delays = delays.lock().unwrap().clone();
    assert_eq!(delays.len(), 1, "{delays:?}");
    assert!(
        delays[0].1 >= Duration::from_secs(1),
        "the retry waited at least the server's Retry-After, not the 10 ms back-off: {delays:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_retried_to_the_end_keeps_the_callers_error() {
    let server = Arc::new(Server::default());
    let base = start(server.clone()).await;
    let retry = Retry::constant(Duration::from_millis(10))
        .max_attempts(3)
        .retry_if(|e: &Error<Upstream>| e.is_transient())
        .build()
        .unwrap();
    let mut svc = ServiceBuilder::new()
        .layer(PolicyLayer::new(Policy::new(Tokio).retry(retry)))
        .and_then(|response| std::future::ready(classify(response)))
        .map_err(|e| Error::Inner(Upstream::Transport(e)))
        .service(client());

    let url = format!("{base}/down");
    let out = svc.ready().await.unwrap().call(get_req(&url)).await;
    assert!(
        matches!(out, Err(Error::Inner(Error::Inner(Upstream::Status(s)))) if s == StatusCode::SERVICE_UNAVAILABLE),
        "{out:?}"
    );
    assert_eq!(server.down_calls.load(Ordering::SeqCst), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaker_opens_on_503s_and_then_spares_the_server() {
    let server = Arc::new(Server::default());
    let base = start(server.clone()).await;

    // The breaker reads the response itself: a 503 is a failure.
    let breaker = CircuitBreaker::builder()
        .consecutive_failures(3)
        .open_for(Duration::from_secs(60))
        .classifier(|r: &Result<Response<Incoming>, legacy::Error>| match r {
            Ok(resp) if resp.status() == StatusCode::SERVICE_UNAVAILABLE => Outcome::Failure,
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        })
        .build(Tokio)
        .unwrap();
    let layer = BreakerLayer::new(Tokio, breaker);
    let mut svc = ServiceBuilder::new().layer(layer.clone()).service(client());

    let url = format!("{base}/down");
    for _ in 0..3 {
        let response = svc
            .ready()
            .await
            .unwrap()
            .call(get_req(&url))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    assert_eq!(layer.breaker().state(), BreakerState::Open);
    for _ in 0..5 {
        let out = svc.ready().await.unwrap().call(get_req(&url)).await;
        assert!(matches!(out, Err(Error::CircuitOpen { .. })), "{out:?}");
    }
    assert_eq!(
        server.down_calls.load(Ordering::SeqCst),
        3,
        "no call reached the server once open"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulkhead_bounds_requests_in_flight() {
    let (tx, mut rx) = watch::channel(0);
    let gate = Arc::new(Semaphore::new(0));
    let server = Arc::new(Server {
        in_flight_tx: Some(tx),
        gate: Some(gate.clone()),
        ..Server::default()
    });
    let base = start(server.clone()).await;

    let bulkhead = Bulkhead::builder()
        .max_concurrent(2)
        .queue_capacity(16)
        .build(Tokio)
        .unwrap();
    let layer = BulkheadLayer::new(bulkhead);
    let svc = ServiceBuilder::new().layer(layer.clone()).service(client());

    let url = format!("{base}/slow");
    let mut calls = Vec::new();
    for _ in 0..6 {
        let mut svc = svc.clone();
        let req = get_req(&url);
        calls.push(tokio::spawn(async move {
            let response = svc.ready().await.unwrap().call(req).await.unwrap();
            response.status()
        }));
    }
    // Two requests reach the server; the other four wait in poll_ready.
    rx.wait_for(|n| *n == 2).await.unwrap();
    assert_eq!(layer.bulkhead().stats().in_flight, 2);
    gate.add_permits(6);
    for call in calls {
        assert_eq!(call.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(server.max_in_flight.load(Ordering::SeqCst), 2);
    assert_eq!(layer.bulkhead().stats().in_flight, 0);
}
