//! Where the clients connect: the echo servers of this crate (stdio: a
//! process per client; HTTP: one server process for the whole run), or
//! servers given on the command line (server-everything, say).

use std::fmt;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};

#[derive(Debug, Clone)]
pub enum Target {
    Stdio { program: String, args: Vec<String> },
    Http { url: String },
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Stdio { program, args } if args.is_empty() => write!(f, "`{program}`"),
            Target::Stdio { program, args } => write!(f, "`{program} {}`", args.join(" ")),
            Target::Http { url } => f.write_str(url),
        }
    }
}

/// The stdio echo server of this crate, or `line` split as a shell would.
pub fn stdio_target(line: Option<&str>) -> Result<Target, String> {
    let Some(line) = line else {
        return Ok(Target::Stdio {
            program: env!("CARGO_BIN_EXE_echo-stdio").into(),
            args: Vec::new(),
        });
    };
    let mut words = shlex::split(line)
        .filter(|w| !w.is_empty())
        .ok_or_else(|| format!("`--stdio-server {line}`: not a command line"))?
        .into_iter();
    let program = words
        .next()
        .ok_or_else(|| "`--stdio-server` is empty".to_owned())?;
    Ok(Target::Stdio {
        program,
        args: words.collect(),
    })
}

/// The HTTP echo server of this crate, running until dropped.
pub struct HttpEcho {
    child: Child,
    // Held open: the server ends when it sees EOF here.
    _stdin: ChildStdin,
    pub url: String,
}

impl HttpEcho {
    pub fn start() -> Result<HttpEcho, String> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_echo-http"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting echo-http: {e}"))?;
        let stdin = child.stdin.take().expect("piped");
        let mut first = String::new();
        let read = BufReader::new(child.stdout.take().expect("piped")).read_line(&mut first);
        let url = match (read, first.trim().strip_prefix("listening ")) {
            (Ok(_), Some(url)) => url.to_owned(),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("echo-http did not say where it listens: {first:?}"));
            }
        };
        Ok(HttpEcho {
            child,
            _stdin: stdin,
            url,
        })
    }
}

impl Drop for HttpEcho {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
