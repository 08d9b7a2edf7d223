//! Child processes: the traits an adapter implements; docs in [`io`](crate::io).

#![allow(unsafe_code)]

use core::fmt;
use core::future::Future;
use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};

use futures_io::{AsyncRead, AsyncWrite};

/// A program to start, with its arguments, environment and working
/// directory; the executor-independent half of spawning.
///
/// Adapters turn it into their own command with [`std_command`], so every
/// runtime spawns alike: three pipes, and a new process group on Unix.
///
/// ```
/// use weir_core::io::Command;
///
/// let cmd = Command::new("node")
///     .arg("server.js")
///     .env("NODE_ENV", "test")
///     .env_remove("DEBUG")
///     .current_dir("/tmp");
/// assert_eq!(cmd.get_args().count(), 1);
/// ```
///
/// [`std_command`]: Command::std_command
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a Command does nothing until a ProcessSpawner spawns it"]
pub struct Command {
    program: OsString,
    args: Vec<OsString>,
    /// In order; `None` removes the variable.
    env: Vec<(OsString, Option<OsString>)>,
    env_clear: bool,
    cwd: Option<PathBuf>,
}

impl Command {
    /// A command that runs `program` (found on `PATH` when it has no
    /// slash), with no arguments, the parent's environment and working
    /// directory.
    ///
    /// ```
    /// assert_eq!(weir_core::io::Command::new("true").program(), "true");
    /// ```
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        Command {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            env_clear: false,
            cwd: None,
        }
    }

    /// Appends one argument.
    ///
    /// ```
    /// let cmd = weir_core::io::Command::new("echo").arg("hi");
    /// assert_eq!(cmd.get_args().next().unwrap(), "hi");
    /// ```
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Appends arguments.
    ///
    /// ```
    /// let cmd = weir_core::io::Command::new("ls").args(["-l", "-a"]);
    /// assert_eq!(cmd.get_args().count(), 2);
    /// ```
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable for the child.
    ///
    /// ```
    /// let cmd = weir_core::io::Command::new("env").env("A", "1");
    /// # drop(cmd);
    /// ```
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((key.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    /// Removes an environment variable from the child's environment.
    ///
    /// ```
    /// let cmd = weir_core::io::Command::new("env").env_remove("HOME");
    /// # drop(cmd);
    /// ```
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.env.push((key.as_ref().to_owned(), None));
        self
    }

    /// Starts the child with an empty environment (variables set with
    /// [`env`](Command::env) are still passed).
    ///
    /// ```
    /// let cmd = weir_core::io::Command::new("env").env_clear().env("PATH", "/usr/bin");
    /// # drop(cmd);
    /// ```
    pub fn env_clear(mut self) -> Self {
        self.env_clear = true;
        self.env.clear();
        self
    }

    /// Sets the child's working directory.
    ///
    /// ```
    /// let cmd = weir_core::io::Command::new("pwd").current_dir("/");
    /// assert_eq!(cmd.get_current_dir().unwrap(), std::path::Path::new("/"));
    /// ```
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.cwd = Some(dir.as_ref().to_owned());
        self
    }

    /// The program to run.
    ///
    /// ```
    /// assert_eq!(weir_core::io::Command::new("npx").program(), "npx");
    /// ```
    pub fn program(&self) -> &OsStr {
        &self.program
    }

    /// The arguments, in order.
    ///
    /// ```
    /// let cmd = weir_core::io::Command::new("a").args(["b", "c"]);
    /// assert_eq!(cmd.get_args().collect::<Vec<_>>(), ["b", "c"]);
    /// ```
    pub fn get_args(&self) -> impl ExactSizeIterator<Item = &OsStr> {
        self.args.iter().map(OsString::as_os_str)
    }

    /// The working directory, when one was set.
    ///
    /// ```
    /// assert!(weir_core::io::Command::new("a").get_current_dir().is_none());
    /// ```
    pub fn get_current_dir(&self) -> Option<&Path> {
        self.cwd.as_deref()
    }

    /// The `std` command an adapter spawns: program, arguments, environment
    /// and directory as set, stdin, stdout and stderr piped, and on Unix a
    /// process group of its own whose id is the child's pid (so a
    /// terminal's Ctrl-C does not reach it, and [`ProcessGroup`] can signal
    /// the child together with everything it starts).
    ///
    /// ```
    /// let std_cmd = weir_core::io::Command::new("cat").arg("-").std_command();
    /// assert_eq!(std_cmd.get_program(), "cat");
    /// ```
    pub fn std_command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(&self.program);
        cmd.args(&self.args);
        if self.env_clear {
            cmd.env_clear();
        }
        for (key, value) in &self.env {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        cmd
    }
}

