//! MCP servers as supervised child processes, spoken to over stdio.
//!
//! [`Stdio`] is a [`Connect`]: each `connect` starts the server (through an
//! adapter's [`ProcessSpawner`], so weir-mcp depends on no executor) and
//! returns a [`StdioTransport`] over its stdin and stdout. The client
//! connects again on the next call after the server died, so a crashed
//! server is restarted then (bounded by the client's
//! [`max_restarts`](crate::ClientBuilder::max_restarts)).
//!
//! The rules, and why:
//!
//! * **Its own process group.** Servers are often trees (`npx` → `node`,
//!   `uv run` → `python`, `sh -c`). Every signal goes to the group, so no
//!   grandchild outlives its server; when the server exits, whatever is
//!   left of its group is killed (it is an orphan of a dead server).
//! * **Bounded close.** Closing stdin is the polite request (the spec's
//!   first step); then, each after a configurable wait, `SIGTERM` and
//!   `SIGKILL` to the group; then a bounded wait for the group to empty.
//!   The defaults ([`DEFAULT_STDIN_WAIT`], [`DEFAULT_TERM_WAIT`],
//!   [`DEFAULT_KILL_WAIT`]) match what the TypeScript and Python SDKs give a
//!   server.
//! * **An unexpected exit is a typed error.** Calls in flight fail with
//!   [`TransportError::Exited`] naming the exit status, not a generic
//!   broken pipe.
//! * **Drop never blocks.** Dropping the transport without a close sends
//!   `SIGKILL` to the group (one system call) and leaves the reaping to the
//!   adapter's background reaper.
//! * **stderr is drained, never blocking.** Every line goes to a bounded
//!   ring (the last [`DEFAULT_STDERR_LINES`], see
//!   [`StdioHandle::stderr_tail`]) and to an optional callback; a server
//!   that writes much to stderr never stalls on a full pipe.
//!
//! ```no_run
//! use serde_json::json;
//! use weir_core::io::Command;
//! use weir_mcp::Client;
//! use weir_mcp::stdio::Stdio;
//! use weir_smol::Smol;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! smol::block_on(async {
//!     let server = Stdio::on(Smol, Command::new("npx").args(["-y", "@modelcontextprotocol/server-everything"]));
//!     let handle = server.handle();
//!     let client = Client::builder(Smol).build(server);
//!     let reply = client.call_tool("echo", json!({"message": "hi"})).await?;
//!     println!("{}", reply.text());
//!     client.close();
//!     handle.wait_all_gone(&Smol, std::time::Duration::from_secs(10)).await;
//!     Ok(())
//! })
//! # }
//! ```

mod handle;
mod supervisor;
mod transport;

pub use handle::{StderrCallback, StdioHandle};
pub use transport::{StdioSink, StdioSource, StdioTransport};

use core::fmt;
use std::sync::Arc;
use std::time::Duration;

use weir_core::Runtime;
use weir_core::io::{Command, ProcessRuntime, ProcessSpawner};
use weir_core::{ConfigError, Rule};

use crate::config::{ConfigFileError, ServerConfig, StdioConfig};
use crate::framing::DEFAULT_MAX_FRAME;
use crate::manager::BoxConnect;
use crate::transport::{Connect, TransportError};
use handle::Registry;
use supervisor::Waits;

/// How long a server may take to exit after its stdin is closed before it
/// gets `SIGTERM`: 2 s.
pub const DEFAULT_STDIN_WAIT: Duration = Duration::from_secs(2);
/// How long after `SIGTERM` before `SIGKILL`: 2 s.
pub const DEFAULT_TERM_WAIT: Duration = Duration::from_secs(2);
/// How long after `SIGKILL` for the exit and for the group to empty: 2 s.
pub const DEFAULT_KILL_WAIT: Duration = Duration::from_secs(2);
/// How many lines of a server's stderr are kept: 100.
pub const DEFAULT_STDERR_LINES: usize = 100;

