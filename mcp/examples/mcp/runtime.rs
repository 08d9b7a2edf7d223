//! `--runtime`: runs a subcommand on smol, tokio or async-std, each with its
//! adapter's process spawner.

use std::fmt::Debug;
use std::future::Future;
use std::process::ExitCode;

use weir_core::io::ProcessSpawner;
use weir_core::rt::Runtime;

use crate::args::Args;

/// A runtime with the spawner of the same adapter.
pub trait Env: Runtime + Copy {
    type Spawner: ProcessSpawner + Copy + Debug;
    const NAME: &'static str;
    fn spawner() -> Self::Spawner;
}

impl Env for weir_smol::Smol {
    type Spawner = weir_smol::SmolProcess;
    const NAME: &'static str = "smol";
    fn spawner() -> Self::Spawner {
        weir_smol::SmolProcess
    }
}

impl Env for weir_tokio::Tokio {
    type Spawner = weir_tokio::TokioProcess;
    const NAME: &'static str = "tokio";
    fn spawner() -> Self::Spawner {
        weir_tokio::TokioProcess
    }
}

impl Env for weir_async_std::AsyncStd {
    type Spawner = weir_async_std::AsyncStdProcess;
    const NAME: &'static str = "async-std";
    fn spawner() -> Self::Spawner {
        weir_async_std::AsyncStdProcess
    }
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
