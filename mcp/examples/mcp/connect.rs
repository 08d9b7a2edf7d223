//! `--server`: the stdio connector and client every subcommand uses.

use std::time::Duration;

use weir_mcp::Client;
use weir_mcp::stdio::{Stdio, StdioHandle};

use crate::args::Args;
use crate::runtime::Env;

pub struct Server<E: Env> {
    pub client: Client<E>,
    pub handle: StdioHandle,
    pub line: String,
}

pub fn server<E: Env>(rt: E, args: &Args) -> Result<Server<E>, String> {
    let line = args.required("--server")?.to_owned();
    let mut stdio =
        Stdio::command_line(rt.process_spawner(), rt, &line).map_err(|e| e.to_string())?;
    if args.switch("--server-stderr") {
        stdio = stdio.on_stderr(|l| eprintln!("[server] {l}"));
    }
    let handle = stdio.handle();
    let total = args.number("--timeout", 300.0f64)?;
    if !(total.is_finite() && total > 0.0) {
        return Err("`--timeout` must be a positive number of seconds".into());
    }
    let client = Client::builder(rt)
        // A server started through npx or a Python venv can take seconds
        // before it answers anything; a short probe would misread it.
        .probe_timeout(Duration::from_secs(30))
        .timeout(Some(Duration::from_secs_f64(total)))
        .build(stdio);
    Ok(Server {
        client,
        handle,
        line,
    })
}

impl<E: Env> Server<E> {
    /// The server's last stderr lines, for an error message.
    pub fn stderr_tail(&self) -> String {
        let tail = self.handle.stderr_tail();
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
        if !self
            .handle
            .wait_all_gone(&rt, Duration::from_secs(10))
            .await
        {
            eprintln!("mcp: `{}` did not stop within 10 s", self.line);
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
        format!("{name} ({era}, pid {:?})", self.handle.pid())
    }
}
