//! The tool_calls demonstration, small, on every real runtime: both runs
//! account for every call, the policy run fails no more calls than the
//! naive one, the slow tool's progress reaches the calls, and the attempts
//! the policy's timeout cut off are cancelled at the servers.
//!
//! The virtual runtime is left out: the demo talks to real TCP servers on
//! real time.

mod common;

use weir_demo::DemoConfig;
use weir_demo::cli::Args;
use weir_demo::report::Report;
use weir_demo::run::Target;

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
    // search answers the modern probe; fetch and code are legacy servers,
    // so their clients fall back to the initialize handshake.
    for run in [&report.naive, &report.policy] {
        assert!(
            run.protocol["search"].starts_with("modern "),
            "{}",
            report.table()
        );
        assert!(
            run.protocol["fetch"].starts_with("legacy "),
            "{}",
            report.table()
        );
        assert!(
            run.protocol["code"].starts_with("legacy "),
            "{}",
            report.table()
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

/// The same burst against a real MCP server over stdio (`--server`):
/// `@modelcontextprotocol/server-everything` as `.ci/mcp-peers.sh` installs
/// it, its long-running tool reporting 4 steps of progress per call.
fn everything() -> Option<DemoConfig> {
    let dir = match std::env::var_os("WEIR_MCP_PEERS_DIR") {
        Some(d) => std::path::PathBuf::from(d),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/mcp-peers"),
    };
    let entry = dir.join("npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    if !entry.exists() {
        let msg = format!(
            "MCP PEER MISSING: server-everything not found at {}; run `bash .ci/mcp-peers.sh`",
            entry.display()
        );
        assert!(
            std::env::var("WEIR_REQUIRE_MCP_PEERS").as_deref() != Ok("1"),
            "{msg} (WEIR_REQUIRE_MCP_PEERS=1)"
        );
        eprintln!("\n!!!! SKIPPED: {msg} !!!!\n");
        return None;
    }
    let args = Args::parse([
        "--calls".to_string(),
        REAL_CALLS.to_string(),
        "--server".into(),
        format!("node {} stdio", entry.display()),
        "--tool".into(),
        "trigger-long-running-operation".into(),
        "--args".into(),
        r#"{"duration": 0.2, "steps": 4}"#.into(),
    ])
    .unwrap();
    let mut c = DemoConfig::for_args(&args);
    c.progress = false;
    Some(c)
}

const REAL_CALLS: usize = 40;

fn assert_real(report: Report) {
    if let Err(msg) = report.check() {
        panic!("{msg}\n{}", report.table());
    }
    for run in [&report.naive, &report.policy] {
        assert_eq!(run.ok, REAL_CALLS, "{}", report.table());
        // Every step's report reaches its call before the result does.
        assert_eq!(
            run.progress_by_tool["trigger-long-running-operation"],
            4 * REAL_CALLS as u64,
            "{}",
            report.table()
        );
    }
}

/// A command that cannot start is an error of the demo, not a hang.
fn missing() -> DemoConfig {
    let mut c = DemoConfig::quick(10, 1);
    c.target = Target::Command("/nonexistent/weir-demo-no-such-server".into());
    c
}

#[cfg(feature = "smol")]
#[test]
fn a_real_server_on_smol() {
    assert!(common::smol(weir_demo::run_on(weir::Smol, &missing())).is_err());
    if let Some(c) = everything() {
        assert_real(common::smol(weir_demo::run_on(weir::Smol, &c)).unwrap());
    }
}

#[cfg(feature = "tokio")]
#[test]
fn a_real_server_on_tokio_multi_thread() {
    assert!(common::tokio_multi(weir_demo::run_on(weir::Tokio, &missing())).is_err());
    if let Some(c) = everything() {
        assert_real(common::tokio_multi(weir_demo::run_on(weir::Tokio, &c)).unwrap());
    }
}

#[cfg(feature = "tokio")]
#[test]
fn a_real_server_on_tokio_current_thread() {
    assert!(common::tokio_current(weir_demo::run_on(weir::Tokio, &missing())).is_err());
    if let Some(c) = everything() {
        assert_real(common::tokio_current(weir_demo::run_on(weir::Tokio, &c)).unwrap());
    }
}

#[cfg(feature = "async-std")]
#[test]
fn a_real_server_on_async_std() {
    assert!(common::async_std(weir_demo::run_on(weir::AsyncStd, &missing())).is_err());
    if let Some(c) = everything() {
        assert_real(common::async_std(weir_demo::run_on(weir::AsyncStd, &c)).unwrap());
    }
}
