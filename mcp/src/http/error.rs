//! What can go wrong below MCP: reaching the server and speaking HTTP.

use std::fmt;
use std::io;
use std::time::Duration;

/// An HTTP-level failure of weir-mcp's Streamable HTTP client.
///
/// ```
/// use weir_mcp::http::HttpError;
///
/// let e = HttpError::InvalidUrl("ftp://x".into());
/// assert_eq!(e.to_string(), "invalid MCP server URL `ftp://x`: expected http:// or https://");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum HttpError {
    /// The URL is not an `http://` or `https://` URL with a host.
    InvalidUrl(String),
    /// `https://` without the `rustls` feature.
    TlsUnavailable,
    /// The TCP connection (or the TLS handshake over it) failed.
    Connect(io::Error),
    /// The HTTP exchange failed (connection reset, malformed response, ...).
    Http(hyper::Error),
    /// No connection to the server's origin became free in time, or the client was closed.
    Pool(&'static str),
    /// A response body (or one SSE event) was larger than the configured limit.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The server answered 429 or 503: it asks for fewer requests.
    Overloaded {
        /// The HTTP status (429 or 503).
        status: u16,
        /// The server's `Retry-After`, bounded by the client's maximum; `None` when absent.
        retry_after: Option<Duration>,
    },
    /// Any other status that is not a success.
    Status {
        /// The HTTP status.
        status: u16,
        /// The start of the body, for the error message.
        body: String,
    },
    /// A response that breaks the Streamable HTTP rules (wrong content type, bad SSE, ...).
    Protocol(String),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::InvalidUrl(u) => {
                write!(
                    f,
                    "invalid MCP server URL `{u}`: expected http:// or https://"
                )
            }
            HttpError::TlsUnavailable => f.write_str("https:// needs weir-mcp's `rustls` feature"),
            HttpError::Connect(e) => write!(f, "cannot connect to the MCP server: {e}"),
            HttpError::Http(e) => write!(f, "HTTP exchange with the MCP server failed: {e}"),
            HttpError::Pool(why) => write!(f, "no HTTP connection to the MCP server: {why}"),
            HttpError::TooLarge { limit } => {
                write!(f, "response larger than the {limit}-byte limit")
            }
            HttpError::Overloaded {
                status,
                retry_after,
            } => match retry_after {
                Some(d) => write!(f, "server overloaded (HTTP {status}), retry after {d:?}"),
                None => write!(f, "server overloaded (HTTP {status})"),
            },
            HttpError::Status { status, body } => {
                write!(f, "HTTP {status} from the MCP server: {body}")
            }
            HttpError::Protocol(why) => write!(f, "Streamable HTTP protocol error: {why}"),
        }
    }
}

impl std::error::Error for HttpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HttpError::Connect(e) => Some(e),
            HttpError::Http(e) => Some(e),
            _ => None,
        }
    }
}
