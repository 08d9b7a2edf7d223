//! I/O the adapters supply: child processes ([`process`]) and TCP streams
//! ([`net`], over the connector in [`pool`](crate::pool)).
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
//! With feature `test-util` on Linux, `census` reads the process table, so
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

mod net;
mod process;

pub use futures_io::{AsyncRead, AsyncWrite};
pub use net::NetRuntime;
pub use process::{
    Child, Command, NeverSpawns, NoChild, NoPipe, ProcessGroup, ProcessRuntime, ProcessSpawner,
    Signal, Spawned,
};
