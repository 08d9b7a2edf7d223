//! MCP's own types, as far as a client reads them: versions, identities,
//! tools, resources, prompts, completion, progress.
//!
//! Every type keeps the fields it does not name in `extra`, so nothing a
//! server sends is lost, and JSON Schemas stay [`serde_json::Value`]s
//! exactly as received.
//!
//! ```
//! use weir_mcp::protocol::Tool;
//! let t: Tool = serde_json::from_str(r#"{"name":"echo","inputSchema":{"type":"object"},"x":1}"#).unwrap();
//! assert_eq!(t.name, "echo");
//! assert_eq!(t.extra["x"], 1);
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The modern revision weir-mcp speaks.
///
/// ```
/// assert_eq!(weir_mcp::protocol::MODERN_VERSION, "2026-07-28");
/// ```
pub const MODERN_VERSION: &str = "2026-07-28";

/// Every revision weir-mcp speaks, newest first.
///
/// ```
/// assert_eq!(weir_mcp::protocol::SUPPORTED_VERSIONS.last(), Some(&"2024-11-05"));
/// ```
pub const SUPPORTED_VERSIONS: [&str; 5] = [
    MODERN_VERSION,
    "2025-11-25",
    "2025-06-18",
    "2025-03-26",
    "2024-11-05",
];

/// The legacy revisions (negotiated through `initialize`), newest first.
///
/// ```
/// assert_eq!(weir_mcp::protocol::LEGACY_VERSIONS[0], "2025-11-25");
/// ```
pub const LEGACY_VERSIONS: [&str; 4] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

/// The modern revisions (declared per request), newest first.
///
/// ```
/// assert_eq!(weir_mcp::protocol::MODERN_VERSIONS, ["2026-07-28"]);
/// ```
pub const MODERN_VERSIONS: [&str; 1] = [MODERN_VERSION];

/// The supported version equal to `v`, as a `'static` string.
///
/// ```
/// assert_eq!(weir_mcp::protocol::known_version("2025-06-18"), Some("2025-06-18"));
/// assert_eq!(weir_mcp::protocol::known_version("1999-01-01"), None);
/// ```
pub fn known_version(v: &str) -> Option<&'static str> {
    SUPPORTED_VERSIONS.iter().copied().find(|k| *k == v)
}

/// `_meta` keys of the modern envelope.
///
/// ```
/// assert!(weir_mcp::protocol::meta::PROTOCOL_VERSION.starts_with("io.modelcontextprotocol/"));
/// ```
pub mod meta {
    /// The protocol version of a modern request.
    pub const PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
    /// The client's capabilities, on every modern request.
    pub const CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
    /// The client's name and version.
    pub const CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
    /// The server's name and version, on modern results.
    pub const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
}

/// A name and version (client or server).
///
/// ```
/// let i = weir_mcp::protocol::Implementation::new("weir", "0.1.0");
/// assert_eq!(serde_json::to_value(&i).unwrap(), serde_json::json!({"name":"weir","version":"0.1.0"}));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Implementation {
    /// The program's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Anything else sent (title, icons, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Implementation {
    /// An implementation with only a name and version.
    ///
    /// ```
    /// let i = weir_mcp::protocol::Implementation::new("a", "1");
    /// assert_eq!(i.name, "a");
    /// ```
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Implementation {
            name: name.into(),
            version: version.into(),
            extra: Map::new(),
        }
    }
}

/// What a server said about itself when the era was settled.
///
/// ```
/// let s = weir_mcp::protocol::ServerInfo::default();
/// assert!(s.implementation.is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct ServerInfo {
    /// The server's name and version, if it sent them.
    pub implementation: Option<Implementation>,
    /// Its capabilities, as sent.
    pub capabilities: Value,
    /// Its instructions, if any.
    pub instructions: Option<String>,
    /// The versions it listed (`server/discover`), or the one it chose
    /// (`initialize`).
    pub versions: Vec<String>,
}

