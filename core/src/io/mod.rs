//! I/O the adapters supply: child processes ([`Command`], [`ProcessRuntime`])
//! and TCP streams ([`NetRuntime`], over the connector in [`pool`](crate::pool)).
//!
//! The core starts no process and opens no socket itself: it defines what it
//! needs as traits, and each adapter crate implements them on its executor's
//! reactor (`weir_smol::SmolProcess`, `weir_tokio::TokioProcess`,
//! `weir_async_std::AsyncStdProcess`; `NetRuntime` for `Smol`, `Tokio`,
//! `AsyncStd`). Byte streams are spoken as [`futures_io::AsyncRead`] and
//! [`futures_io::AsyncWrite`], the executor-free vocabulary smol, async-std
//! and async-process already use; tokio's streams reach it through a small
//! compatibility wrapper in `weir-tokio`.
//!
//! With feature `test-util` on Linux, `test_util::census` reads the process table, so
//! tests can prove that no process or zombie outlives them.
//!
//! ```
//! use weir_core::io::{AsyncRead, AsyncWrite, Command, Signal};
//!
//! let cmd = Command::new("python3").args(["-u", "server.py"]).env("LOG", "1");
//! assert_eq!(cmd.program(), "python3");
//! assert_eq!(Signal::Terminate.to_string(), "SIGTERM");
//!
//! fn speaks_futures_io<S: AsyncRead + AsyncWrite + Unpin>(_: &S) {}
//! speaks_futures_io(&futures_lite::io::Cursor::new(Vec::<u8>::new()));
//! ```
//!
//! # Child processes
//!
//! Child processes with piped standard streams, each in its own process
//! group, spawned by an adapter.
//!
//! A supervisor (such as weir-mcp's stdio transport) needs four things from
//! a child: its three pipes as async byte streams, its exit status without
//! blocking a thread, and a way to signal it *and everything it started*.
//! The last one is why every child gets a process group of its own
//! ([`Command::std_command`] sets `process_group(0)` on Unix): a server
//! launched through `npx`, `uv run` or `sh -c` is often a tree of processes,
//! and signalling only the top one leaves the rest running. Signals go to
//! the whole group through [`ProcessGroup`], which needs no handle to the
//! child and so works from `Drop`.
//!
//! Reaping is the adapter's business: every adapter reaps a child whose
//! handle is dropped, in the background (async-process's reaper thread,
//! tokio's orphan queue), so no zombie is left behind and no executor thread
//! blocks in `waitpid`.
//!
//! # TCP streams
//!
//! Protocol clients above the core (weir-mcp's HTTP transport) need two
//! things from an executor: its TCP connections, pooled by a
//! [`ResourcePool`](crate::ResourcePool) through
//! [`TcpManager`](crate::pool::TcpManager), and those connections as
//! futures-io streams they can drive without knowing the executor.
//! [`NetRuntime`] ties the two to the [`Runtime`](crate::Runtime) a user already names, so
//! `connect(weir::Tokio)` is all a client asks for.

mod net;
mod process;

pub use futures_io::{AsyncRead, AsyncWrite};
pub use net::NetRuntime;
pub use process::{
    Child, Command, NeverSpawns, NoChild, NoPipe, ProcessGroup, ProcessRuntime, ProcessSpawner,
    Signal, Spawned,
};
