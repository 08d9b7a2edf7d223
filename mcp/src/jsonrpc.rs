//! JSON-RPC 2.0 messages as MCP uses them: one object per message, no
//! batches (removed in 2025-06-18).
//!
//! Params and results stay unparsed ([`RawValue`]) until the caller that
//! asked for them decodes them: the reader task only needs the id to route a
//! message, and a tool's schema goes back out byte for byte.
//!
//! ```
//! use weir_mcp::jsonrpc::{Message, RequestId};
//!
//! let msg = Message::decode(br#"{"jsonrpc":"2.0","id":7,"result":{"ok":true}}"#).unwrap();
//! match msg {
//!     Message::Response(r) => {
//!         assert_eq!(r.id, RequestId::Number(7));
//!         assert_eq!(r.result.get(), r#"{"ok":true}"#);
//!     }
//!     _ => unreachable!(),
//! }
//! ```

use core::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
pub use serde_json::value::RawValue;

/// A request id: a number or a string, as JSON-RPC allows.
///
/// weir-mcp issues numbers; a server's own requests may use either.
///
/// ```
/// use weir_mcp::jsonrpc::RequestId;
/// assert_eq!(RequestId::from(3).to_string(), "3");
/// assert_eq!(RequestId::from("a").to_string(), "\"a\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    /// A numeric id.
    Number(i64),
    /// A string id.
    String(String),
}

impl From<i64> for RequestId {
    fn from(n: i64) -> Self {
        RequestId::Number(n)
    }
}

impl From<&str> for RequestId {
    fn from(s: &str) -> Self {
        RequestId::String(s.to_owned())
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Number(n) => write!(f, "{n}"),
            RequestId::String(s) => write!(f, "{s:?}"),
        }
    }
}

/// A request: a method call that expects exactly one response with its id.
///
/// ```
/// use weir_mcp::jsonrpc::{Request, RequestId};
/// let r = Request::new(1, "ping", None);
/// assert_eq!(r.id, RequestId::Number(1));
/// ```
#[derive(Debug, Clone)]
pub struct Request {
    /// Matches the response to this request.
    pub id: RequestId,
    /// The method name, such as `tools/call`.
    pub method: String,
    /// The parameters, unparsed.
    pub params: Option<Box<RawValue>>,
}

impl Request {
    /// A request with `params` already encoded.
    ///
    /// ```
    /// let r = weir_mcp::jsonrpc::Request::new(2, "tools/list", None);
    /// assert_eq!(r.method, "tools/list");
    /// ```
    pub fn new(
        id: impl Into<RequestId>,
        method: impl Into<String>,
        params: Option<Box<RawValue>>,
    ) -> Self {
        Request {
            id: id.into(),
            method: method.into(),
            params,
        }
    }
}

/// A notification: a method call without an id, never answered.
///
/// ```
/// let n = weir_mcp::jsonrpc::Notification::new("notifications/initialized", None);
/// assert_eq!(n.method, "notifications/initialized");
/// ```
#[derive(Debug, Clone)]
pub struct Notification {
    /// The method name, such as `notifications/progress`.
    pub method: String,
    /// The parameters, unparsed.
    pub params: Option<Box<RawValue>>,
}

impl Notification {
    /// A notification with `params` already encoded.
    ///
    /// ```
    /// let n = weir_mcp::jsonrpc::Notification::new("x", None);
    /// assert!(n.params.is_none());
    /// ```
    pub fn new(method: impl Into<String>, params: Option<Box<RawValue>>) -> Self {
        Notification {
            method: method.into(),
            params,
        }
    }
}

/// A successful response.
///
/// ```
/// use weir_mcp::jsonrpc::{RawValue, Response};
/// let r = Response::new(1, RawValue::from_string("{}".into()).unwrap());
/// assert_eq!(r.result.get(), "{}");
/// ```
#[derive(Debug, Clone)]
pub struct Response {
    /// The id of the request answered.
    pub id: RequestId,
    /// The result, unparsed.
    pub result: Box<RawValue>,
}

impl Response {
    /// A response carrying `result`.
    ///
    /// ```
    /// use weir_mcp::jsonrpc::{RawValue, Response};
    /// let r = Response::new(5, RawValue::from_string("1".into()).unwrap());
    /// assert_eq!(r.id, 5.into());
    /// ```
    pub fn new(id: impl Into<RequestId>, result: Box<RawValue>) -> Self {
        Response {
            id: id.into(),
            result,
        }
    }
}