/// Hints a server gives about a tool. Only hints: weir-mcp reads them for
/// retry decisions only when the client is told to trust the server.
///
/// ```
/// let a: weir_mcp::protocol::ToolAnnotations = serde_json::from_str(r#"{"readOnlyHint":true}"#).unwrap();
/// assert_eq!(a.read_only_hint, Some(true));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolAnnotations {
    /// The tool does not change its environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_hint: Option<bool>,
    /// The tool may destroy things.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive_hint: Option<bool>,
    /// Calling the tool again with the same arguments has no further effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent_hint: Option<bool>,
    /// The tool reaches outside the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_world_hint: Option<bool>,
    /// Anything else sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A tool a server offers.
///
/// ```
/// let t: weir_mcp::protocol::Tool = serde_json::from_str(r#"{"name":"add","inputSchema":{}}"#).unwrap();
/// assert!(t.annotations.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    /// The name to call it by.
    pub name: String,
    /// A description for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema of its arguments, unchanged.
    #[serde(default)]
    pub input_schema: Value,
    /// The JSON Schema of its structured output, if declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// The server's hints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<ToolAnnotations>,
    /// Anything else sent (title, icons, `_meta`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A page of a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Page<T> {
    #[serde(
        default = "Vec::new",
        alias = "tools",
        alias = "resources",
        alias = "resourceTemplates",
        alias = "prompts"
    )]
    pub items: Vec<T>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// The result of `tools/call`. A tool's own failure is a result with
/// `is_error` set, not an error: the server worked.
///
/// ```
/// let r: weir_mcp::protocol::CallToolResult =
///     serde_json::from_str(r#"{"content":[{"type":"text","text":"hi"}]}"#).unwrap();
/// assert!(!r.is_error);
/// assert_eq!(r.text(), "hi");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolResult {
    /// The content blocks, as sent.
    #[serde(default)]
    pub content: Vec<Value>,
    /// Structured output, if the tool declares one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    /// Whether the tool reported a failure.
    #[serde(default)]
    pub is_error: bool,
    /// Anything else sent (`_meta`, `resultType`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CallToolResult {
    /// The text blocks joined by newlines.
    ///
    /// ```
    /// let r: weir_mcp::protocol::CallToolResult = serde_json::from_str(
    ///     r#"{"content":[{"type":"text","text":"a"},{"type":"image"},{"type":"text","text":"b"}]}"#).unwrap();
    /// assert_eq!(r.text(), "a\nb");
    /// ```
    pub fn text(&self) -> String {
        let texts: Vec<&str> = self
            .content
            .iter()
            .filter(|c| c.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|c| c.get("text").and_then(Value::as_str))
            .collect();
        texts.join("\n")
    }
}

