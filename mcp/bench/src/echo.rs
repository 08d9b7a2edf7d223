//! One MCP message in, at most one reply out: the echo server's whole logic,
//! shared by the stdio and the HTTP server.
//!
//! It speaks the legacy era (`initialize`) and refuses `server/discover`
//! with "method not found", which is how a legacy server answers the
//! modern probe; both clients then settle on `initialize`.

use serde_json::value::RawValue;

/// The tool the server offers. Its reply is `"Echo: " + message`, the text
/// server-everything's `echo` tool gives, so the bench checks both alike.
pub const TOOL: &str = "echo";

/// What the server replies with, for the client to check.
pub fn expected(message: &str) -> String {
    format!("Echo: {message}")
}

/// Only the fields the server reads; the rest of the message is skipped
/// unparsed.
#[derive(serde::Deserialize)]
struct Incoming<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    method: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    params: Option<&'a RawValue>,
}

#[derive(serde::Deserialize)]
struct CallParams<'a> {
    #[serde(borrow)]
    name: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    arguments: Option<Arguments<'a>>,
}

#[derive(serde::Deserialize)]
struct Arguments<'a> {
    #[serde(borrow, default)]
    message: Option<std::borrow::Cow<'a, str>>,
}

#[derive(serde::Deserialize)]
struct InitParams<'a> {
    #[serde(rename = "protocolVersion", borrow)]
    protocol_version: Option<std::borrow::Cow<'a, str>>,
}

/// The revisions of the `initialize` era the server agrees to.
const LEGACY: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// What one message asks of the server.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A reply was appended to the output.
    Replied,
    /// A reply to `initialize` was appended (HTTP gives it a session).
    Initialized,
    /// A notification or a response: nothing to send.
    Nothing,
}

/// Handles one message (`line`, without or with its newline) and appends
/// the reply, a single line ending in `\n`, to `out`.
pub fn answer(line: &[u8], out: &mut Vec<u8>) -> Outcome {
    let Ok(msg) = serde_json::from_slice::<Incoming<'_>>(line) else {
        reply_error(out, None, -32700, "parse error");
        return Outcome::Replied;
    };
    let (Some(id), Some(method)) = (msg.id, msg.method.as_deref()) else {
        return Outcome::Nothing;
    };
    match method {
        "tools/call" => {
            let params = msg
                .params
                .and_then(|p| serde_json::from_str::<CallParams<'_>>(p.get()).ok());
            match params {
                Some(p) if p.name == TOOL => {
                    let message = p.arguments.and_then(|a| a.message).unwrap_or_default();
                    head(out, id);
                    out.extend_from_slice(br#""result":{"content":[{"type":"text","text":"#);
                    // Writing into a Vec cannot fail.
                    let _ = serde_json::to_writer(&mut *out, &expected(&message));
                    out.extend_from_slice(b"}]}}\n");
                }
                _ => reply_error(out, Some(id), -32602, "unknown tool"),
            }
            Outcome::Replied
        }
        "initialize" => {
            let asked = msg
                .params
                .and_then(|p| serde_json::from_str::<InitParams<'_>>(p.get()).ok())
                .and_then(|p| p.protocol_version);
            let version = match asked.as_deref() {
                Some(v) if LEGACY.contains(&v) => v,
                _ => LEGACY[LEGACY.len() - 1],
            };
            head(out, id);
            out.extend_from_slice(br#""result":{"protocolVersion":""#);
            out.extend_from_slice(version.as_bytes());
            out.extend_from_slice(
                br#"","capabilities":{"tools":{}},"serverInfo":{"name":"weir-bench-echo","version":"1.0.0"}}}"#,
            );
            out.push(b'\n');
            Outcome::Initialized
        }
        "tools/list" => {
            head(out, id);
            out.extend_from_slice(
                br#""result":{"tools":[{"name":"echo","description":"Echoes back the input string","inputSchema":{"type":"object","properties":{"message":{"type":"string"}},"required":["message"]}}]}}"#,
            );
            out.push(b'\n');
            Outcome::Replied
        }
        "ping" => {
            head(out, id);
            out.extend_from_slice(b"\"result\":{}}\n");
            Outcome::Replied
        }
        _ => {
            reply_error(out, Some(id), -32601, "method not found");
            Outcome::Replied
        }
    }
}

fn head(out: &mut Vec<u8>, id: &RawValue) {
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    out.extend_from_slice(id.get().as_bytes());
    out.push(b',');
}

fn reply_error(out: &mut Vec<u8>, id: Option<&RawValue>, code: i32, message: &str) {
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    out.extend_from_slice(id.map_or("null", |i| i.get()).as_bytes());
    out.extend_from_slice(
        format!(r#","error":{{"code":{code},"message":"{message}"}}}}"#).as_bytes(),
    );
    out.push(b'\n');
}
