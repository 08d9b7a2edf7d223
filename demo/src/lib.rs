//! The `tool_calls` demonstration of weir, as a library so that the example
//! stays thin and the integration test runs the same code.
//!
//! An AI agent fires a burst of tool calls at a few tool servers (embedded
//! here, on loopback TCP, speaking MCP's newline-delimited JSON-RPC 2.0).
//! The servers are slow, rate-limited, sometimes fail, and one goes down for
//! a while. The demo runs the same burst twice: naively (everything at once)
//! and through a per-server policy with priorities, and reports both side by
//! side.
//!
//! ```no_run
//! use weir_demo::{DemoConfig, cli::RuntimeChoice};
//! let report = weir_demo::run(RuntimeChoice::Smol, &DemoConfig::new(200, 1)).unwrap();
//! report.check().unwrap();
//! println!("{}", report.table());
//! ```

#![warn(missing_docs)]

pub mod cli;
pub mod client;
pub mod error;
pub mod frame;
pub mod net;
pub mod outcome;
pub mod policy;
pub mod pool;
pub mod progress;
pub mod protocol;
pub mod report;
pub mod run;
pub mod server;
pub mod spec;
pub mod workload;

use std::io;
use std::sync::Arc;

use cli::RuntimeChoice;
use net::NetRuntime;
use report::Report;
use run::RunSetup;
use spec::ServerSpec;

/// What to run.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Number of tool calls.
    pub calls: usize,
    /// Seed for the workload, the servers and the jitter.
    pub seed: u64,
    /// The servers.
    pub servers: Vec<ServerSpec>,
    /// Connections per server.
    pub connections: usize,
    /// Draw progress bars (only when stdout is a terminal).
    pub progress: bool,
}

impl DemoConfig {
    /// The demonstration's servers, `calls` calls, progress bars on.
    ///
    /// ```
    /// let c = weir_demo::DemoConfig::new(2_000, 42);
    /// assert_eq!(c.servers.len(), 3);
    /// ```
    pub fn new(calls: usize, seed: u64) -> Self {
        DemoConfig {
            calls,
            seed,
            servers: ServerSpec::demo_set(),
            connections: 4,
            progress: true,
        }
    }

    /// Short downtime and tails, no progress bar: for tests.
    ///
    /// ```
    /// assert!(!weir_demo::DemoConfig::quick(200, 1).progress);
    /// ```
    pub fn quick(calls: usize, seed: u64) -> Self {
        DemoConfig {
            servers: ServerSpec::quick_set(),
            progress: false,
            ..DemoConfig::new(calls, seed)
        }
    }
}

/// Runs both runs on `rt` (inside that runtime's context).
///
/// # Errors
///
/// When the embedded servers cannot start.
pub async fn run_on<R: NetRuntime>(rt: R, config: &DemoConfig) -> io::Result<Report> {
    let setup = RunSetup {
        calls: Arc::new(workload::generate(
            config.calls,
            &config.servers,
            config.seed,
        )),
        specs: config.servers.clone(),
        seed: config.seed,
        connections: config.connections,
        progress: config.progress,
    };
    let naive = run::naive(&rt, &setup).await?;
    let policy = run::with_policy(&rt, &setup).await?;
    Ok(Report {
        runtime: String::new(),
        seed: config.seed,
        naive,
        policy,
    })
}

/// Starts the chosen runtime and runs both runs on it.
///
/// # Errors
///
/// When the runtime or the embedded servers cannot start.
pub fn run(runtime: RuntimeChoice, config: &DemoConfig) -> io::Result<Report> {
    let mut report = match runtime {
        RuntimeChoice::Smol => smol::block_on(run_on(weir::Smol, config)),
        RuntimeChoice::Tokio => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?
            .block_on(run_on(weir::Tokio, config)),
        RuntimeChoice::AsyncStd => async_std::task::block_on(run_on(weir::AsyncStd, config)),
    }?;
    report.runtime = runtime.name().into();
    Ok(report)
}
