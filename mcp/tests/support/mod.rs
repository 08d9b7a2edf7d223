//! Harness for the tests that start real processes: the runtime matrix
//! (each runtime with its adapter's spawner), where the test servers and
//! the installed MCP peers are, and process counting.
//!
//! Real processes need real time, so there is no virtual-time runtime here.
//! Processes end on the kernel's schedule: waits for that poll the process
//! table with a generous bound; no test sleeps for a fixed time.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use weir_core::Runtime;
use weir_core::{
    io::{Command, ProcessRuntime},
    test_util::census,
};

/// A runtime whose adapter's process spawner (`ProcessRuntime`) is `Copy`
/// and can be named without an instance, for test bodies that build
/// several connectors.
pub trait Env: ProcessRuntime<Spawner: Copy> + Copy {
    fn spawner() -> Self::Spawner;
}

impl Env for weir_smol::Smol {
    fn spawner() -> Self::Spawner {
        weir_smol::SmolProcess
    }
}

impl Env for weir_tokio::Tokio {
    fn spawner() -> Self::Spawner {
        weir_tokio::TokioProcess
    }
}

impl Env for weir_async_std::AsyncStd {
    fn spawner() -> Self::Spawner {
        weir_async_std::AsyncStdProcess
    }
}

#[path = "../runners/mod.rs"]
mod runners;
// Used through the runtime macro, which some test binaries do not call.
#[allow(unused_imports)]
pub use runners::{async_std, smol, tokio_current, tokio_multi};

/// Instantiates each listed `async fn name<E: Env>(rt: E)` on smol, tokio
/// (current-thread and multi-thread) and async-std.
#[macro_export]
macro_rules! on_real_runtimes {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[test]
            fn smol() {
                $crate::support::smol(super::$name(weir_smol::Smol))
            }

            #[test]
            fn tokio_current_thread() {
                $crate::support::tokio_current(super::$name(weir_tokio::Tokio))
            }

            #[test]
            fn tokio_multi_thread() {
                $crate::support::tokio_multi(super::$name(weir_tokio::Tokio))
            }

            #[test]
            fn async_std() {
                $crate::support::async_std(super::$name(weir_async_std::AsyncStd))
            }
        }
    )+};
}

/// `mcp/tests/servers/<name>`.
pub fn server_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/servers")
        .join(name)
}

/// Where `.ci/mcp-peers.sh` installs the peers.
pub fn peers_dir() -> PathBuf {
    match std::env::var_os("WEIR_MCP_PEERS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/mcp-peers"),
    }
}

fn required() -> bool {
    std::env::var("WEIR_REQUIRE_MCP_PEERS").is_ok_and(|v| v == "1")
}

/// `Some(path)` when `path` exists; otherwise a loud skip line (`None`),
/// or a failure when WEIR_REQUIRE_MCP_PEERS=1.
pub fn require(what: &str, path: PathBuf) -> Option<PathBuf> {
    if path.exists() {
        return Some(path);
    }
    let msg = format!(
        "MCP PEER MISSING: {what} not found at {}; run `bash .ci/mcp-peers.sh`",
        path.display()
    );
    assert!(!required(), "{msg} (WEIR_REQUIRE_MCP_PEERS=1)");
    eprintln!("\n!!!! SKIPPED: {msg} !!!!\n");
    None
}

/// A Python 3 for the plain (SDK-free) test servers.
pub fn python() -> Option<PathBuf> {
    for candidate in ["/usr/bin/python3", "/usr/local/bin/python3"] {
        if Path::new(candidate).exists() {
            return Some(candidate.into());
        }
    }
    let venv = peers_dir().join("py-mcp1/bin/python");
    require("python3 (for the plain test servers)", venv)
}

/// The plain server in `mode` (see servers/plain.py).
pub fn plain(mode: &str) -> Option<Command> {
    Some(
        Command::new(python()?)
            .arg("-u")
            .arg(server_script("plain.py"))
            .arg(mode),
    )
}

/// The venv Python with the SDK of major `major` (1 or 2).
pub fn sdk_python(major: u32) -> Option<PathBuf> {
    require(
        &format!("Python mcp {major}.x venv"),
        peers_dir().join(format!("py-mcp{major}/bin/python")),
    )
}

/// `node .../server-everything/dist/index.js` (stdio).
pub fn everything() -> Option<Command> {
    let entry = require(
        "@modelcontextprotocol/server-everything",
        peers_dir().join("npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js"),
    )?;
    let node = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("node"))
        .find(|p| p.exists());
    let node = require(
        "node (for server-everything)",
        node.unwrap_or_else(|| "node".into()),
    )?;
    Some(Command::new(node).arg(entry).arg("stdio"))
}

/// Waits (polling, bounded by 30 s) until `done` holds.
pub async fn eventually<R: Runtime>(rt: &R, what: &str, mut done: impl FnMut() -> bool) {
    let limit = rt.now() + Duration::from_secs(30);
    while !done() {
        assert!(rt.now() < limit, "still not the case after 30 s: {what}");
        rt.sleep(Duration::from_millis(2)).await;
    }
}

/// The processes in group `pgid` right now.
pub fn group_members(pgid: u32) -> Vec<census::Process> {
    census::group_members(pgid).unwrap()
}

/// Waits until no process is left in `pgid` and no child of ours is a
/// zombie.
pub async fn assert_no_leftovers<R: Runtime>(rt: &R, pgid: u32) {
    eventually(rt, &format!("group {pgid} empty"), || {
        group_members(pgid).is_empty()
    })
    .await;
    let limit = rt.now() + Duration::from_secs(30);
    loop {
        let zombies = census::zombie_children().unwrap();
        if zombies.is_empty() {
            return;
        }
        assert!(rt.now() < limit, "zombie children after 30 s: {zombies:?}");
        rt.sleep(Duration::from_millis(2)).await;
    }
}
