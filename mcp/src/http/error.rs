//! What can go wrong below MCP: reaching the server and speaking HTTP.

use std::fmt;
use std::io;

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
