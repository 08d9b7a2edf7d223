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

pub mod framing;
pub mod http;
pub mod jsonrpc;
pub mod memory;
pub mod transport;
