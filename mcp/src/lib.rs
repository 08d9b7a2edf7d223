//! weir-mcp: a Model Context Protocol client that runs on any executor, with
//! weir's flow control (rate limits, bulkheads, breakers, retries, deadlines)
//! under every call.
//!
//! What it does that a user of other MCP clients misses:
//!
//! * **One connection, many calls**: requests in flight at once are matched
//!   to responses by id; progress floods, malformed lines and late replies
//!   never block or break the connection.
//! * **Both protocol eras**: the 2026-07-28 stateless revision (probed with
//!   `server/discover`, `_meta` on every request, input-required rounds) and
//!   the `initialize` revisions 2024-11-05 to 2025-11-25, detected per
//!   server as the specification says and cached.
//! * **Nothing hangs, nothing leaks**: every call has an idle timeout that
//!   progress resets and a hard total; dropping a call (or its progress
//!   stream) cancels it at the server, once.
//! * **Policies per server**: a weir `Policy` around each attempt; retries
//!   only for idempotent requests, each under a new id; a server's 429/503
//!   pauses the whole client.
//! * **Many servers**: a [`manager::Manager`] built from the usual
//!   `mcpServers` configuration.
//!
//! When not to use it: to write an MCP *server* (this is a client only).
//!
//! Layers, bottom up: [`jsonrpc`] (messages), [`transport`] (the seam to the
//! wire, with [`framing`] for newline-delimited byte streams and [`memory`]
//! for in-process pairs), the session (private: ids, correlation, lanes,
//! cancel-on-drop), [`Client`] and its [`ClientBuilder`], [`manager`].
//!
//! ```
//! # #[cfg(feature = "test-util")] {
//! use std::time::Duration;
//! use serde_json::json;
//! use weir_core::{Runtime, rt::JoinHandle, test_util::VirtualRuntime};
//! use weir_mcp::jsonrpc::{Message, Response, to_raw};
//! use weir_mcp::{memory, Client, ProtocolMode};
//!
//! let rt = VirtualRuntime::new();
//! // An in-process server (a real one is a child process or a URL).
//! let (transport, server) = memory::pair();
//! rt.spawn(async move {
//!     while let Some(out) = server.recv().await {
//!         let Ok(Message::Request(r)) = Message::decode(&out.body) else { continue };
//!         let result = match r.method.as_str() {
//!             "initialize" => json!({"protocolVersion": "2025-11-25", "capabilities": {}}),
//!             _ => json!({"content": [{"type": "text", "text": "pong"}]}),
//!         };
//!         server.send(Message::Response(Response::new(r.id, to_raw(&result).unwrap()))).unwrap();
//!     }
//! }).detach();
//!
//! let slot = std::sync::Mutex::new(Some(transport));
//! let client = Client::builder(rt.clone())
//!     .protocol(ProtocolMode::Legacy)
//!     .one_at_a_time()
//!     .timeout(Some(Duration::from_secs(30)))
//!     .build(move || {
//!         let t = slot.lock().unwrap().take();
//!         async move { t.ok_or(weir_mcp::transport::TransportError::Closed) }
//!     });
//! let reply = rt.block_on(client.call_tool("ping", json!({}))).unwrap();
//! assert_eq!(reply.text(), "pong");
//! assert_eq!(client.stats().in_flight, 0);
//! # }
//! ```

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod builder;
mod client;
pub mod config;
mod error;
pub mod framing;
pub mod handler;
pub mod http;
pub mod jsonrpc;
pub mod manager;
pub mod memory;
mod progress;
pub mod protocol;
mod session;
mod stats;
pub mod stdio;
pub mod transport;

pub use builder::{
    ClientBuilder, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_PROBE_TIMEOUT,
    DEFAULT_TOTAL_TIMEOUT,
};
pub use client::{CallEvent, CallOptions, Client, ProgressCall, ProtocolMode};
pub use error::{MAX_RETRY_AFTER, McpError, TimeoutKind};
pub use progress::DEFAULT_PROGRESS_CAPACITY;
pub use stats::Stats;