impl fmt::Display for Command {
    /// The command line as a shell would show it, quoting only where needed
    /// (for logs; not meant to be parsed back).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_word(f, &self.program)?;
        for arg in &self.args {
            f.write_str(" ")?;
            write_word(f, arg)?;
        }
        Ok(())
    }
}

fn write_word(f: &mut fmt::Formatter<'_>, word: &OsStr) -> fmt::Result {
    let word = word.to_string_lossy();
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+%".contains(c));
    if plain {
        f.write_str(&word)
    } else {
        write!(f, "'{}'", word.replace('\'', r"'\''"))
    }
}

/// What an adapter supplies to start child processes on its executor.
/// Implemented by `weir_smol::SmolProcess`, `weir_async_std::AsyncStdProcess`
/// (both on async-process) and `weir_tokio::TokioProcess` (on
/// `tokio::process`).
///
/// # Contract
///
/// * [`spawn`](ProcessSpawner::spawn) starts the command built by
///   [`Command::std_command`] (three pipes; a process group of its own on
///   Unix) and returns its pipes as non-blocking streams on the executor's
///   reactor.
/// * Dropping a [`Child`] never blocks and never kills: the process is
///   reaped in the background once it exits, so no zombie outlives it.
///   Killing is the caller's decision, through [`ProcessGroup`].
///
/// ```
/// use std::io;
/// use weir_core::io::{Command, ProcessSpawner, Spawned};
///
/// /// A spawner for a machine with no processes (a test double).
/// #[derive(Debug)]
/// struct Nowhere;
///
/// impl ProcessSpawner for Nowhere {
///     type Child = weir_core::io::NoChild;
///     type Stdin = weir_core::io::NoPipe;
///     type Stdout = weir_core::io::NoPipe;
///     type Stderr = weir_core::io::NoPipe;
///     fn spawn(&self, _: &Command) -> io::Result<Spawned<Self>> {
///         Err(io::ErrorKind::Unsupported.into())
///     }
/// }
/// assert!(Nowhere.spawn(&Command::new("sh")).is_err());
/// ```
pub trait ProcessSpawner: Send + Sync + 'static {
    /// The handle to wait for a child's exit.
    type Child: Child;
    /// The child's standard input.
    type Stdin: AsyncWrite + Send + Unpin + 'static;
    /// The child's standard output.
    type Stdout: AsyncRead + Send + Unpin + 'static;
    /// The child's standard error.
    type Stderr: AsyncRead + Send + Unpin + 'static;

    /// Starts `command`. Errors are the operating system's (program not
    /// found, permission denied, out of processes); on tokio, calling this
    /// outside a runtime with I/O enabled is an error too.
    fn spawn(&self, command: &Command) -> io::Result<Spawned<Self>>;
}

/// A runtime that knows its adapter's [`ProcessSpawner`], so code generic
/// over the runtime can start processes without naming the spawner
/// (`weir_smol::Smol` → `SmolProcess`, `weir_tokio::Tokio` →
/// `TokioProcess`, `weir_async_std::AsyncStd` → `AsyncStdProcess`).
///
/// ```
/// use weir_core::io::{Command, ProcessRuntime, ProcessSpawner};
///
/// fn start<R: ProcessRuntime>(rt: &R) -> std::io::Result<()> {
///     let spawned = rt.process_spawner().spawn(&Command::new("true"))?;
///     # drop(spawned);
///     Ok(())
/// }
/// # #[cfg(feature = "test-util")]
/// # let _ = start::<weir_core::test_util::VirtualRuntime>;
/// ```
pub trait ProcessRuntime: crate::Runtime {
    /// The adapter's spawner.
    type Spawner: ProcessSpawner + Clone + fmt::Debug;

