//! The proof of issue 16, item 6: what a new user does, done again with the
//! defaults the docs now give. 500 calls from a reqwest client on tokio, all
//! started at once, through a weir `Policy` stacked as the docs say, against
//! a local axum server on 127.0.0.1 that allows at most 20 requests in any
//! 1 s window (429 with `Retry-After` when over) and answers 503 to 10 % of
//! the requests it admits (a seeded random choice).
//!
//! Outcome asserted: 0 failures of 500, the server saw no window of 1 s with
//! more than 20 arrivals (429s included, so: no 429 at all), and it did
//! serve 503s that the retries absorbed. A control run with the token-bucket
//! quota of the same rate shows that the server is strict enough to tell.
//!
//! # Time
//!
//! The quota is the real one, 20 per second, and the run needs about 27 s of
//! it (500 calls and their retries at 20 per second). The test runs on
//! tokio's paused clock (`start_paused`), so those seconds pass as virtual
//! time and the test takes a fraction of a second of real time; the
//! requests themselves are real HTTP over loopback. tokio moves a paused
//! clock whenever the runtime is idle, also while a request is on the wire,
//! which would stamp an arrival later than its send; a `Busy` guard keeps
//! the runtime from idling while any request is in flight, so the server's
//! clock reads the instant the limiter granted.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header::RETRY_AFTER};
use axum::routing::get;
use tokio::sync::Notify;
use tokio::time::Instant;
use weir_core::resilience::RetryAfter;
use weir_core::{Bulkhead, CircuitBreaker, Error, Policy, Quota, RateLimiter, Retry};
use weir_tokio::Tokio;

const CALLS: usize = 500;
const WINDOW: Duration = Duration::from_secs(1);
const LIMIT: usize = 20;

/// The strict upstream: a sliding log of admitted requests, and every
/// arrival on record for the test to count afterwards.
struct Upstream {
    admitted: Mutex<VecDeque<Instant>>,
    arrivals: Mutex<Vec<Instant>>,
    rng: Mutex<fastrand::Rng>,
    too_many: AtomicU32,
    unavailable: AtomicU32,
}

async fn api(State(s): State<Arc<Upstream>>) -> (StatusCode, HeaderMap) {
    let now = Instant::now();
    s.arrivals.lock().unwrap().push(now);
    let mut admitted = s.admitted.lock().unwrap();
    // The window is (now − 1 s, now].
    while admitted.front().is_some_and(|&t| now - t >= WINDOW) {
        admitted.pop_front();
    }
    let mut headers = HeaderMap::new();
    if admitted.len() >= LIMIT {
        s.too_many.fetch_add(1, Ordering::SeqCst);
        let free_at = *admitted.front().unwrap() + WINDOW;
        let secs = (free_at - now).as_secs_f64().ceil().max(1.0) as u64;
        headers.insert(RETRY_AFTER, HeaderValue::from(secs));
        return (StatusCode::TOO_MANY_REQUESTS, headers);
    }
    admitted.push_back(now);
    if s.rng.lock().unwrap().u8(0..10) == 0 {
        s.unavailable.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::SERVICE_UNAVAILABLE, headers);
    }
    (StatusCode::OK, headers)
}

/// Keeps the runtime busy while requests are in flight, so that the paused
/// clock moves only when nothing is on the wire (see the module docs).
#[derive(Default)]
struct InFlight {
    count: AtomicUsize,
    started: Notify,
}

struct Busy(Arc<InFlight>);

impl InFlight {
    fn enter(self: &Arc<Self>) -> Busy {
        self.count.fetch_add(1, Ordering::SeqCst);
        self.started.notify_one();
        Busy(self.clone())
    }

