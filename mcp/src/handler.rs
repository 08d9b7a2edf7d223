//! What the client answers when the server asks: sampling, elicitation,
//! roots, ping (legacy era, as JSON-RPC requests; modern era, as the input
//! requests of an `input_required` result), and what it does with the
//! server's notifications.
//!
//! The defaults are the safe ones: sampling and elicitation are refused
//! (and not declared as capabilities) unless the user implements them;
//! roots are an empty list; ping is answered by the session itself.
//! Elicitation answers get the schema's defaults for any field the handler
//! left out (SEP-1034).
//!
//! ```
//! use serde_json::{json, Value};
//! use weir_mcp::handler::{BoxFuture, ClientHandler};
//! use weir_mcp::jsonrpc::ErrorObject;
//!
//! /// Accepts every elicitation with no fields of its own: the schema's
//! /// defaults fill them in.
//! struct AcceptAll;
//! impl ClientHandler for AcceptAll {
//!     fn elicitation(&self) -> bool { true }
//!     fn elicit(&self, _params: Value) -> BoxFuture<'_, Result<Value, ErrorObject>> {
//!         Box::pin(async { Ok(json!({"action": "accept", "content": {}})) })
//!     }
//! }
//! ```

use core::future::Future;
use core::pin::Pin;

use serde_json::{Map, Value, json};

use crate::framing::FrameError;
use crate::jsonrpc::{ErrorObject, Notification};

/// A boxed, sendable future: the handler is a trait object.
///
/// ```
/// let f: weir_mcp::handler::BoxFuture<'static, u8> = Box::pin(async { 1 });
/// assert_eq!(futures_lite::future::block_on(f), 1);
/// ```
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The client's answers to the server; every method has a safe default.
///
/// ```
/// use weir_mcp::handler::{ClientHandler, NoHandler};
/// assert!(!NoHandler.sampling());
/// ```
pub trait ClientHandler: Send + Sync + 'static {
    /// Whether [`create_message`](ClientHandler::create_message) is
    /// implemented (declares the `sampling` capability).
    fn sampling(&self) -> bool {
        false
    }

    /// Whether [`elicit`](ClientHandler::elicit) is implemented (declares
    /// the `elicitation` capability).
    fn elicitation(&self) -> bool {
        false
    }

    /// Whether [`list_roots`](ClientHandler::list_roots) returns real roots
    /// (declares the `roots` capability).
    fn roots(&self) -> bool {
        false
    }

    /// `sampling/createMessage`: `params` as sent; the result object to
    /// return. Refused by default.
    fn create_message(&self, params: Value) -> BoxFuture<'_, Result<Value, ErrorObject>> {
        let _ = params;
        Box::pin(async { Err(refused("sampling")) })
    }

    /// `elicitation/create`: `params` as sent (`message`,
    /// `requestedSchema`); the result (`action`, `content`). Fields of
    /// `content` the answer leaves out are filled from the schema's
    /// defaults. Refused by default.
    fn elicit(&self, params: Value) -> BoxFuture<'_, Result<Value, ErrorObject>> {
        let _ = params;
        Box::pin(async { Err(refused("elicitation")) })
    }

    /// `roots/list`: the result object (`roots`). An empty list by default.
    fn list_roots(&self) -> BoxFuture<'_, Result<Value, ErrorObject>> {
        Box::pin(async { Ok(json!({"roots": []})) })
    }

    /// A notification from the server that is not progress (log messages,
    /// list changes, resource updates). Runs on the reader task: must not
    /// block.
    fn on_notification(&self, notification: &Notification) {
        let _ = notification;
    }

    /// A listed tool was left out of [`list_tools`](crate::Client::list_tools)
    /// because its `x-mcp-header` declarations break the rules (`reason`
    /// says which).
    fn on_tool_rejected(&self, tool: &crate::protocol::Tool, reason: &str) {
        let _ = (tool, reason);
    }

    /// A frame that was not a JSON-RPC message (also counted in the
    /// client's stats). Runs on the reader task: must not block.
    fn on_malformed(&self, error: &FrameError) {
        let _ = error;
    }
}

/// The default handler: refuses sampling and elicitation, lists no roots.
///
/// ```
/// let _ = weir_mcp::handler::NoHandler;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHandler;

impl ClientHandler for NoHandler {}

fn refused(what: &str) -> ErrorObject {
    ErrorObject::new(
        ErrorObject::METHOD_NOT_FOUND,
        format!("this client does not support {what}"),
    )
}

/// The capabilities a handler declares.
///
/// ```
/// use weir_mcp::handler::{capabilities, NoHandler};
/// assert_eq!(capabilities(&NoHandler), serde_json::json!({}));
/// ```
pub fn capabilities(handler: &dyn ClientHandler) -> Value {
    let mut caps = Map::new();
    if handler.sampling() {
        caps.insert("sampling".into(), json!({}));
    }
    if handler.elicitation() {
        caps.insert("elicitation".into(), json!({}));
    }
    if handler.roots() {
        caps.insert("roots".into(), json!({}));
    }
    Value::Object(caps)
}

/// Answers one server request (or MRTR input request) through `handler`.
/// `ping` is answered here.
pub(crate) async fn answer(
    handler: &dyn ClientHandler,
    method: &str,
    params: Value,
) -> Result<Value, ErrorObject> {
    match method {
        "ping" => Ok(json!({})),
        "sampling/createMessage" => handler.create_message(params).await,
        "elicitation/create" => {
            let schema = params.get("requestedSchema").cloned();
            let mut result = handler.elicit(params).await?;
            if let Some(schema) = schema {
                fill_defaults(&schema, &mut result);
            }
            Ok(result)
        }
        "roots/list" => handler.list_roots().await,
        other => Err(ErrorObject::new(
            ErrorObject::METHOD_NOT_FOUND,
            format!("unknown method {other:?}"),
        )),
    }
}

/// Fills the `content` of an accepted elicitation with the schema's
/// property defaults for every field left out.
///
/// ```
/// use serde_json::json;
/// let schema = json!({"type":"object","properties":{"n":{"type":"integer","default":3},"s":{"type":"string"}}});
/// let mut r = json!({"action":"accept","content":{"s":"x"}});
/// weir_mcp::handler::fill_defaults(&schema, &mut r);
/// assert_eq!(r, json!({"action":"accept","content":{"s":"x","n":3}}));
/// ```
pub fn fill_defaults(schema: &Value, result: &mut Value) {
    if result.get("action").and_then(Value::as_str) != Some("accept") {
        return;
    }
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    let Some(obj) = result.as_object_mut() else {
        return;
    };
    let content = obj
        .entry("content")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(content) = content.as_object_mut() else {
        return;
    };
    for (name, prop) in props {
        if let Some(default) = prop.get("default")
            && !content.contains_key(name)
        {
            content.insert(name.clone(), default.clone());
        }
    }
}
