//! Why a tool call failed: every call ends ok or with one of these names.

use core::fmt;
use std::time::Duration;

use weir::mcp::jsonrpc::ErrorObject;
use weir::mcp::transport::TransportError;
use weir::mcp::{McpError, TimeoutKind};

use crate::server::{RATE_LIMITED, TRANSIENT};

/// The reason a tool call failed.
///
/// ```
/// use weir_demo::error::CallError;
/// assert_eq!(CallError::Timeout.reason(), "timeout");
/// assert!(CallError::Disconnected.is_retryable());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallError {
    /// The server refused the call for being over its quota.
    RateLimited {
        /// The server's hint, when it gave one.
        retry_after: Option<Duration>,
    },
    /// The server reported a transient failure.
    Transient,
    /// The connection closed before the answer came.
    Disconnected,
    /// No connection could be opened.
    ConnectFailed,
    /// No answer within the policy's timeout.
    Timeout,
    /// The circuit breaker refused the call without sending it.
    CircuitOpen {
        /// How long until the breaker lets a probe through.
        retry_after: Duration,
    },
    /// Any other JSON-RPC error from the server.
    Server {
        /// The JSON-RPC error code.
        code: i64,
    },
    /// The answer could not be read, or the server broke the protocol.
    Protocol,
    /// The tool ran and reported its own failure (`isError`).
    ToolFailed,
    /// The client was closed or the call cancelled before it ended.
    Closed,
    /// The scheduler refused the call (queue full or shut down).
    Rejected,
    /// The task running the call panicked, or was stopped.
    Panicked,
}

impl CallError {
    /// The short name used in reports.
    ///
    /// ```
    /// use weir_demo::error::CallError;
    /// assert_eq!(CallError::RateLimited { retry_after: None }.reason(), "rate_limited");
    /// ```
    pub fn reason(&self) -> &'static str {
        match self {
            CallError::RateLimited { .. } => "rate_limited",
            CallError::Transient => "transient",
            CallError::Disconnected => "disconnected",
            CallError::ConnectFailed => "connect_failed",
            CallError::Timeout => "timeout",
            CallError::CircuitOpen { .. } => "circuit_open",
            CallError::Server { .. } => "server_error",
            CallError::Protocol => "protocol",
            CallError::ToolFailed => "tool_error",
            CallError::Closed => "closed",
            CallError::Rejected => "rejected",
            CallError::Panicked => "panicked",
        }
    }

    /// Whether trying again later may succeed.
    ///
    /// ```
    /// use weir_demo::error::CallError;
    /// assert!(!CallError::Server { code: -32602 }.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            CallError::Server { .. }
                | CallError::Protocol
                | CallError::ToolFailed
                | CallError::Closed
                | CallError::Rejected
                | CallError::Panicked
        )
    }

    /// Whether the call says something about the server's health, so a
    /// circuit breaker should count it. Being over quota is the client's
    /// doing and a refusal by the breaker itself is no news: neither counts.
    ///
    /// ```
    /// use weir_demo::error::CallError;
    /// assert!(CallError::Timeout.is_server_fault());
    /// assert!(!CallError::RateLimited { retry_after: None }.is_server_fault());
    /// ```
    pub fn is_server_fault(&self) -> bool {
        matches!(
            self,
            CallError::Transient
                | CallError::Disconnected
                | CallError::ConnectFailed
                | CallError::Timeout
        )
    }

    /// The wait the failure itself asks for, if any.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_demo::error::CallError;
    /// let e = CallError::CircuitOpen { retry_after: Duration::from_millis(5) };
    /// assert_eq!(e.retry_after(), Some(Duration::from_millis(5)));
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CallError::RateLimited { retry_after } => *retry_after,
            CallError::CircuitOpen { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// The failure a server's JSON-RPC error stands for: the demo servers'
    /// quota and transient codes, anything else by its code.
    ///
    /// ```
    /// use weir::mcp::jsonrpc::ErrorObject;
    /// use weir_demo::{error::CallError, server::TRANSIENT};
    /// assert_eq!(CallError::from_rpc(&ErrorObject::new(TRANSIENT, "x")), CallError::Transient);
    /// ```
    pub fn from_rpc(e: &ErrorObject) -> Self {
        match e.code {
            RATE_LIMITED => CallError::RateLimited {
                retry_after: e
                    .data
                    .as_ref()
                    .and_then(|d| d.get("retry_after_ms"))
                    .and_then(serde_json::Value::as_u64)
                    .map(Duration::from_millis),
            },
            TRANSIENT => CallError::Transient,
            code => CallError::Server { code },
        }
    }

    /// The failure a weir-mcp error stands for.
    ///
    /// ```
    /// use weir::mcp::{McpError, TimeoutKind};
    /// use weir_demo::error::CallError;
    /// assert_eq!(CallError::from_mcp(&McpError::Timeout(TimeoutKind::Idle)), CallError::Timeout);
    /// ```
    pub fn from_mcp(e: &McpError) -> Self {
        match e {
            McpError::Server(e) => CallError::from_rpc(e),
            McpError::Transport(TransportError::Connect(_)) => CallError::ConnectFailed,
            McpError::Transport(TransportError::Protocol(_)) => CallError::Protocol,
            McpError::Transport(_) => CallError::Disconnected,
            McpError::Timeout(TimeoutKind::Handshake) => CallError::ConnectFailed,
            McpError::Timeout(_) => CallError::Timeout,
            McpError::RateLimited { retry_after } => CallError::RateLimited {
                retry_after: Some(*retry_after),
            },
            McpError::CircuitOpen { remaining } => CallError::CircuitOpen {
                retry_after: *remaining,
            },
            McpError::Rejected(_) => CallError::Rejected,
            McpError::Decode(_) | McpError::Protocol(_) => CallError::Protocol,
            McpError::Cancelled | McpError::Closed => CallError::Closed,
            _ => CallError::Server { code: 0 },
        }
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for CallError {}