/// A JSON-RPC error object.
///
/// ```
/// use weir_mcp::jsonrpc::ErrorObject;
/// let e = ErrorObject::new(ErrorObject::METHOD_NOT_FOUND, "no such method");
/// assert_eq!(e.code, -32601);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// The error code.
    pub code: i64,
    /// A short description.
    pub message: String,
    /// Extra data, as the server sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ErrorObject {
    /// Invalid JSON was received.
    pub const PARSE_ERROR: i64 = -32700;
    /// The JSON is not a valid request object.
    pub const INVALID_REQUEST: i64 = -32600;
    /// The method does not exist or is not available.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Invalid method parameters.
    pub const INVALID_PARAMS: i64 = -32602;
    /// Internal JSON-RPC error.
    pub const INTERNAL_ERROR: i64 = -32603;
    /// 2026-07-28: HTTP headers do not match the body.
    pub const HEADER_MISMATCH: i64 = -32020;
    /// 2026-07-28: the request needs a client capability it did not declare.
    pub const MISSING_REQUIRED_CLIENT_CAPABILITY: i64 = -32021;
    /// 2026-07-28: the requested protocol version is not supported; `data`
    /// lists the `supported` ones.
    pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;

    /// An error object without data.
    ///
    /// ```
    /// let e = weir_mcp::jsonrpc::ErrorObject::new(-1, "x");
    /// assert!(e.data.is_none());
    /// ```
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        ErrorObject {
            code,
            message: message.into(),
            data: None,
        }
    }
}

impl fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JSON-RPC error {}: {}", self.code, self.message)
    }
}

/// An error response. The id is absent when the server could not read the
/// request's id (a parse error).
///
/// ```
/// use weir_mcp::jsonrpc::{ErrorObject, ErrorResponse};
/// let e = ErrorResponse { id: None, error: ErrorObject::new(-32700, "parse error") };
/// assert!(e.id.is_none());
/// ```
#[derive(Debug, Clone)]
pub struct ErrorResponse {
    /// The id of the request answered, if known.
    pub id: Option<RequestId>,
    /// What went wrong.
    pub error: ErrorObject,
}

/// One JSON-RPC message, in either direction.
///
/// ```
/// use weir_mcp::jsonrpc::{Message, Request};
/// let m = Message::Request(Request::new(1, "ping", None));
/// let bytes = m.encode().unwrap();
/// assert_eq!(bytes, br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
/// assert!(matches!(Message::decode(&bytes).unwrap(), Message::Request(_)));
/// ```
#[derive(Debug, Clone)]
pub enum Message {
    /// A request (has an id and a method).
    Request(Request),
    /// A notification (a method, no id).
    Notification(Notification),
    /// A successful response (an id and a result).
    Response(Response),
    /// An error response.
    Error(ErrorResponse),
}

/// The wire shape every message is read through: all fields optional, then
/// classified, so that an odd message is a typed error instead of a
/// deserializer failure with no context.
#[derive(Deserialize)]
struct Wire {
    #[serde(default)]
    jsonrpc: Option<String>,
    // `Option<Option<..>>` tells an absent id from `"id": null`.
    #[serde(default, deserialize_with = "present")]
    id: Option<Option<RequestId>>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    params: Option<Box<RawValue>>,
    #[serde(default)]
    result: Option<Box<RawValue>>,
    #[serde(default)]
    error: Option<ErrorObject>,
}

fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

#[derive(Serialize)]
struct WireOut<'a> {
    jsonrpc: &'static str,
    // `Some(None)` is the `"id": null` of an error that names no request.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<Option<&'a RequestId>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a ErrorObject>,
}

