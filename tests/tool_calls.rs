//! The tool_calls demonstration, small, on every real runtime: both runs
//! account for every call, and the policy run fails no more calls than the
//! naive one.
//!
//! The virtual runtime is left out: the demo talks to real TCP servers on
//! real time.

mod common;

use weir_demo::DemoConfig;
use weir_demo::report::Report;

const CALLS: usize = 200;

fn config() -> DemoConfig {
    DemoConfig::quick(CALLS, 7)
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
