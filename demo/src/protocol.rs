//! JSON-RPC 2.0 frames as MCP's stdio transport carries them: one JSON object
//! per line, `tools/call` requests, results or errors.
//!
//! Both sides use these types: the servers to parse requests and answer, the
//! client to build requests and route responses by id.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The largest frame either side accepts, newline excluded. A longer line is
/// answered with [`INVALID_REQUEST`] and skipped, never buffered whole.
pub const MAX_FRAME: usize = 64 * 1024;

/// JSON-RPC: the frame is not valid JSON.
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC: valid JSON but not a request (or a frame over [`MAX_FRAME`]).
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC: the method is not `tools/call`.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// JSON-RPC: the params name no tool this server has.
pub const INVALID_PARAMS: i64 = -32602;
/// Server-defined: over the server's quota; `data.retry_after_ms` says when
/// to come back.
pub const RATE_LIMITED: i64 = -32029;
/// Server-defined: a transient failure; the same call may succeed later.
pub const TRANSIENT: i64 = -32003;

/// The only method the tool servers implement.
pub const TOOLS_CALL: &str = "tools/call";

/// A `tools/call` request as the client sends it.
///
/// ```
/// let r = weir_demo::protocol::Request::tools_call(7, "search", serde_json::json!({"q": "weir"}));
/// let line = serde_json::to_string(&r).unwrap();
/// assert!(line.contains(r#""method":"tools/call""#));
/// ```
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Request {
    /// Always `"2.0"`.
    pub jsonrpc: String,
    /// The id the response will carry.
    pub id: u64,
    /// The method, `tools/call` here.
    pub method: String,
    /// The tool and its arguments.
    pub params: CallParams,
}

/// The params of `tools/call`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CallParams {
    /// The tool's name.
    pub name: String,
    /// The tool's arguments.
    #[serde(default)]
    pub arguments: Value,
}

impl Request {
    /// A `tools/call` request for `tool` with `arguments`.
    ///
    /// ```
    /// let r = weir_demo::protocol::Request::tools_call(1, "fetch", serde_json::Value::Null);
    /// assert_eq!(r.params.name, "fetch");
    /// ```
    pub fn tools_call(id: u64, tool: &str, arguments: Value) -> Self {
        Request {
            jsonrpc: "2.0".into(),
            id,
            method: TOOLS_CALL.into(),
            params: CallParams {
                name: tool.into(),
                arguments,
            },
        }
    }
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RpcError {
    /// The error code ([`PARSE_ERROR`], [`RATE_LIMITED`], ...).
    pub code: i64,
    /// A short human message.
    pub message: String,
    /// Extra data: `{"retry_after_ms": n}` for [`RATE_LIMITED`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    /// An error without data.
    ///
    /// ```
    /// let e = weir_demo::protocol::RpcError::new(-32700, "parse error");
    /// assert!(e.data.is_none());
    /// ```
    pub fn new(code: i64, message: &str) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// The server's `retry_after_ms` hint, when it sent one.
    ///
    /// ```
    /// use weir_demo::protocol::{RpcError, RATE_LIMITED};
    /// let mut e = RpcError::new(RATE_LIMITED, "slow down");
    /// e.data = Some(serde_json::json!({"retry_after_ms": 40}));
    /// assert_eq!(e.retry_after_ms(), Some(40));
    /// ```
    pub fn retry_after_ms(&self) -> Option<u64> {
        self.data.as_ref()?.get("retry_after_ms")?.as_u64()
    }
}

/// A response: a result or an error, for `id` (`None` when the request could
/// not be read far enough to know its id).
///
/// ```
/// use weir_demo::protocol::Response;
/// let ok = Response::ok(3, serde_json::json!("done"));
/// let back: Response = serde_json::from_str(&serde_json::to_string(&ok).unwrap()).unwrap();
/// assert_eq!(back, ok);
/// ```
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Response {
    /// Always `"2.0"`.
    pub jsonrpc: String,
    /// The request's id, or null.
    pub id: Option<u64>,
    /// The result, on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// The error, on failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RpcError>,
}

impl Response {
    /// A successful response.
    ///
    /// ```
    /// assert!(weir_demo::protocol::Response::ok(1, serde_json::json!(1)).error.is_none());
    /// ```
    pub fn ok(id: u64, result: Value) -> Self {
        Response {
            jsonrpc: "2.0".into(),
            id: Some(id),
            result: Some(result),
            error: None,
        }
    }

