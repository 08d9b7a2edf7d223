//! `mcp`: point weir-mcp at any MCP server, over stdio or Streamable HTTP.
//!
//! ```text
//! cargo run --release -p weir-mcp --example mcp -- tools --server "npx -y @modelcontextprotocol/server-everything"
//! cargo run --release -p weir-mcp --example mcp -- call  --server "<command line>" --tool echo --args '{"message":"hi"}'
//! cargo run --release -p weir-mcp --example mcp -- bench --server "<command line>" --calls 10000 --in-flight 256
//! cargo run --release -p weir-mcp --example mcp -- tools --url http://127.0.0.1:3001/mcp
//! ```
//!
//! Every subcommand takes exactly one of `--server "<command line>"` (a
//! child process over stdio) and `--url URL` (a Streamable HTTP endpoint),
//! `--runtime smol|tokio|async-std` (smol by default) and, with `--server`,
//! `--server-stderr` (forward the server's stderr; otherwise only its last
//! lines are shown, on failure). `bench` prints calls/s, p50/p99
//! latency and errors by kind, and exits non-zero if any call is
//! unaccounted for.
//!
//! With `MCP_CONFORMANCE_SCENARIO` set (the official conformance suite), the
//! program runs that scenario against the server URL given last, over
//! Streamable HTTP (`mcp/conformance.rs`).

#[path = "mcp/args.rs"]
mod args;
#[path = "mcp/bench.rs"]
mod bench;
#[path = "mcp/call.rs"]
mod call;
#[path = "mcp/conformance.rs"]
mod conformance;
#[path = "mcp/connect.rs"]
mod connect;
#[path = "mcp/runtime.rs"]
mod runtime;
#[path = "mcp/tools.rs"]
mod tools;

use std::process::ExitCode;

const USAGE: &str = "\
usage: mcp <subcommand> (--server \"<command line>\" | --url URL) [options]

subcommands:
  tools    list the server's tools
  call     call one tool:  --tool NAME [--args JSON]
  bench    many calls:     [--calls N] [--in-flight K] [--tool NAME] [--args JSON]

options:
  --runtime smol|tokio|async-std   the executor (default smol)
  --server \"<command line>\"       start the server, speak MCP over its stdio
  --url URL                        speak Streamable HTTP to a running server
  --server-stderr                  forward the server's stderr (--server)
  --timeout SECS                   total deadline of each call (default 300)
  --json                           print JSON (tools, call)";

fn main() -> ExitCode {
    // The official conformance suite runs this program with
    // MCP_CONFORMANCE_SCENARIO set and the server URL last.
    if let Some(code) = conformance::main_if_requested() {
        return code;
    }
    let mut argv = std::env::args().skip(1);
    let Some(sub) = argv.next() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if matches!(sub.as_str(), "-h" | "--help" | "help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    // Exactly one of --server and --url: a usage error before any runtime starts.
    let parsed = args::Args::parse(argv).and_then(|a| {
        connect::Target::of(&a)?;
        Ok(a)
    });
    let args = match parsed {
        Ok(a) => a,
        Err(e) => {
            eprintln!("mcp: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let outcome = match sub.as_str() {
        "tools" => runtime::run(&args, tools::Tools),
        "call" => runtime::run(&args, call::Call),
        "bench" => runtime::run(&args, bench::Bench),
        other => Err(format!("unknown subcommand `{other}`")),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mcp: {e}");
            ExitCode::FAILURE
        }
    }
}
