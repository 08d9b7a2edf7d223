//! The `tool_calls` demonstration of weir, as a library so that the example
//! stays thin and the integration test runs the same code.
//!
//! An AI agent fires a burst of tool calls at a few MCP tool servers
//! (embedded here, on loopback TCP with MCP's newline-delimited JSON-RPC
//! framing, or any real server run with `--server`), through weir-mcp's
//! `Client`. The servers are slow, rate-limited, sometimes fail, report
//! progress on long calls, and one goes down for a while. The demo runs the
//! same burst twice: naively (everything at once) and through a per-server
//! policy with priorities, and reports both side by side.
//!
//! ```no_run
//! use weir_demo::{DemoConfig, cli::RuntimeChoice};
//! let report = weir_demo::run(RuntimeChoice::Smol, &DemoConfig::new(200, 1)).unwrap();
//! report.check().unwrap();
//! println!("{}", report.table());
//! ```

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod cli;
pub mod error;
pub mod net;
pub mod outcome;
pub mod policy;
pub mod progress;
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
use run::{RunSetup, Target};
use serde_json::{Value, json};
use spec::ServerSpec;
use weir::mcp::Client;

/// What to run.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Number of tool calls.
    pub calls: usize,
    /// Seed for the workload, the servers and the jitter.
    pub seed: u64,
    /// The servers (for [`Target::Command`], replaced by the one tool
    /// called).
    pub servers: Vec<ServerSpec>,
    /// Where the servers are.
    pub target: Target,
    /// With [`Target::Command`]: the tool to call (default: `echo` if
    /// listed, else the first tool listed).
    pub tool: Option<String>,
    /// With [`Target::Command`]: the tool's arguments (default: a
    /// `message` for `echo`, else `{}`).
    pub arguments: Option<Value>,
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
            target: Target::Embedded,
            tool: None,
            arguments: None,
            progress: true,
        }
    }

    /// What the command line asks for: the demonstration's servers, or the
    /// one run with `--server`.
    ///
    /// ```
    /// use weir_demo::{DemoConfig, cli::Args, run::Target};
    /// let a = Args::parse(["--server", "my-server --stdio", "--tool", "echo"].map(String::from)).unwrap();
    /// let c = DemoConfig::for_args(&a);
    /// assert_eq!(c.target, Target::Command("my-server --stdio".into()));
    /// assert_eq!(c.tool.as_deref(), Some("echo"));
    /// ```
    pub fn for_args(args: &cli::Args) -> Self {
        let mut c = DemoConfig::new(args.calls, args.seed);
        if let Some(line) = &args.server {
            c.target = Target::Command(line.clone());
            c.tool = args.tool.clone();
            c.arguments = args.args.clone();
        }
        c
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
/// When the embedded servers cannot start, or the `--server` command
/// cannot be run or lists no tool.
pub async fn run_on<R: NetRuntime>(rt: R, config: &DemoConfig) -> io::Result<Report> {
    let mut specs = config.servers.clone();
    let mut fixed_arguments = None;
    if let Target::Command(line) = &config.target {
        let (tool, arguments) = pick_tool(&rt, line, config).await?;
        specs = vec![ServerSpec::external(&tool)];
        fixed_arguments = Some(arguments);
    }
    let mut calls = workload::generate(config.calls, &specs, config.seed);
    if let Some(arguments) = fixed_arguments {
        for c in &mut calls {
            c.arguments = arguments.clone();
        }
    }
    let setup = RunSetup {
        calls: Arc::new(calls),
        specs,
        target: config.target.clone(),
        seed: config.seed,
        progress: config.progress,
    };
    let naive = run::naive(&rt, &setup).await?;
    let policy = run::with_policy(&rt, &setup).await?;
    Ok(Report {
        runtime: String::new(),
        seed: config.seed,
        server_counts: config.target == Target::Embedded,
        naive,
        policy,
    })
}

/// The tool to call on a real server and its arguments: asked for, or
/// `echo` if it lists one, or its first tool.
async fn pick_tool<R: NetRuntime>(
    rt: &R,
    line: &str,
    config: &DemoConfig,
) -> io::Result<(String, Value)> {
    let client = Client::builder(rt.clone())
        .build_boxed(net::stdio(rt.clone(), line).map_err(io::Error::other)?);
    let tools = client.list_tools().await.map_err(io::Error::other)?;
    client.close();
    let tool = match &config.tool {
        Some(t) => t.clone(),
        None if tools.iter().any(|t| t.name == "echo") => "echo".into(),
        None => tools
            .first()
            .map(|t| t.name.clone())
            .ok_or_else(|| io::Error::other(format!("{line:?} lists no tools")))?,
    };
    let arguments = match &config.arguments {
        Some(a) => a.clone(),
        None if tool == "echo" => json!({ "message": "hello from weir-demo" }),
        None => json!({}),
    };
    Ok((tool, arguments))
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
