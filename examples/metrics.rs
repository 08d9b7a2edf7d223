//! weir's metrics as Prometheus text: a named breaker, bulkhead and
//! retrying policy make a few calls, then the recorder's handle renders
//! what a `/metrics` endpoint would serve (no HTTP server needed).
//!
//! Run with `cargo run --example metrics --features metrics`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusBuilder;
use weir::{Bulkhead, CircuitBreaker, Error, Policy, Retry, Smol};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Install the recorder before building components: they register their
    // metric handles when built.
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder)?;

    let rt = Smol;
    let breaker = CircuitBreaker::builder().name("search").build(rt)?;
    let bulkhead = Bulkhead::builder()
        .max_concurrent(4)
        .name("search")
        .build(rt)?;
    let retry = Retry::exponential(Duration::from_millis(5))
        .max_attempts(3)
        .name("search")
        .build()?;
    let policy = Policy::new(rt)
        .name("search")
        .retry(retry)
        .breaker(breaker)
        .bulkhead(bulkhead);

    let calls = AtomicU32::new(0);
    smol::block_on(async {
        for _ in 0..5 {
            // Every third attempt fails, and is retried.
            let out: Result<u32, Error<&str>> = policy
                .call(|| {
                    let n = calls.fetch_add(1, Ordering::Relaxed);
                    async move { if n % 3 == 2 { Err("flaky") } else { Ok(n) } }
                })
                .await;
            assert!(out.is_ok());
        }
    });

    print!("{}", handle.render());
    Ok(())
}