impl Message {
    /// Parses one message from its JSON text.
    ///
    /// # Errors
    ///
    /// [`DecodeError::Json`] when the bytes are not JSON or not an object of
    /// the JSON-RPC shape; [`DecodeError::NotAMessage`] when the object is
    /// neither a request, a notification nor a response.
    ///
    /// ```
    /// use weir_mcp::jsonrpc::{DecodeError, Message};
    /// assert!(matches!(Message::decode(b"{\"jsonrpc\":\"2.0\"}"), Err(DecodeError::NotAMessage)));
    /// assert!(matches!(Message::decode(b"nope"), Err(DecodeError::Json(_))));
    /// ```
    pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
        let wire: Wire =
            serde_json::from_slice(bytes).map_err(|e| DecodeError::Json(e.to_string()))?;
        if let Some(v) = &wire.jsonrpc
            && v != "2.0"
        {
            return Err(DecodeError::Json(format!("jsonrpc version {v:?}")));
        }
        match (wire.id, wire.method, wire.result, wire.error) {
            (Some(Some(id)), Some(method), None, None) => Ok(Message::Request(Request {
                id,
                method,
                params: wire.params,
            })),
            (None, Some(method), None, None) => Ok(Message::Notification(Notification {
                method,
                params: wire.params,
            })),
            (Some(Some(id)), None, Some(result), None) => {
                Ok(Message::Response(Response { id, result }))
            }
            (id, None, None, Some(error)) => Ok(Message::Error(ErrorResponse {
                id: id.flatten(),
                error,
            })),
            _ => Err(DecodeError::NotAMessage),
        }
    }

    /// The message as JSON text, without a trailing newline.
    ///
    /// # Errors
    ///
    /// Only if an error object's `data` cannot be serialized (it always
    /// can when it came from JSON).
    ///
    /// ```
    /// use weir_mcp::jsonrpc::{Message, Notification};
    /// let bytes = Message::Notification(Notification::new("x", None)).encode().unwrap();
    /// assert_eq!(bytes, br#"{"jsonrpc":"2.0","method":"x"}"#);
    /// ```
    pub fn encode(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut out = WireOut {
            jsonrpc: "2.0",
            id: None,
            method: None,
            params: None,
            result: None,
            error: None,
        };
        match self {
            Message::Request(r) => {
                out.id = Some(Some(&r.id));
                out.method = Some(&r.method);
                out.params = r.params.as_deref();
            }
            Message::Notification(n) => {
                out.method = Some(&n.method);
                out.params = n.params.as_deref();
            }
            Message::Response(r) => {
                out.id = Some(Some(&r.id));
                out.result = Some(&r.result);
            }
            Message::Error(e) => {
                out.id = Some(e.id.as_ref());
                out.error = Some(&e.error);
            }
        }
        serde_json::to_vec(&out)
    }

    /// A request's text from borrowed parts: what [`encode`](Self::encode)
    /// writes for `Message::Request`, without building the message.
    pub(crate) fn encode_request(
        id: &RequestId,
        method: &str,
        params: Option<&RawValue>,
    ) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(&WireOut {
            jsonrpc: "2.0",
            id: Some(Some(id)),
            method: Some(method),
            params,
            result: None,
            error: None,
        })
    }

    /// The id the message carries, if any.
    ///
    /// ```
    /// use weir_mcp::jsonrpc::{Message, Request, RequestId};
    /// let m = Message::Request(Request::new(9, "ping", None));
    /// assert_eq!(m.id(), Some(&RequestId::Number(9)));
    /// ```
    pub fn id(&self) -> Option<&RequestId> {
        match self {
            Message::Request(r) => Some(&r.id),
            Message::Response(r) => Some(&r.id),
            Message::Error(e) => e.id.as_ref(),
            Message::Notification(_) => None,
        }
    }

    /// The method, for requests and notifications.
    ///
    /// ```
    /// use weir_mcp::jsonrpc::{Message, Notification};
    /// assert_eq!(Message::Notification(Notification::new("a/b", None)).method(), Some("a/b"));
    /// ```
    pub fn method(&self) -> Option<&str> {
        match self {
            Message::Request(r) => Some(&r.method),
            Message::Notification(n) => Some(&n.method),
            _ => None,
        }
    }
}

/// Why a message could not be read.
///
/// ```
/// use weir_mcp::jsonrpc::DecodeError;
/// assert_eq!(DecodeError::NotAMessage.to_string(), "not a JSON-RPC request, notification or response");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not JSON, or not of the JSON-RPC object shape (the parser's words).
    Json(String),
    /// A JSON object that is none of the four message kinds.
    NotAMessage,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Json(e) => write!(f, "invalid JSON-RPC message: {e}"),
            DecodeError::NotAMessage => {
                f.write_str("not a JSON-RPC request, notification or response")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Encodes `value` as a [`RawValue`], for params and results.
///
/// # Errors
///
/// When `value`'s `Serialize` fails (maps with non-string keys, for example).
///
/// ```
/// let raw = weir_mcp::jsonrpc::to_raw(&serde_json::json!({"a": 1})).unwrap();
/// assert_eq!(raw.get(), r#"{"a":1}"#);
/// ```
pub fn to_raw<T: Serialize + ?Sized>(value: &T) -> Result<Box<RawValue>, serde_json::Error> {
    serde_json::value::to_raw_value(value)
}

/// Decodes params or a result, treating absent params as `null`.
///
/// # Errors
///
/// When the JSON does not fit `T`.
///
/// ```
/// let raw = weir_mcp::jsonrpc::to_raw(&5).unwrap();
/// let n: u32 = weir_mcp::jsonrpc::from_raw(Some(&raw)).unwrap();
/// assert_eq!(n, 5);
/// ```
pub fn from_raw<'a, T: Deserialize<'a>>(raw: Option<&'a RawValue>) -> Result<T, serde_json::Error> {
    match raw {
        Some(r) => serde_json::from_str(r.get()),
        None => T::deserialize(Value::Null).map_err(serde_json::Error::custom),
    }
}
