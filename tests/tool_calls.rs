//! The tool_calls demonstration, small, on every real runtime: both runs
//! account for every call, the policy run fails no more calls than the
//! naive one, the slow tool's progress reaches the calls, and the attempts
//! the policy's timeout cut off are cancelled at the servers.
//!
//! The virtual runtime is left out: the demo talks to real TCP servers on
//! real time.

mod common;

use weir_demo::DemoConfig;
use weir_demo::report::Report;

const CALLS: usize = 200;

fn config() -> DemoConfig {
    let mut c = DemoConfig::quick(CALLS, 7);
    // A quarter of search's accepted calls stall past its timeout, so the
    // policy run cuts some off whatever the order the calls arrive in.
    c.servers[0].slow_share = 0.25;
    c
}

fn assert_report(report: Report) {
    if let Err(msg) = report.check() {
        panic!("{msg}\n{}", report.table());
    }
    for run in [&report.naive, &report.policy] {
        assert_eq!(run.ok + run.failed_total(), CALLS, "{}", report.table());
        assert_eq!(run.lost, 0);
    }
    // 200 calls at once against bursts of 15 to 30: the naive run must hit
    // the servers' quotas, and the paced run must lose fewer calls.
    assert!(
        report
            .naive
            .failed
            .get("rate_limited")
            .copied()
            .unwrap_or(0)
            > 0,
        "{}",
        report.table()
    );
    assert!(
        report.policy.failed_total() <= report.naive.failed_total(),
        "{}",
        report.table()
    );
    // The code tool works 40 ms or more and reports every 25 ms, so every
    // call of it the server accepts sends progress before its answer.
    for run in [&report.naive, &report.policy] {
        assert!(run.progress_by_tool["code"] > 0, "{}", report.table());
        assert_eq!(
            run.progress_seen,
            run.progress_by_tool.values().sum::<u64>()
        );
    }
    // Nothing in the naive run times out, so nothing is cancelled.
    assert_eq!(report.naive.cancels_sent, 0, "{}", report.table());
    assert_eq!(report.naive.server_cancel_notices, 0);
    // Every attempt cut off by the timeout had been sent (the stalled ones
    // outlast it at the server), so each is cancelled there, once.
    let p = &report.policy;
    assert!(p.timeouts > 0, "{}", report.table());
    assert!(p.cancels_sent >= 1, "{}", report.table());
    assert!(p.cancels_sent <= p.timeouts, "{}", report.table());
    assert!(
        p.server_cancel_notices <= p.cancels_sent,
        "{}",
        report.table()
    );
    assert!(p.server_cancelled <= p.server_cancel_notices);
    assert!(p.server_cancelled > 0, "{}", report.table());
}

#[cfg(feature = "smol")]
#[test]
fn on_smol() {
    assert_report(common::smol(weir_demo::run_on(weir::Smol, &config())).unwrap());
}

#[cfg(feature = "tokio")]
#[test]
fn on_tokio_multi_thread() {
    assert_report(common::tokio_multi(weir_demo::run_on(weir::Tokio, &config())).unwrap());
}

#[cfg(feature = "tokio")]
#[test]
fn on_tokio_current_thread() {
    assert_report(common::tokio_current(weir_demo::run_on(weir::Tokio, &config())).unwrap());
}

#[cfg(feature = "async-std")]
#[test]
fn on_async_std() {
    assert_report(common::async_std(weir_demo::run_on(weir::AsyncStd, &config())).unwrap());
}
