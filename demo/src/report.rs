//! The end-of-run report: counts by outcome, what the policy did, throughput
//! and latency per priority, naive and policy side by side.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::outcome::Outcome;
use crate::workload::Priority;

/// Latency percentiles of the calls that succeeded, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Percentiles {
    /// How many calls the percentiles are over.
    pub count: usize,
    /// Median.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
}

impl Percentiles {
    /// Nearest-rank percentiles of `samples` (sorted here).
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_demo::report::Percentiles;
    /// let mut v: Vec<_> = (1..=100).map(Duration::from_millis).collect();
    /// let p = Percentiles::of(&mut v);
    /// assert_eq!((p.p50_ms, p.p95_ms, p.p99_ms), (50.0, 95.0, 99.0));
    /// ```
    pub fn of(samples: &mut [Duration]) -> Self {
        samples.sort_unstable();
        let rank = |q: f64| -> f64 {
            if samples.is_empty() {
                return 0.0;
            }
            let i = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1;
            samples[i].as_secs_f64() * 1e3
        };
        Percentiles {
            count: samples.len(),
            p50_ms: rank(0.50),
            p95_ms: rank(0.95),
            p99_ms: rank(0.99),
        }
    }
}

/// Totals a run knows besides its outcomes.
#[derive(Debug, Clone, Default)]
pub struct RunTotals {
    /// From the burst's start to the last call's end.
    pub wall: Duration,
    /// Frames the servers received.
    pub server_requests: u64,
    /// Requests the servers refused for quota.
    pub server_rate_limited: u64,
    /// Retries the policy made.
    pub retries: u64,
    /// Times a circuit breaker opened.
    pub breaker_trips: u64,
    /// Attempts a breaker refused.
    pub rejections: u64,
    /// Attempts cut off by a timeout.
    pub timeouts: u64,
    /// Progress notifications the calls saw, by tool.
    pub progress_by_tool: BTreeMap<&'static str, u64>,
    /// `notifications/cancelled` the clients sent.
    pub cancels_sent: u64,
    /// `notifications/cancelled` the servers received.
    pub server_cancel_notices: u64,
    /// Calls whose work the servers stopped on a cancellation.
    pub server_cancelled: u64,
    /// The era and version each server's client settled on, by tool.
    pub protocol: BTreeMap<&'static str, String>,
}

/// One run's report.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// "naive" or "policy".
    pub name: &'static str,
    /// Calls submitted.
    pub calls: usize,
    /// Calls that succeeded.
    pub ok: usize,
    /// Calls that failed, by reason.
    pub failed: BTreeMap<&'static str, usize>,
    /// Calls with no outcome at all (must be zero).
    pub lost: usize,
    /// Retries made.
    pub retries: u64,
    /// Times a circuit breaker opened.
    pub breaker_trips: u64,
    /// Attempts refused by a breaker without being sent.
    pub rejections: u64,
    /// Attempts cut off by a timeout.
    pub timeouts: u64,
    /// Frames the servers received.
    pub server_requests: u64,
    /// Requests the servers refused for quota.
    pub server_rate_limited: u64,
    /// Progress notifications the calls saw, all tools.
    pub progress_seen: u64,
    /// Progress notifications the calls saw, by tool.
    pub progress_by_tool: BTreeMap<&'static str, u64>,
    /// `notifications/cancelled` the clients sent (one per abandoned
    /// request on the wire).
    pub cancels_sent: u64,
    /// `notifications/cancelled` the servers received.
    pub server_cancel_notices: u64,
    /// Calls whose work the servers stopped on a cancellation.
    pub server_cancelled: u64,
    /// The era and version each server's client settled on, by tool.
    pub protocol: BTreeMap<&'static str, String>,
    /// Wall time of the run in milliseconds.
    pub wall_ms: f64,
    /// Successful calls per second of wall time.
    pub ok_per_sec: f64,
    /// Latency of successful calls by priority, from the burst's start.
    pub latency: BTreeMap<Priority, Percentiles>,
}

impl RunReport {
    /// The report of `calls` submitted calls that ended as `outcomes`.
    pub fn new(name: &'static str, calls: usize, outcomes: &[Outcome], t: RunTotals) -> Self {
        let mut failed = BTreeMap::new();
        let mut ok_latency: BTreeMap<Priority, Vec<Duration>> = BTreeMap::new();
        for o in outcomes {
            match &o.result {
                Ok(()) => ok_latency.entry(o.priority).or_default().push(o.latency),
                Err(e) => *failed.entry(e.reason()).or_insert(0) += 1,
            }
        }
        let ok = outcomes.len() - failed.values().sum::<usize>();
        let secs = t.wall.as_secs_f64().max(1e-9);
        RunReport {
            name,
            calls,
            ok,
            failed,
            lost: calls.saturating_sub(outcomes.len()),
            retries: t.retries,
            breaker_trips: t.breaker_trips,
            rejections: t.rejections,
            timeouts: t.timeouts,
            server_requests: t.server_requests,
            server_rate_limited: t.server_rate_limited,
            progress_seen: t.progress_by_tool.values().sum(),
            progress_by_tool: t.progress_by_tool,
            cancels_sent: t.cancels_sent,
            server_cancel_notices: t.server_cancel_notices,
            server_cancelled: t.server_cancelled,
            protocol: t.protocol,
            wall_ms: secs * 1e3,
            ok_per_sec: ok as f64 / secs,
            latency: Priority::ALL
                .iter()
                .map(|p| {
                    let mut v = ok_latency.remove(p).unwrap_or_default();
                    (*p, Percentiles::of(&mut v))
                })
                .collect(),
        }
    }

