//! Shared test harness: the runtime matrix and an in-process fake server.
//!
//! A test is written once as `async fn name<R: Runtime>(rt: R)` and listed
//! in [`on_every_runtime!`], which makes a module `name` holding one
//! `#[test]` per runtime: smol, tokio current-thread, tokio multi-thread,
//! async-std and virtual time.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{Value, json};
use weir_mcp::jsonrpc::{
    ErrorObject, ErrorResponse, Message, Notification, Request, RequestId, Response, to_raw,
};
use weir_mcp::memory::{MemoryTransport, Peer};
use weir_mcp::transport::{Outbound, TransportError};

#[path = "../runners/mod.rs"]
mod runners;
// Used through the runtime macro, which some test binaries do not call.
#[allow(unused_imports)]
pub use runners::{async_std, smol, tokio_current, tokio_multi};

pub fn virtual_time<F, Fut>(f: F) -> Fut::Output
where
    F: FnOnce(weir_core::test_util::VirtualRuntime) -> Fut,
    Fut: Future,
{
    let rt = weir_core::test_util::VirtualRuntime::new();
    rt.block_on(f(rt.clone()))
}

/// Instantiates each listed `async fn name<R: Runtime>(rt: R)` on every
/// runtime.
#[macro_export]
macro_rules! on_every_runtime {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[test]
            fn smol() {
                $crate::common::smol(super::$name(weir_smol::Smol))
            }

            #[test]
            fn tokio_current_thread() {
                $crate::common::tokio_current(super::$name(weir_tokio::Tokio))
            }

            #[test]
            fn tokio_multi_thread() {
                $crate::common::tokio_multi(super::$name(weir_tokio::Tokio))
            }

            #[test]
            fn async_std() {
                $crate::common::async_std(super::$name(weir_async_std::AsyncStd))
            }

            #[test]
            fn virtual_time() {
                $crate::common::virtual_time(super::$name)
            }
        }
    )+};
}

/// A connector handing out the given transports in order, then refusing.
pub fn connector(
    transports: Vec<MemoryTransport>,
) -> impl Fn() -> std::future::Ready<Result<MemoryTransport, TransportError>> + Send + Sync + 'static
{
    let queue = Arc::new(Mutex::new(VecDeque::from(transports)));
    move || std::future::ready(queue.lock().pop_front().ok_or(TransportError::Closed))
}

/// The server end of a memory pair, decoding what the client sends.
pub struct Server {
    pub peer: Peer,
    /// Notifications seen while waiting for requests.
    pub notes: Mutex<Vec<Notification>>,
    /// Every Outbound seen (with its metadata).
    pub outbound: Mutex<Vec<Outbound>>,
}

impl Server {
    pub fn new(peer: Peer) -> Arc<Self> {
        Arc::new(Server {
            peer,
            notes: Mutex::new(Vec::new()),
            outbound: Mutex::new(Vec::new()),
        })
    }

    /// The next message from the client; `None` when it is gone.
    pub async fn next(&self) -> Option<Message> {
        let out = self.peer.recv().await?;
        let msg = Message::decode(&out.body).expect("client sends valid JSON-RPC");
        self.outbound.lock().push(out);
        Some(msg)
    }

    /// The next request, recording notifications on the way.
    pub async fn request(&self) -> Option<Request> {
        loop {
            match self.next().await? {
                Message::Request(r) => return Some(r),
                Message::Notification(n) => self.notes.lock().push(n),
                other => panic!("unexpected message from the client: {other:?}"),
            }
        }
    }

    pub fn reply(&self, id: RequestId, result: Value) {
        let _ = self.peer.send(Message::Response(Response::new(
            id,
            to_raw(&result).unwrap(),
        )));
    }

    pub fn error(&self, id: RequestId, code: i64, message: &str) {
        let _ = self.peer.send(Message::Error(ErrorResponse {
            id: Some(id),
            error: ErrorObject::new(code, message),
        }));
    }

    pub fn error_obj(&self, id: RequestId, error: ErrorObject) {
        let _ = self.peer.send(Message::Error(ErrorResponse {
            id: Some(id),
            error,
        }));
    }

    pub fn progress(&self, token: &Value, progress: f64) {
        let params = json!({"progressToken": token, "progress": progress});
        let _ = self.peer.send(Message::Notification(Notification::new(
            "notifications/progress",
            Some(to_raw(&params).unwrap()),
        )));
    }

    /// Answers `initialize` (legacy handshake) with `version`.
    pub async fn accept_initialize(&self, version: &str) {
        let r = self.request().await.expect("initialize");
        assert_eq!(r.method, "initialize");
        self.reply(
            r.id,
            json!({"protocolVersion": version, "capabilities": {"tools": {}}, "serverInfo": {"name": "fake", "version": "1"}}),
        );
    }

    /// The cancellations the client sent, by request id.
    pub fn cancelled(&self) -> Vec<Value> {
        self.notes
            .lock()
            .iter()
            .filter(|n| n.method == "notifications/cancelled")
            .map(|n| params(n.params.as_deref())["requestId"].clone())
            .collect()
    }
}

/// Params of a request or notification as a JSON value.
pub fn params(raw: Option<&weir_mcp::jsonrpc::RawValue>) -> Value {
    raw.map(|r| serde_json::from_str(r.get()).unwrap())
        .unwrap_or(Value::Null)
}

/// The progress token a request carries.
pub fn token(r: &Request) -> Value {
    params(r.params.as_deref())["_meta"]["progressToken"].clone()
}

/// A tool result with one text block.
pub fn text(s: &str) -> Value {
    json!({"content": [{"type": "text", "text": s}]})
}

/// A client transport over real framing and byte pipes, and the server's
/// framed ends.
pub fn pipe_pair(
    cap: usize,
) -> (
    weir_mcp::framing::Framed<piper::Reader, piper::Writer>,
    weir_mcp::framing::FrameReader<piper::Reader>,
    weir_mcp::framing::FrameWriter<piper::Writer>,
) {
    let (c2s_r, c2s_w) = piper::pipe(cap);
    let (s2c_r, s2c_w) = piper::pipe(cap);
    (
        weir_mcp::framing::Framed::new(s2c_r, c2s_w),
        weir_mcp::framing::FrameReader::new(c2s_r),
        weir_mcp::framing::FrameWriter::new(s2c_w),
    )
}
