//! `--runtime`: runs a subcommand on smol, tokio or async-std (each starts
//! processes with its own adapter's spawner, through `ProcessRuntime`, and
//! opens TCP connections through its own `NetRuntime`).

use std::future::Future;
use std::process::ExitCode;

use weir_core::io::{NetRuntime, ProcessRuntime};

use crate::args::Args;

/// A runtime the CLI runs on, with its name for the report.
pub trait Env: ProcessRuntime + NetRuntime + Copy {
    const NAME: &'static str;
}

impl Env for weir_smol::Smol {
    const NAME: &'static str = "smol";
}

impl Env for weir_tokio::Tokio {
    const NAME: &'static str = "tokio";
}

impl Env for weir_async_std::AsyncStd {
    const NAME: &'static str = "async-std";
}

/// A subcommand, written once for every runtime.
pub trait Subcommand {
    fn run<E: Env>(&self, rt: E, args: &Args) -> impl Future<Output = Result<ExitCode, String>>;
}

pub fn run(args: &Args, sub: impl Subcommand) -> Result<ExitCode, String> {
    match args.get("--runtime").unwrap_or("smol") {
        "smol" => smol::block_on(sub.run(weir_smol::Smol, args)),
        "tokio" => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?
            .block_on(sub.run(weir_tokio::Tokio, args)),
        "async-std" => async_std::task::block_on(sub.run(weir_async_std::AsyncStd, args)),
        other => Err(format!(
            "`--runtime` must be smol, tokio or async-std, not `{other}`"
        )),
    }
}
