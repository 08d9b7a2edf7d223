//! The common `mcpServers` configuration (as Claude Desktop, Cursor and
//! others write it), read into typed server entries.
//!
//! ```
//! use weir_mcp::config::{McpServers, ServerConfig};
//!
//! let cfg = McpServers::from_json(r#"{"mcpServers": {
//!     "everything": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything"]},
//!     "remote": {"url": "http://127.0.0.1:3001/mcp", "headers": {"Authorization": "Bearer x"}}
//! }}"#).unwrap();
//! assert!(matches!(cfg.servers["everything"], ServerConfig::Stdio(_)));
//! assert!(matches!(cfg.servers["remote"], ServerConfig::Http(_)));
//! ```

use core::fmt;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use weir_core::{ConfigError, Rule};

const C: &str = "mcpServers";

/// A server started as a child process, spoken to over its stdio.
///
/// ```
/// let s = weir_mcp::config::StdioConfig::new("python3", ["server.py"]);
/// assert_eq!(s.args, ["server.py"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct StdioConfig {
    /// The program.
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Variables added to its environment.
    pub env: BTreeMap<String, String>,
    /// Its working directory, if not the client's.
    pub cwd: Option<String>,
}

impl StdioConfig {
    /// A command with arguments and no extra environment.
    ///
    /// ```
    /// let s = weir_mcp::config::StdioConfig::new("node", ["index.js", "--stdio"]);
    /// assert_eq!(s.command, "node");
    /// ```
    pub fn new<I, S>(command: impl Into<String>, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        StdioConfig {
            command: command.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: BTreeMap::new(),
            cwd: None,
        }
    }
}

/// A server reached over Streamable HTTP.
///
/// ```
/// let h = weir_mcp::config::HttpConfig::new("http://127.0.0.1:8080/mcp");
/// assert!(h.headers.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct HttpConfig {
    /// The endpoint.
    pub url: String,
    /// Headers sent with every request (authorisation, for example).
    pub headers: BTreeMap<String, String>,
}

impl HttpConfig {
    /// An endpoint with no extra headers.
    ///
    /// ```
    /// let h = weir_mcp::config::HttpConfig::new("http://localhost/mcp");
    /// assert_eq!(h.url, "http://localhost/mcp");
    /// ```
    pub fn new(url: impl Into<String>) -> Self {
        HttpConfig {
            url: url.into(),
            headers: BTreeMap::new(),
        }
    }
}

/// One entry of `mcpServers`.
///
/// ```
/// use weir_mcp::config::{ServerConfig, StdioConfig};
/// let s = ServerConfig::Stdio(StdioConfig::new("echo-server", Vec::<String>::new()));
/// assert!(matches!(s, ServerConfig::Stdio(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerConfig {
    /// `command`, `args`, `env`, `cwd`.
    Stdio(StdioConfig),
    /// `url`, `headers`.
    Http(HttpConfig),
}

/// The servers of a configuration, by name (sorted).
///
/// ```
/// let cfg = weir_mcp::config::McpServers::from_json(r#"{"mcpServers": {}}"#).unwrap();
/// assert!(cfg.servers.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct McpServers {
    /// The servers, by name.
    pub servers: BTreeMap<String, ServerConfig>,
}

/// Why a configuration could not be read.
///
/// ```
/// use weir_mcp::config::{ConfigFileError, McpServers};
/// let e = McpServers::from_json(r#"{"mcpServers": {"x": {"args": []}}}"#).unwrap_err();
/// let ConfigFileError::Server { server, error } = e else { panic!() };
/// assert_eq!((server.as_str(), error.field()), ("x", "command"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigFileError {
    /// Not JSON, or not the expected shape (the parser's words).
    Json(String),
    /// An entry that breaks a rule: which server, which field, which rule.
    Server {
        /// The server's name.
        server: String,
        /// The field and rule.
        error: ConfigError,
    },
}

impl fmt::Display for ConfigFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigFileError::Json(e) => write!(f, "mcpServers: {e}"),
            ConfigFileError::Server { server, error } => write!(f, "server {server:?}: {error}"),
        }
    }
}

impl std::error::Error for ConfigFileError {}

#[derive(Deserialize)]
struct File {
    #[serde(rename = "mcpServers", alias = "servers")]
    servers: BTreeMap<String, Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    cwd: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    // Other keys (disabled, autoApprove, ...) belong to other programs.
    #[serde(flatten)]
    _rest: BTreeMap<String, Value>,
}

impl McpServers {
    /// Reads `{"mcpServers": {name: entry, ...}}` (the key `servers` is
    /// accepted too). An entry with `command` is a stdio server; one with
    /// `url` an HTTP server; `type` (`stdio`, `http`, `streamable-http`,
    /// `streamableHttp`) may say which.
    ///
    /// # Errors
    ///
    /// [`ConfigFileError::Json`] for text that is not such an object;
    /// [`ConfigFileError::Server`] naming the server, field and rule for an
    /// entry with neither `command` nor `url`, both, an empty one, or an
    /// unknown `type`.
    ///
    /// ```
    /// let e = weir_mcp::config::McpServers::from_json("[]").unwrap_err();
    /// assert!(matches!(e, weir_mcp::config::ConfigFileError::Json(_)));
    /// ```
    pub fn from_json(text: &str) -> Result<McpServers, ConfigFileError> {
        let file: File =
            serde_json::from_str(text).map_err(|e| ConfigFileError::Json(e.to_string()))?;
        let mut servers = BTreeMap::new();
        for (name, e) in file.servers {
            let bad = |field, rule| ConfigFileError::Server {
                server: name.clone(),
                error: ConfigError::new(C, field, rule),
            };
            let kind = match e.kind.as_deref() {
                None => None,
                Some("stdio") => Some(true),
                Some("http" | "streamable-http" | "streamableHttp") => Some(false),
                Some(_) => {
                    return Err(bad(
                        "type",
                        Rule::Other("one of stdio, http, streamable-http"),
                    ));
                }
            };
            let stdio = match (kind, &e.command, &e.url) {
                (Some(k), _, _) => k,
                (None, Some(_), None) => true,
                (None, None, Some(_)) => false,
                (None, Some(_), Some(_)) => {
                    return Err(bad(
                        "url",
                        Rule::Other("an entry has command or url, not both"),
                    ));
                }
                (None, None, None) => return Err(bad("command", Rule::Missing)),
            };
            let config = if stdio {
                let command = e.command.unwrap_or_default();
                if command.trim().is_empty() {
                    return Err(bad("command", Rule::Missing));
                }
                ServerConfig::Stdio(StdioConfig {
                    command,
                    args: e.args,
                    env: e.env,
                    cwd: e.cwd,
                })
            } else {
                let url = e.url.unwrap_or_default();
                if url.trim().is_empty() {
                    return Err(bad("url", Rule::Missing));
                }
                ServerConfig::Http(HttpConfig {
                    url,
                    headers: e.headers,
                })
            };
            servers.insert(name, config);
        }
        Ok(McpServers { servers })
    }
}