    /// Calls that failed, all reasons together.
    pub fn failed_total(&self) -> usize {
        self.failed.values().sum()
    }

    /// Whether every call ended ok or with a named error, exactly once.
    pub fn check(&self) -> Result<(), String> {
        let accounted = self.ok + self.failed_total();
        if self.lost == 0 && accounted == self.calls {
            Ok(())
        } else {
            Err(format!(
                "{} run: {} ok + {} failed = {accounted}, {} lost, of {} calls",
                self.name,
                self.ok,
                self.failed_total(),
                self.lost,
                self.calls
            ))
        }
    }
}

/// Both runs of the demonstration.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The runtime the client ran on.
    pub runtime: String,
    /// The seed.
    pub seed: u64,
    /// Whether the servers were the embedded ones, which count what they
    /// see (a real server run with `--server` counts nothing for us).
    pub server_counts: bool,
    /// Everything fired at once, no policy.
    pub naive: RunReport,
    /// Through the per-server policies, by priority.
    pub policy: RunReport,
}

impl Report {
    /// Checks both runs (see [`RunReport::check`]).
    ///
    /// # Errors
    ///
    /// Describes the first run whose counts do not add up.
    pub fn check(&self) -> Result<(), String> {
        self.naive.check()?;
        self.policy.check()
    }

    /// Writes the report as pretty JSON to `path`.
    ///
    /// # Errors
    ///
    /// When the file cannot be written.
    pub fn write_json(&self, path: &std::path::Path) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(path, json)
    }

    /// The side-by-side table.
    pub fn table(&self) -> String {
        let (a, b) = (&self.naive, &self.policy);
        let mut out = String::new();
        let mut row = |label: &str, x: String, y: String| {
            let _ = writeln!(out, "  {label:<34} {x:>18} {y:>18}");
        };
        row("", "naive".into(), "policy".into());
        row("calls", a.calls.to_string(), b.calls.to_string());
        row("ok", a.ok.to_string(), b.ok.to_string());
        row(
            "failed",
            a.failed_total().to_string(),
            b.failed_total().to_string(),
        );
        let mut reasons: Vec<&str> = a.failed.keys().chain(b.failed.keys()).copied().collect();
        reasons.sort_unstable();
        reasons.dedup();
        for r in reasons {
            let get = |x: &RunReport| x.failed.get(r).copied().unwrap_or(0).to_string();
            row(&format!("  {r}"), get(a), get(b));
        }
        row("lost (must be 0)", a.lost.to_string(), b.lost.to_string());
        row("retries", a.retries.to_string(), b.retries.to_string());
        row(
            "breaker trips",
            a.breaker_trips.to_string(),
            b.breaker_trips.to_string(),
        );
        row(
            "rejections (breaker open)",
            a.rejections.to_string(),
            b.rejections.to_string(),
        );
        row(
            "attempts timed out",
            a.timeouts.to_string(),
            b.timeouts.to_string(),
        );
        let server = |n: u64| {
            if self.server_counts {
                n.to_string()
            } else {
                "-".to_string()
            }
        };
        row(
            "progress events seen",
            a.progress_seen.to_string(),
            b.progress_seen.to_string(),
        );
        let mut tools: Vec<&str> = a.progress_by_tool.keys().copied().collect();
        tools.dedup();
        for tool in tools {
            let get = |x: &RunReport| {
                x.progress_by_tool
                    .get(tool)
                    .copied()
                    .unwrap_or(0)
                    .to_string()
            };
            row(&format!("  {tool}"), get(a), get(b));
        }
        row(
            "cancellations sent",
            a.cancels_sent.to_string(),
            b.cancels_sent.to_string(),
        );
        row(
            "  received by the servers",
            server(a.server_cancel_notices),
            server(b.server_cancel_notices),
        );
        row(
            "  work stopped by them",
            server(a.server_cancelled),
            server(b.server_cancelled),
        );
        row("protocol (era, version)", String::new(), String::new());
        for (tool, era) in &b.protocol {
            let naive = a.protocol.get(tool).cloned().unwrap_or_default();
            row(&format!("  {tool}"), naive, era.clone());
        }
        row(
            "requests the servers saw",
            server(a.server_requests),
            server(b.server_requests),
        );
        row(
            "  refused over quota",
            server(a.server_rate_limited),
            server(b.server_rate_limited),
        );
        row(
            "wall time (s)",
            format!("{:.2}", a.wall_ms / 1e3),
            format!("{:.2}", b.wall_ms / 1e3),
        );
        row(
            "throughput (ok calls/s)",
            format!("{:.0}", a.ok_per_sec),
            format!("{:.0}", b.ok_per_sec),
        );
        row(
            "latency of ok calls (ms) p50/p95/p99",
            String::new(),
            String::new(),
        );
        for p in Priority::ALL {
            let fmt = |x: &RunReport| {
                let l = x.latency.get(&p).copied().unwrap_or_default();
                if l.count == 0 {
                    "-".to_string()
                } else {
                    format!("{:.0}/{:.0}/{:.0}", l.p50_ms, l.p95_ms, l.p99_ms)
                }
            };
            row(&format!("  {p}"), fmt(a), fmt(b));
        }
        out
    }
}
