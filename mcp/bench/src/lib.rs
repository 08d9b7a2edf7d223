//! The servers of the weir-mcp / rmcp comparison: a small MCP echo server
//! over stdio and over Streamable HTTP, both answering from [`echo::answer`],
//! so both clients meet the same server and the server is never the
//! bottleneck (no async runtime on the stdio side, no per-call allocation
//! beyond parsing the request).
//!
//! The comparison itself is the bench `mcp_vs_rmcp` (see BENCHMARKS.md,
//! "MCP client vs rmcp").

pub mod echo;
pub mod http_echo;