/// Starts an MCP server as a child process, once per connection; a
/// [`Connect`] for [`ClientBuilder::build`](crate::ClientBuilder::build).
///
/// `S` is the adapter's spawner (`weir_smol::SmolProcess`,
/// `weir_tokio::TokioProcess`, `weir_async_std::AsyncStdProcess`) and `R`
/// the runtime the supervision tasks and waits run on.
///
/// ```
/// use std::time::Duration;
/// use weir_core::io::Command;
/// use weir_mcp::stdio::Stdio;
///
/// let stdio = Stdio::new(weir_smol::SmolProcess, weir_smol::Smol, Command::new("python3").args(["-u", "server.py"]))
///     .close_waits(Duration::from_secs(1), Duration::from_secs(1), Duration::from_secs(1))
///     .stderr_lines(20);
/// assert_eq!(stdio.command().program(), "python3");
/// ```
pub struct Stdio<S, R> {
    spawner: S,
    rt: R,
    command: Command,
    waits: Waits,
    max_frame: usize,
    stderr_lines: usize,
    on_stderr: Option<StderrCallback>,
    registry: Arc<Registry>,
}

impl<S: fmt::Debug, R: fmt::Debug> fmt::Debug for Stdio<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stdio")
            .field("command", &self.command.to_string())
            .field("waits", &self.waits)
            .field("max_frame", &self.max_frame)
            .field("spawns", &self.registry.spawns())
            .finish_non_exhaustive()
    }
}

impl<S: ProcessSpawner, R: Runtime> Stdio<S, R> {
    /// A connector that starts `command` with `spawner`, supervised on
    /// `rt`, with the default waits, a 16 MiB frame limit, unlimited
    /// restarts and the last [`DEFAULT_STDERR_LINES`] of stderr kept.
    ///
    /// ```
    /// let s = weir_mcp::stdio::Stdio::new(weir_smol::SmolProcess, weir_smol::Smol, weir_core::io::Command::new("srv"));
    /// # drop(s);
    /// ```
    pub fn new(spawner: S, rt: R, command: Command) -> Self {
        Stdio {
            spawner,
            rt,
            command,
            waits: Waits {
                stdin: DEFAULT_STDIN_WAIT,
                term: DEFAULT_TERM_WAIT,
                kill: DEFAULT_KILL_WAIT,
            },
            max_frame: DEFAULT_MAX_FRAME,
            stderr_lines: DEFAULT_STDERR_LINES,
            on_stderr: None,
            registry: Arc::new(Registry::new(DEFAULT_STDERR_LINES, None)),
        }
    }

    /// A connector for a command line as a user types it
    /// (`npx -y @modelcontextprotocol/server-everything`), split into
    /// words as a POSIX shell would (quotes and backslashes; no variables
    /// or globs).
    ///
    /// # Errors
    ///
    /// `command_line` empty ([`Rule::Missing`]) or with an unclosed quote.
    ///
    /// ```
    /// use weir_mcp::stdio::Stdio;
    ///
    /// let s = Stdio::command_line(weir_smol::SmolProcess, weir_smol::Smol, r#"python3 -c 'print("hi")'"#).unwrap();
    /// assert_eq!(s.command().get_args().collect::<Vec<_>>(), ["-c", r#"print("hi")"#]);
    /// assert!(Stdio::command_line(weir_smol::SmolProcess, weir_smol::Smol, "sh -c 'open").is_err());
    /// ```
    pub fn command_line(spawner: S, rt: R, command_line: &str) -> Result<Self, ConfigError> {
        Ok(Stdio::new(spawner, rt, parse_command_line(command_line)?))
    }

    /// A connector for an `mcpServers` entry (`command`, `args`, `env`,
    /// `cwd`), as a [`TransportFactory`](crate::manager::TransportFactory)
    /// makes it.
    ///
    /// ```
    /// use weir_mcp::config::StdioConfig;
    /// use weir_mcp::stdio::Stdio;
    ///
    /// let mut cfg = StdioConfig::new("uvx", ["mcp-server-time"]);
    /// cfg.env.insert("TZ".into(), "UTC".into());
    /// let s = Stdio::from_config(weir_smol::SmolProcess, weir_smol::Smol, &cfg);
    /// assert_eq!(s.command().program(), "uvx");
    /// ```
    pub fn from_config(spawner: S, rt: R, config: &StdioConfig) -> Self {
        let mut command = Command::new(&config.command).args(&config.args);
        for (key, value) in &config.env {
            command = command.env(key, value);
        }
        if let Some(dir) = &config.cwd {
            command = command.current_dir(dir);
        }
        Stdio::new(spawner, rt, command)
    }