/// A resource a server lists.
///
/// ```
/// let r: weir_mcp::protocol::Resource = serde_json::from_str(r#"{"uri":"file:///a","name":"a"}"#).unwrap();
/// assert_eq!(r.uri, "file:///a");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// Its URI.
    pub uri: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Anything else sent (mimeType, description, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A parameterised resource (RFC 6570 URI template).
///
/// ```
/// let t: weir_mcp::protocol::ResourceTemplate =
///     serde_json::from_str(r#"{"uriTemplate":"file:///{p}","name":"f"}"#).unwrap();
/// assert_eq!(t.uri_template, "file:///{p}");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceTemplate {
    /// The template.
    pub uri_template: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Anything else sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The result of `resources/read`.
///
/// ```
/// let r: weir_mcp::protocol::ReadResourceResult =
///     serde_json::from_str(r#"{"contents":[{"uri":"a","text":"x"}]}"#).unwrap();
/// assert_eq!(r.contents.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadResourceResult {
    /// The contents, as sent.
    #[serde(default)]
    pub contents: Vec<Value>,
    /// Anything else sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A prompt a server lists.
///
/// ```
/// let p: weir_mcp::protocol::Prompt = serde_json::from_str(r#"{"name":"greet"}"#).unwrap();
/// assert_eq!(p.name, "greet");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prompt {
    /// Its name.
    pub name: String,
    /// Anything else sent (description, arguments, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The result of `prompts/get`.
///
/// ```
/// let r: weir_mcp::protocol::GetPromptResult = serde_json::from_str(r#"{"messages":[]}"#).unwrap();
/// assert!(r.messages.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetPromptResult {
    /// The messages, as sent.
    #[serde(default)]
    pub messages: Vec<Value>,
    /// Anything else sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The result of `completion/complete`.
///
/// ```
/// let r: weir_mcp::protocol::CompleteResult =
///     serde_json::from_str(r#"{"completion":{"values":["a","b"]}}"#).unwrap();
/// assert_eq!(r.values(), ["a", "b"]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompleteResult {
    /// The completion object (`values`, `total`, `hasMore`), as sent.
    pub completion: Value,
    /// Anything else sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CompleteResult {
    /// The suggested values.
    ///
    /// ```
    /// let r: weir_mcp::protocol::CompleteResult = serde_json::from_str(r#"{"completion":{}}"#).unwrap();
    /// assert!(r.values().is_empty());
    /// ```
    pub fn values(&self) -> Vec<&str> {
        self.completion
            .get("values")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
}

/// One progress report of a call.
///
/// ```
/// let p: weir_mcp::protocol::Progress = serde_json::from_str(r#"{"progress":1,"total":4}"#).unwrap();
/// assert_eq!(p.total, Some(4.0));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// How far along (grows with each report).
    pub progress: f64,
    /// The end, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<f64>,
    /// A human-readable note (2025-03-26 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Checks a tool's `x-mcp-header` declarations (2026-07-28, SEP-2243):
/// each value a non-empty HTTP token, unique ignoring case, on a property of
/// type `integer`, `string` or `boolean` (or of no declared type) reached
/// from the root through `properties` keys only. `Err` names the first rule broken.
///
/// The client drops tools that fail this from [`list_tools`](crate::Client::list_tools)
/// on every transport, so a tool list does not depend on how the server is
/// reached.
///
/// ```
/// use serde_json::json;
/// use weir_mcp::protocol::tool_headers_valid;
/// let ok = json!({"type": "object", "properties": {"region": {"type": "string", "x-mcp-header": "Region"}}});
/// assert!(tool_headers_valid(&ok).is_ok());
/// let bad = json!({"type": "object", "properties": {"r": {"type": "string", "x-mcp-header": "Has Space"}}});
/// assert!(tool_headers_valid(&bad).is_err());
/// let nested_in_items = json!({"type": "object", "properties": {"l": {"type": "array",
///     "items": {"type": "string", "x-mcp-header": "L"}}}});
/// assert!(tool_headers_valid(&nested_in_items).is_err());
/// ```
pub fn tool_headers_valid(input_schema: &Value) -> Result<(), String> {
    let mut seen = Vec::new();
    walk_headers(input_schema, true, true, &mut seen)
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

fn walk_headers(
    node: &Value,
    root: bool,
    reachable: bool,
    seen: &mut Vec<String>,
) -> Result<(), String> {
    match node {
        Value::Object(obj) => {
            if let Some(h) = obj.get("x-mcp-header") {
                if root || !reachable {
                    return Err("x-mcp-header outside a chain of `properties` from the root".into());
                }
                let Some(name) = h.as_str() else {
                    return Err("x-mcp-header is not a string".into());
                };
                if name.is_empty() {
                    return Err("x-mcp-header is empty".into());
                }
                if let Some(c) = name.chars().find(|c| !is_tchar(*c)) {
                    return Err(format!(
                        "x-mcp-header {name:?} has {c:?}, not an HTTP token character"
                    ));
                }
                let lower = name.to_ascii_lowercase();
                if seen.contains(&lower) {
                    return Err(format!("x-mcp-header {name:?} is declared twice"));
                }
                seen.push(lower);
                // An untyped property is accepted (the HTTP transport mirrors
                // it); a declared type must be a primitive one.
                match obj.get("type") {
                    None => {}
                    Some(Value::String(t))
                        if matches!(t.as_str(), "integer" | "string" | "boolean") => {}
                    _ => {
                        return Err(format!(
                            "x-mcp-header {name:?} on a property that is not integer, string or boolean"
                        ));
                    }
                }
            }
            for (key, value) in obj {
                if key == "properties"
                    && let Some(props) = value.as_object()
                {
                    for sub in props.values() {
                        walk_headers(sub, false, reachable, seen)?;
                    }
                } else if key != "x-mcp-header" {
                    walk_headers(value, false, false, seen)?;
                }
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter()
            .try_for_each(|v| walk_headers(v, false, false, seen)),
        _ => Ok(()),
    }
}
