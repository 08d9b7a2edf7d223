//! weir-mcp: a Model Context Protocol client that runs on any executor, with
//! weir's flow control (rate limits, bulkheads, breakers, retries, deadlines)
//! under every call.
//!
//! Layers, bottom up:
//!
//! * [`jsonrpc`]: the messages.
//! * [`transport`]: the seam to the wire (whole messages both ways), with
//!   [`framing`] (newline-delimited JSON over any `futures_io` byte stream)
//!   and [`memory`] (an in-process pair for tests).

#![warn(missing_docs)]

mod builder;
mod client;
mod error;
pub mod framing;
pub mod handler;
pub mod http;
pub mod jsonrpc;
pub mod memory;
mod progress;
pub mod protocol;
mod session;
mod stats;
pub mod transport;

pub use builder::{
    ClientBuilder, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_PROBE_TIMEOUT,
    DEFAULT_TOTAL_TIMEOUT,
};
pub use client::{CallEvent, CallOptions, Client, ProgressCall, ProtocolMode};
pub use error::{MAX_RETRY_AFTER, McpError, TimeoutKind};
pub use progress::DEFAULT_PROGRESS_CAPACITY;
pub use stats::Stats;