    /// An error response.
    ///
    /// ```
    /// use weir_demo::protocol::{Response, RpcError, PARSE_ERROR};
    /// let r = Response::err(None, RpcError::new(PARSE_ERROR, "parse error"));
    /// assert_eq!(r.error.unwrap().code, PARSE_ERROR);
    /// ```
    pub fn err(id: Option<u64>, error: RpcError) -> Self {
        Response {
            jsonrpc: "2.0".into(),
            id,
            result: None,
            error: Some(error),
        }
    }
}

/// Why a frame is not a usable request, and the id to answer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadRequest {
    /// The request's id, when it could be read.
    pub id: Option<u64>,
    /// [`PARSE_ERROR`], [`INVALID_REQUEST`] or [`METHOD_NOT_FOUND`].
    pub code: i64,
    /// A short human message.
    pub message: &'static str,
}

impl BadRequest {
    /// The error response to send back.
    ///
    /// ```
    /// use weir_demo::protocol::{parse_request, PARSE_ERROR};
    /// let r = parse_request(b"{").unwrap_err().response();
    /// assert_eq!((r.id, r.error.unwrap().code), (None, PARSE_ERROR));
    /// ```
    pub fn response(&self) -> Response {
        Response::err(self.id, RpcError::new(self.code, self.message))
    }
}

/// Reads one frame as a `tools/call` request, or says why the server must
/// answer with an error instead. Never panics, whatever the bytes.
///
/// ```
/// use weir_demo::protocol::{parse_request, PARSE_ERROR};
/// assert_eq!(parse_request(b"{not json").unwrap_err().code, PARSE_ERROR);
/// let ok = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search","arguments":{}}}"#;
/// assert_eq!(parse_request(ok).unwrap().id, 1);
/// ```
pub fn parse_request(frame: &[u8]) -> Result<Request, BadRequest> {
    let bad = |id, code, message| BadRequest { id, code, message };
    let value: Value =
        serde_json::from_slice(frame).map_err(|_| bad(None, PARSE_ERROR, "parse error"))?;
    // Keep the id when there is one, so even a bad request is answered to
    // the call that sent it.
    let id = value.get("id").and_then(Value::as_u64);
    let request: Request =
        serde_json::from_value(value).map_err(|_| bad(id, INVALID_REQUEST, "invalid request"))?;
    if request.jsonrpc != "2.0" {
        return Err(bad(id, INVALID_REQUEST, "jsonrpc must be \"2.0\""));
    }
    if request.method != TOOLS_CALL {
        return Err(bad(id, METHOD_NOT_FOUND, "method not found"));
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(frame: &[u8]) -> i64 {
        parse_request(frame).unwrap_err().code
    }

    #[test]
    fn malformed_frames_get_parse_error() {
        for frame in [
            &b""[..],
            b"{",
            b"\xff\xfe",
            b"}{",
            b"[1,2",
            b"nul",
            b"\"unterminated",
        ] {
            assert_eq!(code(frame), PARSE_ERROR, "{frame:?}");
        }
    }

    #[test]
    fn json_that_is_not_a_request_is_invalid_request() {
        assert_eq!(code(b"42"), INVALID_REQUEST);
        assert_eq!(code(b"{}"), INVALID_REQUEST);
        assert_eq!(
            code(br#"{"jsonrpc":"2.0","id":"x","method":"tools/call"}"#),
            INVALID_REQUEST
        );
        let wrong_version =
            br#"{"jsonrpc":"1.0","id":4,"method":"tools/call","params":{"name":"a"}}"#;
        let r = parse_request(wrong_version).unwrap_err();
        assert_eq!((r.id, r.code), (Some(4), INVALID_REQUEST));
    }

    #[test]
    fn other_methods_are_not_found() {
        let r = parse_request(
            br#"{"jsonrpc":"2.0","id":9,"method":"tools/list","params":{"name":"a"}}"#,
        )
        .unwrap_err();
        assert_eq!((r.id, r.code), (Some(9), METHOD_NOT_FOUND));
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = fastrand::Rng::with_seed(7);
        let valid = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search","arguments":{"q":1}}}"#;
        for _ in 0..2_000 {
            // Mutate a valid frame so many inputs get past the first byte.
            let mut frame = valid.to_vec();
            for _ in 0..rng.usize(1..4) {
                let i = rng.usize(..frame.len());
                frame[i] = rng.u8(..);
            }
            frame.truncate(rng.usize(..=frame.len()));
            let _ = parse_request(&frame);
        }
    }

    #[test]
    fn request_round_trips() {
        let r = Request::tools_call(5, "code", serde_json::json!({"src": "fn main(){}"}));
        let line = serde_json::to_vec(&r).unwrap();
        assert_eq!(parse_request(&line).unwrap(), r);
    }
}
