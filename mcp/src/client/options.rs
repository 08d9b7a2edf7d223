//! What a user chooses per client (era) and per call (token, deadlines).

use std::time::Duration;

use weir_core::CancellationToken;

/// Which era the client speaks to its server.
///
/// ```
/// assert_eq!(weir_mcp::ProtocolMode::default(), weir_mcp::ProtocolMode::Auto);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProtocolMode {
    /// Probe with `server/discover`; fall back to `initialize` on any
    /// error that is not a recognised modern one, or on silence.
    #[default]
    Auto,
    /// `initialize` only (2024-11-05 to 2025-11-25).
    Legacy,
    /// 2026-07-28 only, no probe.
    Modern,
}

/// Options of one call.
///
/// ```
/// use std::time::Duration;
/// let opts = weir_mcp::CallOptions::new()
///     .idle_timeout(Some(Duration::from_secs(5)))
///     .token(weir_core::CancellationToken::new());
/// # drop(opts);
/// ```
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    pub(super) token: Option<CancellationToken>,
    pub(super) idle: Option<Option<Duration>>,
    pub(super) total: Option<Option<Duration>>,
}

impl CallOptions {
    /// The client's defaults.
    ///
    /// ```
    /// let _ = weir_mcp::CallOptions::new();
    /// ```
    pub fn new() -> Self {
        CallOptions::default()
    }

    /// Ends every wait of the call (response, retry back-off) when `token`
    /// fires; the server is told the request was cancelled.
    ///
    /// ```
    /// let _ = weir_mcp::CallOptions::new().token(weir_core::CancellationToken::new());
    /// ```
    pub fn token(mut self, token: CancellationToken) -> Self {
        self.token = Some(token);
        self
    }

    /// This call's idle timeout (`None`: none), instead of the client's.
    ///
    /// ```
    /// let _ = weir_mcp::CallOptions::new().idle_timeout(None);
    /// ```
    pub fn idle_timeout(mut self, idle: Option<Duration>) -> Self {
        self.idle = Some(idle);
        self
    }

    /// This call's hard total (`None`: none), instead of the client's.
    ///
    /// ```
    /// let _ = weir_mcp::CallOptions::new().total_timeout(Some(std::time::Duration::from_secs(1)));
    /// ```
    pub fn total_timeout(mut self, total: Option<Duration>) -> Self {
        self.total = Some(total);
        self
    }
}
