//! `bench`: N calls with K in flight through one client; prints calls/s,
//! p50/p99 latency and errors by kind, and exits non-zero if any call is
//! unaccounted for (neither a result nor an error).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use weir_mcp::McpError;
use weir_mcp::transport::TransportError;

use crate::args::Args;
use crate::connect::connect;
use crate::runtime::{Env, Subcommand};

pub struct Bench;

/// What one worker saw.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: BTreeMap<String, u64>,
    tool_errors: u64,
}

impl Subcommand for Bench {
    async fn run<E: Env>(&self, rt: E, args: &Args) -> Result<ExitCode, String> {
        let calls: usize = args.number("--calls", 10_000)?;
        let in_flight: usize = args.number("--in-flight", 64)?;
        if calls == 0 || in_flight == 0 {
            return Err("`--calls` and `--in-flight` must be at least 1".into());
        }
        let tool = args.get("--tool").unwrap_or("echo").to_owned();
        let arguments = args.json("--args", json!({"message": "weir bench"}))?;
        let server = connect(rt, args)?;
        // Connect and handshake outside the measurement.
        if let Err(e) = server.client.list_tools().await {
            let msg = format!("connecting: {e}{}", server.stderr_tail());
            server.close(rt).await;
            return Err(msg);
        }
        eprintln!(
            "{} on {}: {calls} calls of `{tool}`, {in_flight} in flight",
            server.describe(),
            E::NAME
        );

        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let workers: Vec<_> = (0..in_flight.min(calls))
            .map(|_| {
                let client = server.client.clone();
                let next = next.clone();
                let tool = tool.clone();
                let arguments = arguments.clone();
                rt.spawn(async move {
                    let mut tally = Tally::default();
                    while next.fetch_add(1, Ordering::Relaxed) < calls {
                        let t0 = Instant::now();
                        match client.call_tool(&tool, arguments.clone()).await {
                            Ok(r) => {
                                tally.latencies.push(t0.elapsed());
                                if r.is_error {
                                    tally.tool_errors += 1;
                                }
                            }
                            Err(e) => *tally.errors.entry(kind(&e)).or_default() += 1,
                        }
                    }
                    tally
                })
            })
            .collect();
        let mut all = Tally::default();
        let mut lost_workers = 0;
        for w in workers {
            match w.await {
                Ok(t) => {
                    all.latencies.extend(t.latencies);
                    all.tool_errors += t.tool_errors;
                    for (k, n) in t.errors {
                        *all.errors.entry(k).or_default() += n;
                    }
                }
                Err(_) => lost_workers += 1,
            }
        }
        let elapsed = started.elapsed();
        let stats = server.client.stats();
        let tail = server.stderr_tail();
        server.close(rt).await;

        let ok = all.latencies.len();
        let failed: u64 = all.errors.values().sum();
        let accounted = ok + failed as usize;
        all.latencies.sort_unstable();
        println!("runtime      {}", E::NAME);
        println!("calls        {calls} ({in_flight} in flight)");
        println!("elapsed      {:.3} s", elapsed.as_secs_f64());
        println!(
            "calls/s      {:.0}",
            accounted as f64 / elapsed.as_secs_f64()
        );
        if ok > 0 {
            println!("p50          {}", ms(percentile(&all.latencies, 0.50)));
            println!("p99          {}", ms(percentile(&all.latencies, 0.99)));
            println!("max          {}", ms(*all.latencies.last().unwrap()));
        }
        println!("ok           {ok} ({} with isError)", all.tool_errors);
        if all.errors.is_empty() {
            println!("errors       none");
        } else {
            for (k, n) in &all.errors {
                println!("error        {k}: {n}");
            }
        }
        println!(
            "client       requests {}, responses {}, cancels {}, timeouts {}, malformed {}, connects {}",
            stats.requests,
            stats.responses,
            stats.cancels,
            stats.timeouts,
            stats.malformed,
            stats.connects
        );
        if accounted != calls || lost_workers > 0 {
            eprintln!(
                "mcp bench: {} of {calls} calls unaccounted for ({lost_workers} workers lost){tail}",
                calls - accounted.min(calls)
            );
            return Ok(ExitCode::FAILURE);
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    // Nearest rank: the smallest value with at least q of the samples at
    // or below it.
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// An error's kind, for the report: the variant, and the transport's.
fn kind(e: &McpError) -> String {
    match e {
        McpError::Transport(t) => format!(
            "transport/{}",
            match t {
                TransportError::Closed => "closed",
                TransportError::Io(_) => "io",
                TransportError::Exited { .. } => "exited",
                TransportError::Connect(_) => "connect",
                TransportError::Http { .. } => "http",
                TransportError::Overloaded { .. } => "overloaded",
                TransportError::Protocol(_) => "protocol",
                _ => "other",
            }
        ),
        McpError::Timeout(k) => format!("timeout/{k:?}").to_lowercase(),
        McpError::Server(o) => format!("server/{}", o.code),
        McpError::Decode(_) => "decode".into(),
        McpError::Protocol(_) => "protocol".into(),
        McpError::Cancelled => "cancelled".into(),
        McpError::Closed => "closed".into(),
        McpError::RateLimited { .. } => "rate-limited".into(),
        McpError::CircuitOpen { .. } => "circuit-open".into(),
        McpError::Rejected(_) => "rejected".into(),
        McpError::UnknownTool(_) => "unknown-tool".into(),
        McpError::UnknownServer(_) => "unknown-server".into(),
        _ => "other".into(),
    }
}