    /// Sets the three waits of a close: after stdin is closed (before
    /// `SIGTERM`), after `SIGTERM` (before `SIGKILL`), and after `SIGKILL`
    /// (for the exit and for the group to empty). A close takes at most
    /// their sum, plus a flush bounded by the first.
    ///
    /// ```
    /// use std::time::Duration;
    /// let s = weir_mcp::stdio::Stdio::new(weir_smol::SmolProcess, weir_smol::Smol, weir_core::io::Command::new("srv"))
    ///     .close_waits(Duration::ZERO, Duration::from_millis(500), Duration::from_secs(1));
    /// # drop(s);
    /// ```
    pub fn close_waits(mut self, stdin: Duration, term: Duration, kill: Duration) -> Self {
        self.waits = Waits { stdin, term, kill };
        self
    }

    /// The longest line accepted from the server (default 16 MiB); a
    /// longer one is skipped and reported as malformed, and the connection
    /// lives on.
    ///
    /// ```
    /// let s = weir_mcp::stdio::Stdio::new(weir_smol::SmolProcess, weir_smol::Smol, weir_core::io::Command::new("srv"))
    ///     .max_frame(1 << 20);
    /// # drop(s);
    /// ```
    pub fn max_frame(mut self, bytes: usize) -> Self {
        self.max_frame = bytes;
        self
    }

    /// How many of the server's last stderr lines to keep (default
    /// [`DEFAULT_STDERR_LINES`]; 0 keeps none).
    ///
    /// ```
    /// let s = weir_mcp::stdio::Stdio::new(weir_smol::SmolProcess, weir_smol::Smol, weir_core::io::Command::new("srv"))
    ///     .stderr_lines(0);
    /// # drop(s);
    /// ```
    pub fn stderr_lines(mut self, lines: usize) -> Self {
        self.stderr_lines = lines;
        self.rebuild_registry();
        self
    }

    /// Calls `f` with every stderr line of the server (for a log). It runs
    /// on the task that drains stderr and must not block.
    ///
    /// ```
    /// let s = weir_mcp::stdio::Stdio::new(weir_smol::SmolProcess, weir_smol::Smol, weir_core::io::Command::new("srv"))
    ///     .on_stderr(|line| eprintln!("[srv] {line}"));
    /// # drop(s);
    /// ```
    pub fn on_stderr(mut self, f: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.on_stderr = Some(Arc::new(f));
        self.rebuild_registry();
        self
    }

    /// The command started on each connect.
    ///
    /// ```
    /// let s = weir_mcp::stdio::Stdio::new(weir_smol::SmolProcess, weir_smol::Smol, weir_core::io::Command::new("srv"));
    /// assert_eq!(s.command().program(), "srv");
    /// ```
    pub fn command(&self) -> &Command {
        &self.command
    }

    /// A view of the processes this connector starts (spawn count, the
    /// current pid, stderr, and a wait for every group to be gone).
    ///
    /// ```
    /// let s = weir_mcp::stdio::Stdio::new(weir_smol::SmolProcess, weir_smol::Smol, weir_core::io::Command::new("srv"));
    /// assert_eq!(s.handle().spawns(), 0);
    /// ```
    pub fn handle(&self) -> StdioHandle {
        StdioHandle {
            registry: self.registry.clone(),
        }
    }

    fn rebuild_registry(&mut self) {
        // Configuration happens before the first spawn, while this is the
        // only reference; a handle taken earlier keeps the old view.
        self.registry = Arc::new(Registry::new(self.stderr_lines, self.on_stderr.clone()));
    }

    /// Starts the server and returns its transport (what `connect` does).
    ///
    /// # Errors
    ///
    /// [`TransportError::Connect`] when the program cannot be started (not
    /// found, not executable).
    ///
    /// ```no_run
    /// # smol::block_on(async {
    /// let s = weir_mcp::stdio::Stdio::new(weir_smol::SmolProcess, weir_smol::Smol, weir_core::io::Command::new("my-server"));
    /// let transport = s.spawn()?;
    /// println!("started {}", transport.pid());
    /// # Ok::<(), weir_mcp::transport::TransportError>(())
    /// # });
    /// ```
    pub fn spawn(&self) -> Result<StdioTransport<S, R>, TransportError> {
        let spawned = self.spawner.spawn(&self.command).map_err(|e| {
            TransportError::Connect(Arc::new(std::io::Error::new(
                e.kind(),
                format!("could not start `{}`: {e}", self.command),
            )))
        })?;
        Ok(StdioTransport::start(
            self.rt.clone(),
            spawned,
            self.waits,
            self.max_frame,
            self.registry.clone(),
        ))
    }
}

