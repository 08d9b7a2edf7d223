//! `--server` or `--url`: the one client every subcommand uses, over stdio
//! to a child process or over Streamable HTTP to an endpoint.

use std::time::Duration;

use weir_mcp::Client;
use weir_mcp::http::StreamableHttpBuilder;
use weir_mcp::stdio::{Stdio, StdioHandle};

use crate::args::Args;
use crate::runtime::Env;

pub struct Server<E: Env> {
    pub client: Client<E>,
    peer: Peer,
}

/// Where the client's server is.
enum Peer {
    /// A child process: its handle (pid, stderr) and its command line.
    Process { handle: StdioHandle, line: String },
    /// An HTTP endpoint someone else runs.
    Url(String),
}

/// The client for `--server "<command line>"` or `--url URL`, exactly one
/// of them. Nothing is started or sent until the first call.
pub fn connect<E: Env>(rt: E, args: &Args) -> Result<Server<E>, String> {
    let total = args.number("--timeout", 300.0f64)?;
    if !(total.is_finite() && total > 0.0) {
        return Err("`--timeout` must be a positive number of seconds".into());
    }
    let client = Client::builder(rt)
        // A server started through npx or a Python venv can take seconds
        // before it answers anything; a short probe would misread it.
        .probe_timeout(Duration::from_secs(30))
        .timeout(Some(Duration::from_secs_f64(total)));
    match Target::of(args)? {
        Target::Command(line) => {
            let mut stdio =
                Stdio::command_line(rt.process_spawner(), rt, line).map_err(|e| e.to_string())?;
            if args.switch("--server-stderr") {
                stdio = stdio.on_stderr(|l| eprintln!("[server] {l}"));
            }
            let handle = stdio.handle();
            Ok(Server {
                client: client.build(stdio),
                peer: Peer::Process {
                    handle,
                    line: line.to_owned(),
                },
            })
        }
        Target::Url(url) => {
            // Every request in flight is a POST of its own: as many
            // connections as the bench keeps calls in flight.
            let http =
                StreamableHttpBuilder::new(url).max_connections(args.number("--in-flight", 64)?);
            // The connector would report a bad URL on the first call; the
            // same check now fails before anything runs.
            http.clone()
                .build(rt)
                .map_err(|e| format!("`--url {url}`: {e}"))?;
            Ok(Server {
                client: client.build(http.connector(rt)),
                peer: Peer::Url(url.to_owned()),
            })
        }
    }
}

/// Where the server is: exactly one of `--server` and `--url`.
pub enum Target<'a> {
    Command(&'a str),
    Url(&'a str),
}

impl<'a> Target<'a> {
    /// The target `args` name, or the usage error.
    pub fn of(args: &'a Args) -> Result<Target<'a>, String> {
        match (args.get("--server"), args.get("--url")) {
            (Some(line), None) => Ok(Target::Command(line)),
            (None, Some(_)) if args.switch("--server-stderr") => {
                Err("`--server-stderr` needs `--server` (`--url` starts no process)".into())
            }
            (None, Some(url)) => Ok(Target::Url(url)),
            (Some(_), Some(_)) => Err("give `--server` or `--url`, not both".into()),
            (None, None) => Err("`--server \"<command line>\"` or `--url URL` is required".into()),
        }
    }
}

impl<E: Env> Server<E> {
    /// The server's last stderr lines, for an error message (none over HTTP).
    pub fn stderr_tail(&self) -> String {
        let Peer::Process { handle, .. } = &self.peer else {
            return String::new();
        };
        let tail = handle.stderr_tail();
        if tail.is_empty() {
            return String::new();
        }
        let start = tail.len().saturating_sub(10);
        format!(
            "\nlast lines of the server's stderr:\n  {}",
            tail[start..].join("\n  ")
        )
    }

    /// Closes the client and waits (bounded) for the server's processes.
    pub async fn close(self, rt: E) {
        self.client.close();
        if let Peer::Process { handle, line } = self.peer {
            if !handle.wait_all_gone(&rt, Duration::from_secs(10)).await {
                eprintln!("mcp: `{line}` did not stop within 10 s");
            }
        }
    }

    pub fn describe(&self) -> String {
        let era = match self.client.era() {
            Some((era, version)) => format!("{era:?} era, {version}"),
            None => "era unknown".into(),
        };
        let name = self
            .client
            .server_info()
            .and_then(|s| s.implementation)
            .map(|i| format!("{} {}", i.name, i.version))
            .unwrap_or_else(|| "unnamed server".into());
        let at = match &self.peer {
            Peer::Process { handle, .. } => format!("pid {:?}", handle.pid()),
            Peer::Url(url) => url.clone(),
        };
        format!("{name} ({era}, {at})")
    }
}
