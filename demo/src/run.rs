//! The two runs over the same calls: naive (everything at once, no policy)
//! and with a policy per server and priorities. Both speak MCP through
//! weir-mcp's `Client`, one connection per server carrying every call.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use weir::mcp::manager::BoxConnect;
use weir::mcp::transport::Era;
use weir::mcp::{Client, Stats};
use weir::resilience::State;
use weir::{Job, Scheduler, Shutdown};

use crate::error::CallError;
use crate::net::{self, NetRuntime};
use crate::outcome::{Outcome, Tally};
use crate::policy::{ServerPolicy, tool_call};
use crate::progress::Progress;
use crate::report::{RunReport, RunTotals};
use crate::server::ServerFarm;
use crate::spec::ServerSpec;
use crate::workload::{Priority, ToolCall};

/// Which servers the burst goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The embedded servers, on loopback TCP (fresh ones for each run).
    Embedded,
    /// A real MCP server started with this command line (`--server`), over
    /// weir-mcp's stdio transport; the one spec names its tool.
    Command(String),
}

/// What both runs share: the servers' behaviour, the calls, the knobs.
#[derive(Debug, Clone)]
pub struct RunSetup {
    /// The servers.
    pub specs: Vec<ServerSpec>,
    /// Where they are.
    pub target: Target,
    /// The calls, the same for both runs.
    pub calls: Arc<Vec<ToolCall>>,
    /// Seeds the servers and the policies' jitter.
    pub seed: u64,
    /// Draw a progress bar (when stdout is a terminal).
    pub progress: bool,
}

