//! The main demonstration: an agent's burst of tool calls against flaky,
//! rate-limited tool servers, naive and with weir's policies.
//!
//! ```text
//! cargo run --release --example tool_calls
//! cargo run --release --example tool_calls -- --calls 5000 --runtime tokio --seed 7 --json report.json
//! cargo run --release --example tool_calls -- --server "npx -y @modelcontextprotocol/server-everything"
//! ```
//!
//! The servers run in this process on loopback TCP and speak MCP
//! (newline-delimited JSON-RPC 2.0, MCP's stdio framing); the client is
//! weir-mcp's. With `--server` the same burst goes to a real MCP server run
//! as a child process, over weir-mcp's stdio transport. The program checks
//! that every call of both runs ended ok or with a named error, and exits
//! non-zero otherwise.

use std::process::ExitCode;

use weir_demo::DemoConfig;
use weir_demo::cli::Args;
use weir_demo::run::Target;

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let config = DemoConfig::for_args(&args);
    let against = match &config.target {
        Target::Command(line) => format!("the MCP server `{line}` (stdio)"),
        Target::Embedded => "the embedded MCP servers (loopback TCP)".to_string(),
    };
    println!(
        "tool_calls: {} calls on {}, seed {}, against {against}",
        args.calls,
        args.runtime.name(),
        args.seed
    );
    let report = match weir_demo::run(args.runtime, &config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("could not run the demo: {e}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", report.table());
    if let Some(path) = &args.json {
        if let Err(e) = report.write_json(path) {
            eprintln!("could not write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("report written to {}", path.display());
    }
    match report.check() {
        Ok(()) => {
            println!("every call accounted for in both runs");
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("LOST CALLS: {msg}");
            ExitCode::FAILURE
        }
    }
}
