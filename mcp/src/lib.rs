//! weir-mcp: a Model Context Protocol client that runs on any executor, with
//! weir's flow control (rate limits, bulkheads, breakers, retries, deadlines)
//! under every call.

#![warn(missing_docs)]
