//! Child processes on smol, through async-process (`smol::process`).

use std::io;
use std::process::{ExitStatus, Stdio};

use smol::process::{ChildStderr, ChildStdin, ChildStdout};
use weir_core::io::{Child, Command, ProcessGroup, ProcessRuntime, ProcessSpawner, Spawned};

/// Spawns child processes with async-process, whose pipes are async-io
/// sources and whose exits are watched by its own reaper thread.
///
/// ```
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
/// use weir_core::io::{Child, Command, ProcessSpawner};
/// use weir_smol::SmolProcess;
///
/// smol::block_on(async {
///     let mut p = SmolProcess.spawn(&Command::new("cat"))?;
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
pub struct SmolProcess;

/// A child started by [`SmolProcess`]; dropping it leaves the process
/// running and reaps it in the background once it exits.
#[derive(Debug)]
pub struct SmolChild(smol::process::Child);

impl ProcessSpawner for SmolProcess {
    type Child = SmolChild;
    type Stdin = ChildStdin;
    type Stdout = ChildStdout;
    type Stderr = ChildStderr;

    fn spawn(&self, command: &Command) -> io::Result<Spawned<Self>> {
        // async-process resets to `inherit` any stream not configured on its
        // own Command, whatever the std command said.
        let mut child = smol::process::Command::from(command.std_command())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let group = ProcessGroup::led_by(child.id())
            .ok_or_else(|| io::Error::other("child has no usable process id"))?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            // Not left running unseen (it is reaped in the background).
            let _ = child.kill();
            return Err(io::Error::other("a standard stream was not piped"));
        };
        Ok(Spawned::new(SmolChild(child), group, stdin, stdout, stderr))
    }
}

impl Child for SmolChild {
    fn id(&self) -> u32 {
        self.0.id()
    }

    fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.0.try_status()
    }

    fn wait(&mut self) -> impl Future<Output = io::Result<ExitStatus>> + Send + '_ {
        // async-process's status future owns a handle to the child, so
        // dropping it loses nothing.
        self.0.status()
    }
}

impl ProcessRuntime for crate::Smol {
    type Spawner = SmolProcess;

    fn process_spawner(&self) -> SmolProcess {
        SmolProcess
    }
}
