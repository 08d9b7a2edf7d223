//! `mcp`: weir-mcp's command-line client.
//!
//! This file is the minimal dispatcher h-mcp-http needs for the official
//! conformance suite: when `MCP_CONFORMANCE_SCENARIO` is set, the program
//! runs that scenario against the server URL given as its last argument
//! (see `mcp/conformance.rs`). `--runtime smol|tokio|async-std` picks the
//! executor (default smol). The `tools`, `call` and `bench` subcommands
//! belong to the stdio issue's CLI.
//!
//! ```text
//! MCP_CONFORMANCE_SCENARIO=tools_call mcp --runtime tokio http://localhost:3001/mcp
//! ```

#[path = "mcp/conformance.rs"]
mod conformance;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = args
        .windows(2)
        .find(|w| w[0] == "--runtime")
        .map_or("smol", |w| w[1].as_str())
        .to_owned();
    let Ok(scenario) = std::env::var("MCP_CONFORMANCE_SCENARIO") else {
        eprintln!(
            "usage: MCP_CONFORMANCE_SCENARIO=<name> mcp [--runtime smol|tokio|async-std] <server-url>"
        );
        return ExitCode::from(2);
    };
    let Some(url) = args.last().filter(|a| a.starts_with("http")).cloned() else {
        eprintln!("mcp: conformance mode needs the server URL as the last argument");
        return ExitCode::from(2);
    };
    let outcome = match runtime.as_str() {
        "smol" => smol::block_on(conformance::run(weir_smol::Smol, &scenario, &url)),
        "tokio" => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
            .block_on(conformance::run(weir_tokio::Tokio, &scenario, &url)),
        "async-std" => {
            async_std::task::block_on(conformance::run(weir_async_std::AsyncStd, &scenario, &url))
        }
        other => Err(format!(
            "unknown runtime `{other}` (smol, tokio, async-std)"
        )),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mcp: scenario {scenario}: {e}");
            ExitCode::FAILURE
        }
    }
}
