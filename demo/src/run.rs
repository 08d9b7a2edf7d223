//! The two runs over the same calls: naive (everything at once, no policy)
//! and with a policy per server and priorities.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use parking_lot::Mutex;

use crate::error::CallError;
use crate::net::NetRuntime;
use crate::outcome::{Outcome, Tally};
use crate::policy::ServerPolicy;
use crate::pool::ConnPool;
use crate::progress::Progress;
use crate::report::{RunReport, RunTotals};
use crate::server::ServerFarm;
use crate::spec::ServerSpec;
use crate::stand_in::breaker::BreakerState;
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

struct Fixture<R> {
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
                Arc::new(ConnPool::new(rt.clone(), addr, setup.connections))
            })
            .collect();
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

/// A call waiting in its server's queue: highest priority first, then
/// workload order.
type Queued = (Priority, Reverse<usize>);

/// Runs every call through its server's [`ServerPolicy`], highest priority
/// first, with `policy.concurrency` calls in flight per server.
///
/// # Errors
///
/// When the servers cannot start.
pub async fn with_policy<R: NetRuntime>(rt: &R, setup: &RunSetup) -> io::Result<RunReport> {
    let fixture = Fixture::start(rt, setup)?;
    let n = setup.calls.len();
    let policies: Vec<Arc<ServerPolicy<R>>> = setup
        .specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let seed = setup.seed.wrapping_add(i as u64);
            Arc::new(ServerPolicy::for_server(rt.clone(), s, seed))
        })
        .collect();
    // Stands for weir's Scheduler: one priority queue per server, drained by
    // a fixed number of workers (the concurrency bound).
    let queues: Vec<Arc<Mutex<BinaryHeap<Queued>>>> = (0..setup.specs.len())
        .map(|_| Arc::new(Mutex::new(BinaryHeap::new())))
        .collect();
    for c in setup.calls.iter() {
        queues[c.server].lock().push((c.priority, Reverse(c.seq)));
    }
    let tally = Arc::new(Tally::default());
    let progress = Progress::start(
        "policy",
        n as u64,
        setup.progress,
        status(tally.clone(), policies.clone(), &setup.specs),
    );
    let results = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let start = rt.now();
    let mut workers = Vec::new();
    for (s, policy) in policies.iter().enumerate() {
        for _ in 0..policy.concurrency {
            let (rt2, queue, policy, pool, calls, tally, results) = (
                rt.clone(),
                queues[s].clone(),
                policy.clone(),
                fixture.pools[s].clone(),
                setup.calls.clone(),
                tally.clone(),
                results.clone(),
            );
            workers.push(rt.spawn(async move {
                loop {
                    let next = queue.lock().pop();
                    let Some((_, Reverse(seq))) = next else { break };
                    let call = &calls[seq];
                    let result = policy.call(|| send(&pool, call)).await;
                    let o = outcome(&rt2, start, call.priority, result);
                    tally.record(&o);
                    results.lock().push(o);
                }
            }));
        }
    }
    for w in workers {
        // A worker that panicked loses its current call; the report counts
        // it as lost and the run's check fails.
        let _ = w.await;
    }
    let wall = rt.now() - start;
    progress.finish();
    let (server_requests, server_rate_limited) = fixture.finish(setup).await;
    let outcomes = std::mem::take(&mut *results.lock());
    let sum = |f: fn(&ServerPolicy<R>) -> u64| policies.iter().map(|p| f(p)).sum::<u64>();
    Ok(RunReport::new(
        "policy",
        n,
        &outcomes,
        RunTotals {
            wall,
            server_requests,
            server_rate_limited,
            retries: sum(|p| p.counters.retries.load(Ordering::Relaxed)),
            breaker_trips: sum(|p| p.breaker_trips()),
            rejections: sum(|p| p.counters.rejections.load(Ordering::Relaxed)),
            timeouts: sum(|p| p.counters.timeouts.load(Ordering::Relaxed)),
        },
    ))
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
                    BreakerState::Closed => "closed",
                    BreakerState::Open => "OPEN",
                    BreakerState::HalfOpen => "half-open",
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