    /// The spawner for this runtime.
    fn process_spawner(&self) -> Self::Spawner;
}

/// The virtual runtime starts no process: its spawner refuses every
/// command, so process-dependent code still type-checks in virtual-time
/// tests.
#[cfg(feature = "test-util")]
impl ProcessRuntime for crate::test_util::VirtualRuntime {
    type Spawner = NeverSpawns;

    fn process_spawner(&self) -> NeverSpawns {
        NeverSpawns
    }
}

/// A child just started: its exit handle, its process group and its three
/// pipes, each owned separately so that a writer, a reader and a supervisor
/// can hold one each.
#[non_exhaustive]
pub struct Spawned<S: ProcessSpawner + ?Sized> {
    /// Waits for the child's exit.
    pub child: S::Child,
    /// The group the child leads; signals go here.
    pub group: ProcessGroup,
    /// The child's standard input; dropping it closes the pipe.
    pub stdin: S::Stdin,
    /// The child's standard output.
    pub stdout: S::Stdout,
    /// The child's standard error.
    pub stderr: S::Stderr,
}

impl<S: ProcessSpawner + ?Sized> Spawned<S> {
    /// Puts the parts together (for adapters).
    ///
    /// ```
    /// # // See ProcessSpawner's example for a spawner to call it from.
    /// # let _ = weir_core::io::Spawned::<weir_core::io::NeverSpawns>::new;
    /// ```
    pub fn new(
        child: S::Child,
        group: ProcessGroup,
        stdin: S::Stdin,
        stdout: S::Stdout,
        stderr: S::Stderr,
    ) -> Self {
        Spawned {
            child,
            group,
            stdin,
            stdout,
            stderr,
        }
    }
}

impl<S: ProcessSpawner + ?Sized> fmt::Debug for Spawned<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spawned")
            .field("pid", &self.child.id())
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

/// A running (or exited, not yet dropped) child process, as the adapter
/// holds it.
pub trait Child: Send + 'static {
    /// The child's process id (also its process group's id on Unix).
    fn id(&self) -> u32;

    /// The exit status if the child has exited, without waiting (and reaps
    /// it then).
    fn try_wait(&mut self) -> io::Result<Option<ExitStatus>>;

    /// Waits for the child to exit and reaps it. Cancel-safe: dropping the
    /// future before it completes loses nothing, and a later call or
    /// [`try_wait`](Child::try_wait) still sees the status.
    fn wait(&mut self) -> impl Future<Output = io::Result<ExitStatus>> + Send + '_;
}

/// A signal a supervisor sends to a process group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Signal {
    /// `SIGTERM`: please exit (a process may catch it and clean up).
    Terminate,
    /// `SIGKILL`: exit now (cannot be caught).
    Kill,
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::Terminate => "SIGTERM",
            Signal::Kill => "SIGKILL",
        })
    }
}

/// The process group a spawned child leads: signals sent here reach the
/// child and every descendant that stayed in its group (a shell's
/// background jobs, `npx`'s node, a Python server's workers).
///
/// It holds only the group's id, so it is `Copy` and usable from `Drop`;
/// every call is one non-blocking system call.
///
/// Pids are recycled by the system. A group id cannot be handed to a new
/// group while any member of the old one, zombies included, is alive, so a
/// supervisor signals the group before it reaps the leader, or right after,
/// and stops once [`signal`](ProcessGroup::signal) reports the group gone.
///
/// ```
/// use weir_core::io::ProcessGroup;
///
/// // Group ids 0 and 1 would mean "my own group" and "every process".
/// assert!(ProcessGroup::led_by(0).is_none());
/// assert!(ProcessGroup::led_by(1).is_none());
/// assert_eq!(ProcessGroup::led_by(4242).unwrap().id(), 4242);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProcessGroup {
    id: u32,
}

