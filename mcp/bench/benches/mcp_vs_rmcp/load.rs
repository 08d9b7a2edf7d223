//! The workload, the same for every client: `calls` echo calls, `in_flight`
//! workers each taking the next call as soon as its last one answered, each
//! reply checked against the text the server must send back.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use weir_core::Runtime;

/// One client under test: a call of the echo tool that returns the reply's
/// text, or why there was none.
pub trait Caller: Clone + Send + Sync + 'static {
    fn call(&self) -> impl Future<Output = Result<(), String>> + Send;
}

/// What a pass measured.
#[derive(Debug)]
pub struct Pass {
    pub elapsed: Duration,
    /// Latencies of the calls that succeeded, sorted.
    pub latencies: Vec<Duration>,
    pub errors: u64,
    pub first_error: Option<String>,
}

impl Pass {
    pub fn calls_per_s(&self) -> f64 {
        (self.latencies.len() as u64 + self.errors) as f64 / self.elapsed.as_secs_f64()
    }

    /// Nearest rank: the smallest latency with at least `q` of the samples
    /// at or below it.
    pub fn percentile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank =
            ((q * self.latencies.len() as f64).ceil() as usize).clamp(1, self.latencies.len());
        self.latencies[rank - 1]
    }
}

/// Runs `calls` calls, `in_flight` at a time, on tasks of `rt`.
pub async fn drive<R: Runtime, C: Caller>(
    rt: &R,
    caller: &C,
    calls: usize,
    in_flight: usize,
) -> Pass {
    let next = Arc::new(AtomicUsize::new(0));
    let workers = in_flight.clamp(1, calls.max(1));
    // Room for every latency up front: the driver allocates nothing per call.
    let per_worker = calls.div_ceil(workers) + 1;
    let started = Instant::now();
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let caller = caller.clone();
            let next = next.clone();
            rt.spawn(async move {
                let mut latencies = Vec::with_capacity(per_worker);
                let mut errors = 0u64;
                let mut first_error = None;
                while next.fetch_add(1, Ordering::Relaxed) < calls {
                    let t0 = Instant::now();
                    match caller.call().await {
                        Ok(()) => latencies.push(t0.elapsed()),
                        Err(e) => {
                            errors += 1;
                            first_error.get_or_insert(e);
                        }
                    }
                }
                (latencies, errors, first_error)
            })
        })
        .collect();
    let mut pass = Pass {
        elapsed: Duration::ZERO,
        latencies: Vec::with_capacity(calls),
        errors: 0,
        first_error: None,
    };
    for h in handles {
        match h.await {
            Ok((l, e, first)) => {
                pass.latencies.extend(l);
                pass.errors += e;
                if pass.first_error.is_none() {
                    pass.first_error = first;
                }
            }
            Err(_) => {
                pass.errors += 1;
                pass.first_error
                    .get_or_insert_with(|| "a worker task was lost".into());
            }
        }
    }
    pass.elapsed = started.elapsed();
    pass.latencies.sort_unstable();
    pass
}