    async fn keep_busy(self: Arc<Self>) {
        loop {
            if self.count.load(Ordering::SeqCst) > 0 {
                tokio::task::yield_now().await;
            } else {
                let started = self.started.notified();
                if self.count.load(Ordering::SeqCst) == 0 {
                    started.await;
                }
            }
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.count.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What the client makes of a response that is not a success.
#[derive(Debug)]
enum ApiError {
    Status(StatusCode, Option<Duration>),
    // Read through `Debug`, in the failure list the test prints.
    #[allow(dead_code)]
    Transport(reqwest::Error),
}

impl ApiError {
    fn is_transient(&self) -> bool {
        match self {
            ApiError::Status(s, _) => *s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error(),
            ApiError::Transport(_) => true,
        }
    }
}

impl RetryAfter for ApiError {
    fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Status(_, after) => *after,
            ApiError::Transport(_) => None,
        }
    }
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<(), ApiError> {
    let response = client.get(url).send().await.map_err(ApiError::Transport)?;
    let status = response.status();
    if status.is_success() {
        response.bytes().await.map_err(ApiError::Transport)?;
        return Ok(());
    }
    let after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .map(Duration::from_secs);
    Err(ApiError::Status(status, after))
}

/// What one run saw.
#[derive(Debug)]
struct Report {
    failures: Vec<String>,
    busiest_window: usize,
    too_many: u32,
    unavailable: u32,
    arrivals: usize,
}

/// 500 calls at once through the pipeline of the docs, with `quota`.
async fn five_hundred_calls(quota: Quota) -> Report {
    let upstream = Arc::new(Upstream {
        admitted: Mutex::new(VecDeque::new()),
        arrivals: Mutex::new(Vec::new()),
        rng: Mutex::new(fastrand::Rng::with_seed(16)),
        too_many: AtomicU32::new(0),
        unavailable: AtomicU32::new(0),
    });
    let app = Router::new()
        .route("/api", get(api))
        .with_state(upstream.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let in_flight = Arc::new(InFlight::default());
    tokio::spawn(in_flight.clone().keep_busy());

    // The pipeline as the Policy docs stack it, with the defaults they
    // name: overall timeout, retry, breaker, rate limit, bulkhead,
    // per-attempt timeout.
    let rt = Tokio;
    let retry = Retry::exponential(Duration::from_millis(100))
        .max_delay(Duration::from_secs(5))
        .jitter_full()
        .max_attempts(5)
        .retry_if(ApiError::is_transient)
        .honor_retry_after()
        .seed(7)
        .build()
        .unwrap();
    let policy = Arc::new(
        Policy::new(rt)
            .timeout(Duration::from_secs(120))
            .retry(retry)
            .breaker(CircuitBreaker::builder().build(rt).unwrap())
            .rate_limit(RateLimiter::builder().quota(quota).build(rt).unwrap())
            .bulkhead(Bulkhead::builder().max_concurrent(8).build(rt).unwrap())
            .timeout(Duration::from_secs(5)),
    );
    let client = reqwest::Client::new();

    let calls: Vec<_> = (0..CALLS)
        .map(|_| {
            let (policy, client, url, in_flight) = (
                policy.clone(),
                client.clone(),
                url.clone(),
                in_flight.clone(),
            );
            tokio::spawn(async move {
                policy
                    .call(|| async {
                        let _busy = in_flight.enter();
                        fetch(&client, &url).await
                    })
                    .await
            })
        })
        .collect();
    let mut failures = Vec::new();
    for call in calls {
        let out: Result<(), Error<ApiError>> = call.await.unwrap();
        if let Err(e) = out {
            failures.push(format!("{e:?}"));
        }
    }

    let arrivals = upstream.arrivals.lock().unwrap().clone();
    Report {
        failures,
        busiest_window: busiest_window(&arrivals, WINDOW),
        too_many: upstream.too_many.load(Ordering::SeqCst),
        unavailable: upstream.unavailable.load(Ordering::SeqCst),
        arrivals: arrivals.len(),
    }
}

/// The most arrivals in any closed window `[t, t + width]` (a busiest
/// window can be slid to start at an arrival).
fn busiest_window(arrivals: &[Instant], width: Duration) -> usize {
    let mut sorted = arrivals.to_vec();
    sorted.sort_unstable();
    let mut end = 0;
    let mut best = 0;
    for (start, &t0) in sorted.iter().enumerate() {
        while end < sorted.len() && sorted[end] - t0 <= width {
            end += 1;
        }
        best = best.max(end - start);
    }
    best
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn five_hundred_calls_against_a_strict_quota_all_succeed_and_never_overrun_it() {
    // The server's 20 per second, strict, with the 2 % headroom the Quota
    // docs ask for: tokio wakes a sleeper on the next whole millisecond,
    // so a grant may be used up to 1 ms late. (Without it this run sees 21
    // in one closed second: the rule is not decoration.)
    let quota = Quota::new(20, WINDOW + WINDOW / 50).strict();
    let report = five_hundred_calls(quota).await;
    eprintln!("strict, 2 % headroom: {report:?}");
    assert!(
        report.failures.is_empty(),
        "{} of {CALLS} failed: {:?}",
        report.failures.len(),
        &report.failures[..report.failures.len().min(5)]
    );
    assert!(
        report.busiest_window <= LIMIT,
        "the server saw {} requests in one second: {report:?}",
        report.busiest_window
    );
    assert_eq!(report.too_many, 0, "{report:?}");
    // The 503s happened and were retried away: every call but those made
    // it on its first arrival, and each 503 cost exactly one more.
    assert!(report.unavailable > 0, "{report:?}");
    assert_eq!(
        report.arrivals,
        CALLS + report.unavailable as usize,
        "{report:?}"
    );
}

/// The control: the token bucket of the same rate (`Quota::per_second(20)`,
/// a full bucket of 20 plus 20 refilled within the second) overruns the
/// server's window, and the server says so with 429s.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn the_token_bucket_of_the_same_rate_draws_429s() {
    let report = five_hundred_calls(Quota::per_second(20)).await;
    eprintln!("token bucket: {report:?}");
    assert!(report.busiest_window > LIMIT, "{report:?}");
    assert!(report.too_many > 0, "{report:?}");
}
