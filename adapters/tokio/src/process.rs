//! Child processes on tokio, through `tokio::process`.

use std::io;
use std::process::ExitStatus;

use tokio::process::{ChildStderr, ChildStdin, ChildStdout};
use weir_core::io::{Child, Command, ProcessGroup, ProcessRuntime, ProcessSpawner, Spawned};

use crate::Compat;

/// Spawns child processes with `tokio::process`. Must be called inside a
/// tokio runtime with I/O enabled (`enable_io` or `enable_all`): tokio
/// watches children through its signal driver, and reaps a dropped child
/// there once it exits, while that runtime runs.
///
/// ```
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
/// use weir_core::io::{Child, Command, ProcessSpawner};
/// use weir_tokio::TokioProcess;
///
/// tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
///     let mut p = TokioProcess.spawn(&Command::new("cat"))?;
///     p.stdin.write_all(b"hello").await?;
///     drop(p.stdin); // closes the pipe: cat sees end of input
///     let mut out = String::new();
///     p.stdout.read_to_string(&mut out).await?;
///     assert_eq!(out, "hello");
///     assert!(p.child.wait().await?.success());
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioProcess;

/// A child started by [`TokioProcess`]; dropping it leaves the process
/// running and lets tokio reap it in the background once it exits.
#[derive(Debug)]
pub struct TokioChild {
    inner: tokio::process::Child,
    // tokio forgets the pid once it has reaped the child.
    pid: u32,
}

impl ProcessSpawner for TokioProcess {
    type Child = TokioChild;
    type Stdin = Compat<ChildStdin>;
    type Stdout = Compat<ChildStdout>;
    type Stderr = Compat<ChildStderr>;

    fn spawn(&self, command: &Command) -> io::Result<Spawned<Self>> {
        let mut child = tokio::process::Command::from(command.std_command()).spawn()?;
        let pid = child
            .id()
            .ok_or_else(|| io::Error::other("child exited before its pid was read"))?;
        let group = ProcessGroup::led_by(pid)
            .ok_or_else(|| io::Error::other("child has no usable process id"))?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            // Not left running unseen (it is reaped in the background).
            let _ = child.start_kill();
            return Err(io::Error::other("a standard stream was not piped"));
        };
        Ok(Spawned::new(
            TokioChild { inner: child, pid },
            group,
            Compat::new(stdin),
            Compat::new(stdout),
            Compat::new(stderr),
        ))
    }
}

impl Child for TokioChild {
    fn id(&self) -> u32 {
        self.pid
    }

    fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.inner.try_wait()
    }

    fn wait(&mut self) -> impl Future<Output = io::Result<ExitStatus>> + Send + '_ {
        // Cancel-safe (tokio documents it so).
        self.inner.wait()
    }
}

impl ProcessRuntime for crate::Tokio {
    type Spawner = TokioProcess;

    fn process_spawner(&self) -> TokioProcess {
        TokioProcess
    }
}
