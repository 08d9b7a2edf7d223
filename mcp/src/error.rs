//! The one error of a client call.

use core::fmt;
use std::time::Duration;

use weir_core::{Error as PolicyError, policy::Rejection};

use crate::jsonrpc::ErrorObject;
use crate::transport::TransportError;

/// The longest `Retry-After` a server can impose through
/// [`TransportError::Overloaded`]: 60 s.
///
/// ```
/// assert_eq!(weir_mcp::MAX_RETRY_AFTER.as_secs(), 60);
/// ```
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Which deadline ended a call.
///
/// ```
/// use weir_mcp::TimeoutKind;
/// assert_ne!(TimeoutKind::Idle, TimeoutKind::Total);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutKind {
    /// No response and no progress for the idle timeout.
    Idle,
    /// The hard total passed.
    Total,
    /// The `server/discover` probe or the `initialize` handshake took too
    /// long.
    Handshake,
}

/// Why a call failed.
///
/// Transport failures, timeouts and overload are about the server's
/// health; a [`Server`](McpError::Server) error is the server answering
/// that it will not do it. A tool's own failure is not an error at all
/// (see [`CallToolResult::is_error`](crate::protocol::CallToolResult)).
///
/// ```
/// use weir_mcp::{McpError, TimeoutKind};
/// let e = McpError::Timeout(TimeoutKind::Idle);
/// assert!(e.is_transient());
/// assert_eq!(e.to_string(), "timed out (no response or progress within the idle timeout)");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum McpError {
    /// The connection failed, closed, or the request failed at the
    /// transport.
    Transport(TransportError),
    /// A deadline passed; the request was cancelled at the server.
    Timeout(TimeoutKind),
    /// The server answered with a JSON-RPC error.
    Server(ErrorObject),
    /// A result that does not have the expected shape.
    Decode(String),
    /// The server broke the protocol (no common version, too many
    /// input-required rounds, ...).
    Protocol(String),
    /// The call's cancellation token fired.
    Cancelled,
    /// The client was closed.
    Closed,
    /// A rate limit (weir's, or the server's 429/503) said wait.
    RateLimited {
        /// How long.
        retry_after: Duration,
    },
    /// The server's circuit breaker is open.
    CircuitOpen {
        /// For how much longer (`Duration::MAX`: until reset).
        remaining: Duration,
    },
    /// The bulkhead refused the call.
    Rejected(Rejection),
    /// No server offers this tool (manager routing).
    UnknownTool(String),
    /// No server has this name (manager).
    UnknownServer(String),
}

impl McpError {
    /// Whether trying again later may succeed: transport failures,
    /// timeouts, overload, an open breaker, a full bulkhead. A server's
    /// JSON-RPC error, a decode or protocol error, cancellation and close
    /// are final.
    ///
    /// ```
    /// use weir_mcp::McpError;
    /// assert!(!McpError::Cancelled.is_transient());
    /// ```
    pub fn is_transient(&self) -> bool {
        match self {
            McpError::Transport(TransportError::Http { status, .. }) => {
                *status >= 500 || *status == 408
            }
            McpError::Transport(TransportError::Protocol(_)) => false,
            McpError::Transport(_)
            | McpError::Timeout(_)
            | McpError::RateLimited { .. }
            | McpError::CircuitOpen { .. }
            | McpError::Rejected(_) => true,
            _ => false,
        }
    }

    /// The wait a failure asks for before the next attempt, if any.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_mcp::McpError;
    /// let e = McpError::RateLimited { retry_after: Duration::from_secs(2) };
    /// assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            McpError::RateLimited { retry_after } => Some(*retry_after),
            McpError::Transport(TransportError::Overloaded { retry_after }) => *retry_after,
            McpError::CircuitOpen { remaining } if *remaining != Duration::MAX => Some(*remaining),
            _ => None,
        }
    }

    pub(crate) fn from_policy(e: PolicyError<McpError>) -> McpError {
        match e {
            PolicyError::Inner(e) => e,
            PolicyError::Timeout => McpError::Timeout(TimeoutKind::Total),
            PolicyError::RateLimited { retry_after } => McpError::RateLimited { retry_after },
            PolicyError::CircuitOpen { remaining } => McpError::CircuitOpen { remaining },
            PolicyError::Rejected(r) => McpError::Rejected(r),
            PolicyError::Cancelled => McpError::Cancelled,
            _ => McpError::Closed,
        }
    }
}

impl fmt::Display for McpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            McpError::Transport(e) => write!(f, "transport: {e}"),
            McpError::Timeout(TimeoutKind::Idle) => {
                f.write_str("timed out (no response or progress within the idle timeout)")
            }
            McpError::Timeout(TimeoutKind::Total) => f.write_str("timed out (total deadline)"),
            McpError::Timeout(TimeoutKind::Handshake) => f.write_str("timed out (handshake)"),
            McpError::Server(e) => e.fmt(f),
            McpError::Decode(e) => write!(f, "unexpected result: {e}"),
            McpError::Protocol(e) => write!(f, "protocol: {e}"),
            McpError::Cancelled => f.write_str("cancelled"),
            McpError::Closed => f.write_str("client closed"),
            McpError::RateLimited { retry_after } => {
                write!(f, "rate limited; retry after {retry_after:?}")
            }
            McpError::CircuitOpen { remaining } => write!(f, "circuit open for {remaining:?}"),
            McpError::Rejected(r) => write!(f, "rejected by the bulkhead ({r:?})"),
            McpError::UnknownTool(t) => write!(f, "no server offers tool {t:?}"),
            McpError::UnknownServer(s) => write!(f, "no server named {s:?}"),
        }
    }
}

impl std::error::Error for McpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            McpError::Transport(e) => Some(e),
            _ => None,
        }
    }
}

impl From<TransportError> for McpError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::Overloaded {
                retry_after: Some(retry_after),
            } => McpError::RateLimited {
                // A server's wait is bounded: an hour-long Retry-After must
                // not park a client for an hour.
                retry_after: retry_after.min(MAX_RETRY_AFTER),
            },
            e => McpError::Transport(e),
        }
    }
}