impl ProcessGroup {
    /// The group led by the process `pid`, as [`Command::std_command`]
    /// makes it. `None` for ids that `kill(2)` would read as something
    /// else (0: the caller's own group; 1: every process; anything that
    /// does not fit a positive `pid_t`).
    ///
    /// ```
    /// assert!(weir_core::io::ProcessGroup::led_by(u32::MAX).is_none());
    /// ```
    pub fn led_by(pid: u32) -> Option<ProcessGroup> {
        (pid > 1 && i32::try_from(pid).is_ok()).then_some(ProcessGroup { id: pid })
    }

    /// The group's id (the leader's pid).
    ///
    /// ```
    /// assert_eq!(weir_core::io::ProcessGroup::led_by(77).unwrap().id(), 77);
    /// ```
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Sends `signal` to every process in the group. `Ok(true)` when it
    /// reached at least one process (a zombie counts), `Ok(false)` when the
    /// group has no member left; other failures (such as permission) are
    /// errors. On platforms without process groups: `Unsupported`.
    ///
    /// ```
    /// # #[cfg(target_os = "linux")] {
    /// use weir_core::io::{ProcessGroup, Signal};
    ///
    /// // A group that cannot exist: pid_max is at most 2^22 on Linux.
    /// let ghost = ProcessGroup::led_by(i32::MAX as u32).unwrap();
    /// assert!(!ghost.signal(Signal::Terminate).unwrap());
    /// # }
    /// ```
    pub fn signal(&self, signal: Signal) -> io::Result<bool> {
        sys::signal_group(self.id, signal)
    }

    /// Whether any process is left in the group (zombies count: they keep
    /// the id until their parent reaps them).
    ///
    /// ```
    /// # #[cfg(target_os = "linux")] {
    /// let ghost = weir_core::io::ProcessGroup::led_by(i32::MAX as u32).unwrap();
    /// assert!(!ghost.is_alive().unwrap());
    /// # }
    /// ```
    pub fn is_alive(&self) -> io::Result<bool> {
        sys::probe_group(self.id)
    }
}

#[cfg(target_os = "linux")]
mod sys {
    use std::io;

    use super::Signal;

    pub(super) fn signal_group(id: u32, signal: Signal) -> io::Result<bool> {
        let signo = match signal {
            Signal::Terminate => libc::SIGTERM,
            Signal::Kill => libc::SIGKILL,
        };
        kill_group(id, signo)
    }

    pub(super) fn probe_group(id: u32) -> io::Result<bool> {
        // Signal 0 checks existence and permission without delivering.
        kill_group(id, 0)
    }

    fn kill_group(id: u32, signo: libc::c_int) -> io::Result<bool> {
        // `ProcessGroup::led_by` admits only 2..=i32::MAX, so the negated id
        // names exactly that group, never "all processes" or our own group.
        let pgid = -(id as libc::pid_t);
        // SAFETY: kill(2) takes two integers and touches no memory of ours;
        // any value is sound to pass (a bad one is reported through errno).
        let rc = unsafe { libc::kill(pgid, signo) };
        if rc == 0 {
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::ESRCH) {
            Ok(false)
        } else {
            Err(err)
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use std::io;

    use super::Signal;

    pub(super) fn signal_group(_id: u32, _signal: Signal) -> io::Result<bool> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "process groups are signalled on Linux only in this version of weir",
        ))
    }

    pub(super) fn probe_group(id: u32) -> io::Result<bool> {
        signal_group(id, Signal::Kill)
    }
}

/// A [`Child`] that cannot exist, for spawners that never spawn (test
/// doubles and documentation).
///
/// ```
/// fn takes_child<C: weir_core::io::Child>() {}
/// takes_child::<weir_core::io::NoChild>();
/// ```
#[derive(Debug)]
pub enum NoChild {}

