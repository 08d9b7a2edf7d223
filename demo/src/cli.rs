//! The example's command line: `--calls N --runtime smol|tokio|async-std
//! --seed S --json FILE --server "<command line>" --tool NAME --args JSON`.

use std::path::PathBuf;
use std::str::FromStr;

/// The runtime the client runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeChoice {
    /// smol (the default).
    Smol,
    /// tokio, multi-threaded with two workers.
    Tokio,
    /// async-std.
    AsyncStd,
}

impl RuntimeChoice {
    /// The name as written on the command line.
    ///
    /// ```
    /// assert_eq!(weir_demo::cli::RuntimeChoice::AsyncStd.name(), "async-std");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            RuntimeChoice::Smol => "smol",
            RuntimeChoice::Tokio => "tokio",
            RuntimeChoice::AsyncStd => "async-std",
        }
    }
}

impl FromStr for RuntimeChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "smol" => Ok(RuntimeChoice::Smol),
            "tokio" => Ok(RuntimeChoice::Tokio),
            "async-std" | "async_std" => Ok(RuntimeChoice::AsyncStd),
            _ => Err(format!("unknown runtime {s:?} (smol, tokio or async-std)")),
        }
    }
}

/// Parsed arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// Number of tool calls.
    pub calls: usize,
    /// The client's runtime.
    pub runtime: RuntimeChoice,
    /// Seed for the workload, the servers and the jitter.
    pub seed: u64,
    /// Where to write the JSON report.
    pub json: Option<PathBuf>,
    /// A real MCP server's command line, run over stdio instead of the
    /// embedded servers.
    pub server: Option<String>,
    /// With `--server`: the tool to call.
    pub tool: Option<String>,
    /// With `--server`: the tool's arguments, a JSON object.
    pub args: Option<serde_json::Value>,
}

/// The usage line.
pub const USAGE: &str = "usage: tool_calls [--calls N] [--runtime smol|tokio|async-std] [--seed S] [--json FILE]\n                  [--server \"<command line>\" [--tool NAME] [--args JSON]]";

impl Args {
    /// Parses the arguments after the program name.
    ///
    /// ```
    /// use weir_demo::cli::{Args, RuntimeChoice};
    /// let a = Args::parse(["--calls", "50", "--runtime", "tokio"].map(String::from)).unwrap();
    /// assert_eq!((a.calls, a.runtime, a.seed), (50, RuntimeChoice::Tokio, 42));
    /// assert!(Args::parse(["--calls".to_string()]).is_err());
    /// let a = Args::parse(["--server", "npx -y server-everything", "--args", r#"{"message":"hi"}"#].map(String::from)).unwrap();
    /// assert_eq!(a.server.as_deref(), Some("npx -y server-everything"));
    /// assert!(Args::parse(["--tool", "echo"].map(String::from)).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// A message naming the bad argument.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
        let mut out = Args {
            calls: 2_000,
            runtime: RuntimeChoice::Smol,
            seed: 42,
            json: None,
            server: None,
            tool: None,
            args: None,
        };
        let mut it = args.into_iter();
        while let Some(flag) = it.next() {
            let mut value = || it.next().ok_or(format!("{flag} needs a value"));
            match flag.as_str() {
                "--calls" => out.calls = value()?.parse().map_err(|e| format!("--calls: {e}"))?,
                "--runtime" => out.runtime = value()?.parse()?,
                "--seed" => out.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
                "--json" => out.json = Some(value()?.into()),
                "--server" => out.server = Some(value()?),
                "--tool" => out.tool = Some(value()?),
                "--args" => {
                    let v: serde_json::Value =
                        serde_json::from_str(&value()?).map_err(|e| format!("--args: {e}"))?;
                    if !v.is_object() {
                        return Err("--args must be a JSON object".into());
                    }
                    out.args = Some(v);
                }
                "-h" | "--help" => return Err(USAGE.into()),
                other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
            }
        }
        if out.calls == 0 {
            return Err("--calls must be at least 1".into());
        }
        if out.server.as_deref().is_some_and(|s| s.trim().is_empty()) {
            return Err("--server needs a command line".into());
        }
        if out.server.is_none() && (out.tool.is_some() || out.args.is_some()) {
            return Err("--tool and --args go with --server".into());
        }
        Ok(out)
    }
}
