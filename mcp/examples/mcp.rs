//! `mcp`: weir-mcp's command-line client.
//!
//! This file is the minimal dispatcher the conformance suite needs (issue
//! 12): with `MCP_CONFORMANCE_SCENARIO` set, the program runs that scenario
//! against the server URL given as its last argument (`mcp/conformance.rs`),
//! on the runtime `--runtime smol|tokio|async-std` names. The stdio issue's
//! CLI (`tools`, `call`, `bench`) replaces this file and keeps the two
//! marked lines.
//!
//! ```text
//! MCP_CONFORMANCE_SCENARIO=tools_call mcp --runtime tokio http://localhost:3001/mcp
//! ```

#[path = "mcp/conformance.rs"] // conformance mode (keep)
mod conformance;

use std::process::ExitCode;

fn main() -> ExitCode {
    if let Some(code) = conformance::main_if_requested() {
        return code; // conformance mode (keep)
    }
    eprintln!(
        "usage: MCP_CONFORMANCE_SCENARIO=<name> mcp [--runtime smol|tokio|async-std] <server-url>"
    );
    ExitCode::from(2)
}