impl Child for NoChild {
    fn id(&self) -> u32 {
        match *self {}
    }
    fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        match *self {}
    }
    async fn wait(&mut self) -> io::Result<ExitStatus> {
        match *self {}
    }
}

/// A [`ProcessSpawner`] that refuses every command with `Unsupported`, for
/// code that must name a spawner where none is available.
///
/// ```
/// use weir_core::io::{Command, ProcessSpawner};
/// use weir_core::io::NeverSpawns;
///
/// let err = NeverSpawns.spawn(&Command::new("sh")).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NeverSpawns;

/// The pipe type of [`NeverSpawns`]: never constructed.
#[derive(Debug)]
pub enum NoPipe {}

impl AsyncRead for NoPipe {
    fn poll_read(
        self: core::pin::Pin<&mut Self>,
        _: &mut core::task::Context<'_>,
        _: &mut [u8],
    ) -> core::task::Poll<io::Result<usize>> {
        match *self {}
    }
}

impl AsyncWrite for NoPipe {
    fn poll_write(
        self: core::pin::Pin<&mut Self>,
        _: &mut core::task::Context<'_>,
        _: &[u8],
    ) -> core::task::Poll<io::Result<usize>> {
        match *self {}
    }
    fn poll_flush(
        self: core::pin::Pin<&mut Self>,
        _: &mut core::task::Context<'_>,
    ) -> core::task::Poll<io::Result<()>> {
        match *self {}
    }
    fn poll_close(
        self: core::pin::Pin<&mut Self>,
        _: &mut core::task::Context<'_>,
    ) -> core::task::Poll<io::Result<()>> {
        match *self {}
    }
}

impl ProcessSpawner for NeverSpawns {
    type Child = NoChild;
    type Stdin = NoPipe;
    type Stdout = NoPipe;
    type Stderr = NoPipe;

    fn spawn(&self, _: &Command) -> io::Result<Spawned<Self>> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "NeverSpawns starts no process",
        ))
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn std_command_pipes_and_groups_the_child() {
        // The real spawn is the adapters' (tested there); this checks the
        // std command they all start from.
        let mut child = Command::new("sh")
            .args(["-c", "ps -o pgid= -p $$; read line; echo \"got $line\""])
            .std_command()
            .spawn()
            .unwrap();
        let pid = child.id();
        use std::io::{BufRead, BufReader, Write};
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(
            line.trim().parse::<u32>().unwrap(),
            pid,
            "leads its own group"
        );
        child.stdin.take().unwrap().write_all(b"ping\n").unwrap();
        line.clear();
        out.read_line(&mut line).unwrap();
        assert_eq!(line, "got ping\n");
        assert!(child.wait().unwrap().success());
        let group = ProcessGroup::led_by(pid).unwrap();
        assert!(!group.is_alive().unwrap(), "reaped leader, empty group");
    }

    #[test]
    fn signals_reach_the_whole_group() {
        let mut child = Command::new("sh")
            .args(["-c", "sleep 1000 & echo $!; wait"])
            .std_command()
            .spawn()
            .unwrap();
        use std::io::{BufRead, BufReader};
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let grandchild: u32 = line.trim().parse().unwrap();
        let group = ProcessGroup::led_by(child.id()).unwrap();
        assert!(group.is_alive().unwrap());
        assert!(group.signal(Signal::Kill).unwrap());
        let status = child.wait().unwrap();
        assert!(!status.success());
        // The grandchild got the same SIGKILL, but dies when the kernel next
        // schedules it, and is then the init process's to reap: wait for
        // that outside event (bounded), never for a fixed time.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while group.is_alive().unwrap() {
            assert!(
                std::time::Instant::now() < deadline,
                "grandchild {grandchild} survived SIGKILL"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert!(!std::path::Path::new(&format!("/proc/{grandchild}")).exists());
    }

    #[test]
    fn display_quotes_only_where_needed() {
        let cmd = Command::new("sh").args(["-c", "echo 'hi'", "a.b"]);
        assert_eq!(cmd.to_string(), r"sh -c 'echo '\''hi'\''' a.b");
    }
}
