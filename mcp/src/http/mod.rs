//! Streamable HTTP: weir-mcp's transport to remote MCP servers, and the
//! HTTP/1.1 client under it.
//!
//! Most users only name the endpoint: [`StreamableHttpBuilder`] makes the
//! [`StreamableHttp`] transport, and its [`connector`](StreamableHttpBuilder::connector)
//! is what a [`Client`](crate::Client) is built from. The transport speaks
//! both eras: the legacy session with its GET stream, resumption and
//! `notifications/cancelled` on a control lane of its own, and the stateless
//! 2026-07-28 requests with `Mcp-Method`/`Mcp-Name`/`Mcp-Param-*` headers,
//! where closing a request's stream cancels it. 429 and 503 come back as
//! [`TransportError::Overloaded`](crate::transport::TransportError::Overloaded)
//! with the server's bounded `Retry-After`, which the client turns into
//! `RateLimited`.
//!
//! ```no_run
//! use weir_mcp::Client;
//! use weir_mcp::http::StreamableHttpBuilder;
//!
//! # smol::block_on(async {
//! let rt = weir_smol::Smol;
//! let server = Client::builder(rt)
//!     .build(StreamableHttpBuilder::new("http://127.0.0.1:8000/mcp").max_connections(32).connector(rt));
//! let reply = server.call_tool("echo", serde_json::json!({"message": "hi"})).await?;
//! # drop(reply);
//! # Ok::<(), weir_mcp::McpError>(())
//! # });
//! ```
//!
//! Underneath, [`HttpClient`] is hyper 1.x's connection-level client
//! (`client::conn::http1`), which leaves executors, sockets and pooling to
//! its user: the sockets come from the runtime's
//! [`NetRuntime`](weir_core::io::NetRuntime) connector as futures-io
//! streams, each connection's driver runs as a task on weir's
//! [`Runtime`](weir_core::Runtime), and connections are kept per origin in
//! weir's [`ResourcePool`](weir_core::ResourcePool). TLS is rustls
//! (futures-rustls) behind feature `rustls`. Server-sent events are decoded
//! by [`sse-stream`](https://docs.rs/sse-stream), the decoder rmcp uses,
//! which works on any `http_body::Body` and needs no runtime.
//!
//! ```no_run
//! use weir_mcp::http::HttpClient;
//!
//! # smol::block_on(async {
//! let client = HttpClient::new(weir_smol::Smol);
//! let req = http::Request::post("http://127.0.0.1:8000/mcp")
//!     .header("content-type", "application/json")
//!     .body(bytes::Bytes::from_static(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#))?;
//! let reply = client.send(req).await?;
//! let bytes = client.read_to_end(reply.into_body()).await?;
//! # drop(bytes);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # });
//! ```

mod body;
mod client;
mod conn;
mod error;
pub(crate) mod factory;
mod headers;
mod io;
mod origin;
#[cfg(feature = "rustls")]
mod tls;
mod transport;

pub use body::ResponseBody;
pub use client::{HttpClient, HttpClientBuilder};
pub use error::HttpError;
pub use factory::factory;
pub use headers::{X_MCP_HEADER, tool_headers_valid};
pub use transport::{HttpConnect, HttpSink, HttpSource, StreamableHttp, StreamableHttpBuilder};