/// A client's counts and the era it settled with its server.
type ClientView = (Stats, Option<(Era, &'static str)>);

/// One connector per spec, to fresh servers.
struct Fixture<R: NetRuntime> {
    farm: Option<ServerFarm>,
    connectors: Vec<BoxConnect<R>>,
    progress: Arc<Vec<AtomicU64>>,
}

impl<R: NetRuntime> Fixture<R> {
    /// Fresh servers for each run, so both see the same downtime window
    /// relative to their start and neither inherits the other's quota.
    fn start(rt: &R, setup: &RunSetup) -> io::Result<Self> {
        let progress = Arc::new(setup.specs.iter().map(|_| AtomicU64::new(0)).collect());
        match &setup.target {
            Target::Embedded => {
                let farm = ServerFarm::start(&setup.specs, setup.seed)?;
                let connectors = setup
                    .specs
                    .iter()
                    .map(|s| net::tcp(rt.clone(), farm.addr(s.name).expect("every spec was bound")))
                    .collect();
                Ok(Fixture {
                    farm: Some(farm),
                    connectors,
                    progress,
                })
            }
            Target::Command(line) => {
                let connectors = setup
                    .specs
                    .iter()
                    .map(|_| net::stdio(rt.clone(), line).map_err(io::Error::other))
                    .collect::<io::Result<_>>()?;
                Ok(Fixture {
                    farm: None,
                    connectors,
                    progress,
                })
            }
        }
    }

    /// What the servers and the clients counted, once every call ended;
    /// `clients` gives each server's client stats and settled era.
    fn totals(&self, setup: &RunSetup, clients: &[ClientView]) -> RunTotals {
        let mut t = RunTotals::default();
        if let Some(farm) = &self.farm {
            for c in setup.specs.iter().filter_map(|s| farm.counts(s.name)) {
                t.server_requests += c.requests;
                t.server_rate_limited += c.rate_limited;
                t.server_cancelled += c.cancelled;
                t.server_cancel_notices += c.cancel_notices;
            }
        }
        t.cancels_sent = clients.iter().map(|c| c.0.cancels).sum();
        t.protocol = setup
            .specs
            .iter()
            .zip(clients)
            .map(|(s, c)| {
                let era = match c.1 {
                    Some((Era::Modern, v)) => format!("modern {v}"),
                    Some((_, v)) => format!("legacy {v}"),
                    None => "none".to_string(),
                };
                (s.name, era)
            })
            .collect();
        t.progress_by_tool = setup
            .specs
            .iter()
            .zip(self.progress.iter())
            .map(|(s, p)| (s.name, p.load(Ordering::Relaxed)))
            .collect();
        t
    }
}

/// Fires every call at once with no policy: no pacing, no timeout, no
/// retry.
///
/// # Errors
///
/// When the servers cannot start.
pub async fn naive<R: NetRuntime>(rt: &R, setup: &RunSetup) -> io::Result<RunReport> {
    let mut fixture = Fixture::start(rt, setup)?;
    let clients: Vec<_> = std::mem::take(&mut fixture.connectors)
        .into_iter()
        .map(|c| {
            Arc::new(
                Client::builder(rt.clone())
                    .idle_timeout(None)
                    .timeout(None)
                    .client_info("weir-demo", env!("CARGO_PKG_VERSION"))
                    .build_boxed(c),
            )
        })
        .collect();
    let n = setup.calls.len();
    let tally = Arc::new(Tally::default());
    let t = tally.clone();
    let bar = Progress::start(
        "naive",
        n as u64,
        setup.progress,
        Box::new(move || {
            let (ok, failed) = t.snapshot();
            (ok + failed, format!("ok {ok}  failed {failed}"))
        }),
    );
    let start = rt.now();
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let server = setup.calls[i].server;
            let (calls, client, tally, rt2, progress) = (
                setup.calls.clone(),
                clients[server].clone(),
                tally.clone(),
                rt.clone(),
                fixture.progress.clone(),
            );
            rt.spawn(async move {
                let result = tool_call(&client, &calls[i], &progress[server]).await;
                let o = outcome(&rt2, start, calls[i].priority, result);
                tally.record(&o);
                o
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(n);
    for (i, h) in handles.into_iter().enumerate() {
        outcomes.push(h.await.unwrap_or_else(|_| Outcome {
            priority: setup.calls[i].priority,
            latency: rt.now() - start,
            result: Err(CallError::Panicked),
        }));
    }
    let wall = rt.now() - start;
    bar.finish();
    let views: Vec<ClientView> = clients.iter().map(|c| (c.stats(), c.era())).collect();
    for c in &clients {
        c.close();
    }
    let totals = RunTotals {
        wall,
        ..fixture.totals(setup, &views)
    };
    Ok(RunReport::new("naive", n, &outcomes, totals))
}

fn outcome<R: NetRuntime>(
    rt: &R,
    start: Instant,
    priority: Priority,
    result: Result<(), CallError>,
) -> Outcome {
    Outcome {
        priority,
        latency: rt.now() - start,
        result,
    }
}

/// Runs every call through its server's [`ServerPolicy`] on a per-server
/// weir `Scheduler`: at most `policy.concurrency` calls in progress per
/// server, the highest priority first.
///
/// # Errors
///
/// When the servers cannot start or a component rejects its configuration.
pub async fn with_policy<R: NetRuntime>(rt: &R, setup: &RunSetup) -> io::Result<RunReport> {
    let mut fixture = Fixture::start(rt, setup)?;
    let n = setup.calls.len();
    let mut policies = Vec::new();
    let mut schedulers = Vec::new();
    let connectors = std::mem::take(&mut fixture.connectors);
    for (i, (spec, connect)) in setup.specs.iter().zip(connectors).enumerate() {
        let seed = setup.seed.wrapping_add(i as u64);
        let policy =
            ServerPolicy::for_server(rt.clone(), spec, seed, connect).map_err(io::Error::other)?;
        let sched = Scheduler::builder()
            .max_concurrent(policy.concurrency)
            .queue_capacity(n.max(1))
            .build(rt.clone())
            .map_err(io::Error::other)?;
        policies.push(Arc::new(policy));
        schedulers.push(sched);
    }
    let tally = Arc::new(Tally::default());
    let bar = Progress::start(
        "policy",
        n as u64,
        setup.progress,
        status(tally.clone(), policies.clone(), &setup.specs),
    );
    let start = rt.now();
    let mut handles = Vec::with_capacity(n);
    for (i, call) in setup.calls.iter().enumerate() {
        let (rt2, policy, calls, tally, progress) = (
            rt.clone(),
            policies[call.server].clone(),
            setup.calls.clone(),
            tally.clone(),
            fixture.progress.clone(),
        );
        let job = Job::new(async move {
            let call = &calls[i];
            let result = policy.call(call, &progress[call.server]).await;
            let o = outcome(&rt2, start, call.priority, result);
            tally.record(&o);
            o
        })
        .priority(sched_priority(call.priority));
        handles.push(
            schedulers[call.server]
                .submit(job)
                .map_err(|_| CallError::Rejected),
        );
    }
    let mut outcomes = Vec::with_capacity(n);
    for (i, h) in handles.into_iter().enumerate() {
        let failed = |e: CallError| {
            let o = outcome(rt, start, setup.calls[i].priority, Err(e));
            tally.record(&o);
            o
        };
        outcomes.push(match h {
            Ok(handle) => handle.await.unwrap_or_else(|_| failed(CallError::Panicked)),
            Err(e) => failed(e),
        });
    }
    let wall = rt.now() - start;
    for s in &schedulers {
        s.shutdown(Shutdown::Graceful).await;
    }
    bar.finish();
    let views: Vec<ClientView> = policies
        .iter()
        .map(|p| (p.client.stats(), p.client.era()))
        .collect();
    for p in &policies {
        p.client.close();
    }
    let sum = |f: &dyn Fn(&ServerPolicy<R>) -> u64| policies.iter().map(|p| f(p)).sum::<u64>();
    let totals = RunTotals {
        wall,
        retries: sum(&|p| p.counters.retries.load(Ordering::Relaxed)),
        breaker_trips: sum(&|p| p.breaker.stats().opened),
        rejections: sum(&|p| p.breaker.stats().rejected),
        timeouts: sum(&|p| p.counters.timeouts.load(Ordering::Relaxed)),
        ..fixture.totals(setup, &views)
    };
    Ok(RunReport::new("policy", n, &outcomes, totals))
}

fn sched_priority(p: Priority) -> weir::Priority {
    match p {
        Priority::High => weir::Priority::HIGH,
        Priority::Normal => weir::Priority::NORMAL,
        Priority::Low => weir::Priority::LOW,
    }
}

fn status<R: NetRuntime>(
    tally: Arc<Tally>,
    policies: Vec<Arc<ServerPolicy<R>>>,
    specs: &[ServerSpec],
) -> crate::progress::Status {
    let names: Vec<&'static str> = specs.iter().map(|s| s.name).collect();
    Box::new(move || {
        let (ok, failed) = tally.snapshot();
        let retrying: u64 = policies
            .iter()
            .map(|p| p.counters.retrying.load(Ordering::Relaxed))
            .sum();
        let breakers: Vec<String> = names
            .iter()
            .zip(&policies)
            .map(|(name, p)| {
                let state = match p.breaker_state() {
                    State::Closed => "closed",
                    State::Open => "OPEN",
                    State::HalfOpen => "half-open",
                    _ => "manual",
                };
                format!("{name}:{state}")
            })
            .collect();
        let msg = format!(
            "ok {ok}  failed {failed}  retrying {retrying}  | {}",
            breakers.join(" ")
        );
        (ok + failed, msg)
    })
}