impl<R: ProcessRuntime> Stdio<R::Spawner, R> {
    /// A connector that starts `command` with `rt`'s own spawner (the
    /// adapter's: `Smol` → `SmolProcess`, `Tokio` → `TokioProcess`,
    /// `AsyncStd` → `AsyncStdProcess`).
    ///
    /// ```
    /// use weir_core::io::Command;
    /// use weir_mcp::stdio::Stdio;
    ///
    /// let stdio = Stdio::on(weir_tokio::Tokio, Command::new("uvx").arg("mcp-server-time"));
    /// let client = weir_mcp::Client::builder(weir_tokio::Tokio).build(stdio);
    /// # drop(client);
    /// ```
    pub fn on(rt: R, command: Command) -> Self {
        Stdio::new(rt.process_spawner(), rt, command)
    }
}

impl<S: ProcessSpawner, R: Runtime> Connect for Stdio<S, R> {
    type Transport = StdioTransport<S, R>;

    async fn connect(&self) -> Result<StdioTransport<S, R>, TransportError> {
        self.spawn()
    }
}

/// A [`TransportFactory`](crate::manager::TransportFactory) for the stdio
/// entries of an `mcpServers` configuration: each becomes a [`Stdio`]
/// connector on `spawner` and `rt`. An HTTP entry is refused, naming the
/// server (combine with the HTTP transport's factory to serve both).
///
/// ```
/// use weir_mcp::config::McpServers;
/// use weir_mcp::manager::Manager;
/// use weir_mcp::stdio;
///
/// let cfg = McpServers::from_json(r#"{"mcpServers": {"time": {"command": "uvx", "args": ["mcp-server-time"]}}}"#).unwrap();
/// let factory = stdio::factory(weir_smol::SmolProcess, weir_smol::Smol);
/// let manager = Manager::from_config(&cfg, &factory, |_name, b| b, weir_smol::Smol).unwrap();
/// assert_eq!(manager.names().collect::<Vec<_>>(), ["time"]);
/// ```
pub fn factory<S, R>(
    spawner: S,
    rt: R,
) -> impl Fn(&str, &ServerConfig) -> Result<BoxConnect<R>, ConfigFileError>
where
    S: ProcessSpawner + Clone,
    R: Runtime,
{
    move |name: &str, server: &ServerConfig| match server {
        ServerConfig::Stdio(config) => Ok(BoxConnect::new(Stdio::from_config(
            spawner.clone(),
            rt.clone(),
            config,
        ))),
        _ => Err(ConfigFileError::Server {
            server: name.to_owned(),
            error: ConfigError::new(
                "mcpServers",
                "command",
                Rule::Other("this factory starts stdio servers only"),
            ),
        }),
    }
}

/// Splits a command line into program and arguments, as a POSIX shell
/// would split words (no expansion).
fn parse_command_line(line: &str) -> Result<Command, ConfigError> {
    let words = shlex::split(line).ok_or(ConfigError::new(
        "Stdio",
        "command_line",
        Rule::Other("must not end inside a quote or after a lone backslash"),
    ))?;
    let mut words = words.into_iter();
    let program = words
        .next()
        .ok_or(ConfigError::new("Stdio", "command_line", Rule::Missing))?;
    Ok(Command::new(program).args(words))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_split_like_a_shell() {
        let cmd = parse_command_line(r#"sh -c "echo 'a b'" x\ y"#).unwrap();
        assert_eq!(cmd.program(), "sh");
        assert_eq!(
            cmd.get_args().collect::<Vec<_>>(),
            ["-c", "echo 'a b'", "x y"]
        );
        assert_eq!(
            parse_command_line("   ").unwrap_err().field(),
            "command_line"
        );
        assert!(parse_command_line("a 'b").is_err());
    }
}
