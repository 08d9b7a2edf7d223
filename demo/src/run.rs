//! The two runs over the same calls: naive (everything at once, no policy)
//! and with a policy per server and priorities.

use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use weir::resilience::State;
use weir::sched::{Job, Scheduler, Shutdown};

use crate::error::CallError;
use crate::net::NetRuntime;
use crate::outcome::{Outcome, Tally};
use crate::policy::ServerPolicy;
use crate::pool::ConnPool;
use crate::progress::Progress;
use crate::report::{RunReport, RunTotals};
use crate::server::ServerFarm;
use crate::spec::ServerSpec;
use crate::workload::{Priority, ToolCall};

/// What both runs share: the servers' behaviour, the calls, the knobs.
#[derive(Debug, Clone)]
pub struct RunSetup {
    /// The servers.
    pub specs: Vec<ServerSpec>,
    /// The calls, the same for both runs.
    pub calls: Arc<Vec<ToolCall>>,
    /// Seeds the servers and the policies' jitter.
    pub seed: u64,
    /// Connections per server.
    pub connections: usize,
    /// Draw a progress bar (when stdout is a terminal).
    pub progress: bool,
}

struct Fixture<R: NetRuntime> {
    farm: ServerFarm,
    pools: Vec<Arc<ConnPool<R>>>,
}

impl<R: NetRuntime> Fixture<R> {
    /// Fresh servers for each run, so both see the same downtime window
    /// relative to their start and neither inherits the other's quota.
    fn start(rt: &R, setup: &RunSetup) -> io::Result<Self> {
        let farm = ServerFarm::start(&setup.specs, setup.seed)?;
        let pools = setup
            .specs
            .iter()
            .map(|s| {
                let addr = farm.addr(s.name).expect("every spec was bound");
                ConnPool::new(rt.clone(), addr, setup.connections)
                    .map(Arc::new)
                    .map_err(io::Error::other)
            })
            .collect::<io::Result<_>>()?;
        Ok(Fixture { farm, pools })
    }

    async fn finish(self, setup: &RunSetup) -> (u64, u64) {
        for p in &self.pools {
            p.close().await;
        }
        setup
            .specs
            .iter()
            .filter_map(|s| self.farm.counts(s.name))
            .fold((0, 0), |(r, l), c| (r + c.requests, l + c.rate_limited))
    }
}

async fn send<R: NetRuntime>(pool: &ConnPool<R>, call: &ToolCall) -> Result<(), CallError> {
    let conn = pool.get().await?;
    conn.call(call.tool, call.arguments.clone()).await.map(drop)
}

/// Fires every call at once with no policy: no pacing, no timeout, no
/// retry.
///
/// # Errors
///
/// When the servers cannot start.
pub async fn naive<R: NetRuntime>(rt: &R, setup: &RunSetup) -> io::Result<RunReport> {
    let fixture = Fixture::start(rt, setup)?;
    let n = setup.calls.len();
    let tally = Arc::new(Tally::default());
    let t = tally.clone();
    let progress = Progress::start(
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
            let (calls, pool, tally, rt2) = (
                setup.calls.clone(),
                fixture.pools[setup.calls[i].server].clone(),
                tally.clone(),
                rt.clone(),
            );
            rt.spawn(async move {
                let result = send(&pool, &calls[i]).await;
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
    progress.finish();
    let (server_requests, server_rate_limited) = fixture.finish(setup).await;
    Ok(RunReport::new(
        "naive",
        n,
        &outcomes,
        RunTotals {
            wall,
            server_requests,
            server_rate_limited,
            ..RunTotals::default()
        },
    ))
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
    let fixture = Fixture::start(rt, setup)?;
    let n = setup.calls.len();
    let mut policies = Vec::new();
    let mut schedulers = Vec::new();
    for (i, spec) in setup.specs.iter().enumerate() {
        let seed = setup.seed.wrapping_add(i as u64);
        let policy = ServerPolicy::for_server(rt.clone(), spec, seed).map_err(io::Error::other)?;
        let sched = Scheduler::builder()
            .max_concurrent(policy.concurrency)
            .queue_capacity(n.max(1))
            .build(rt.clone())
            .map_err(io::Error::other)?;
        policies.push(Arc::new(policy));
        schedulers.push(sched);
    }
    let tally = Arc::new(Tally::default());
    let progress = Progress::start(
        "policy",
        n as u64,
        setup.progress,
        status(tally.clone(), policies.clone(), &setup.specs),
    );
    let start = rt.now();
    let mut handles = Vec::with_capacity(n);
    for (i, call) in setup.calls.iter().enumerate() {
        let (rt2, policy, pool, calls, tally) = (
            rt.clone(),
            policies[call.server].clone(),
            fixture.pools[call.server].clone(),
            setup.calls.clone(),
            tally.clone(),
        );
        let job = Job::new(async move {
            let call = &calls[i];
            let result = policy.call(|| send(&pool, call)).await;
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
    progress.finish();
    let (server_requests, server_rate_limited) = fixture.finish(setup).await;
    let sum = |f: &dyn Fn(&ServerPolicy<R>) -> u64| policies.iter().map(|p| f(p)).sum::<u64>();
    Ok(RunReport::new(
        "policy",
        n,
        &outcomes,
        RunTotals {
            wall,
            server_requests,
            server_rate_limited,
            retries: sum(&|p| p.counters.retries.load(Ordering::Relaxed)),
            breaker_trips: sum(&|p| p.breaker.stats().opened),
            rejections: sum(&|p| p.breaker.stats().rejected),
            timeouts: sum(&|p| p.counters.timeouts.load(Ordering::Relaxed)),
        },
    ))
}

fn sched_priority(p: Priority) -> weir::sched::Priority {
    match p {
        Priority::High => weir::sched::Priority::HIGH,
        Priority::Normal => weir::sched::Priority::NORMAL,
        Priority::Low => weir::sched::Priority::LOW,
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
