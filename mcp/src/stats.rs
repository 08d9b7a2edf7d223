//! Counters a client keeps across its connections.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// What one client (one server) has seen so far.
///
/// ```
/// let s = weir_mcp::Stats::default();
/// assert_eq!(s.requests, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Requests written (each retry, re-issue and input-required round
    /// counts).
    pub requests: u64,
    /// Successful responses matched to a waiting call.
    pub responses: u64,
    /// JSON-RPC error responses matched to a waiting call.
    pub error_responses: u64,
    /// Responses whose id matched no waiting call (late or unknown).
    pub unmatched: u64,
    /// `notifications/cancelled` sent (or stream closes, in the modern HTTP
    /// era), one per abandoned request.
    pub cancels: u64,
    /// Calls ended by a deadline.
    pub timeouts: u64,
    /// Progress notifications received.
    pub progress: u64,
    /// Progress reports dropped because a call's queue was full.
    pub progress_dropped: u64,
    /// Frames that were not JSON-RPC messages (or too long).
    pub malformed: u64,
    /// Requests the server made of the client (legacy era).
    pub server_requests: u64,
    /// Connections opened (the first, and each after a failure).
    pub connects: u64,
    /// Connections that failed (transport errors, exits).
    pub transport_failures: u64,
    /// Calls in flight right now.
    pub in_flight: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub responses: AtomicU64,
    pub error_responses: AtomicU64,
    pub unmatched: AtomicU64,
    pub cancels: AtomicU64,
    pub timeouts: AtomicU64,
    pub progress: AtomicU64,
    pub progress_dropped: AtomicU64,
    pub malformed: AtomicU64,
    pub server_requests: AtomicU64,
    pub connects: AtomicU64,
    pub transport_failures: AtomicU64,
    pub in_flight: AtomicU64,
    /// The server said its tool list changed since the client last listed.
    pub tools_changed: std::sync::atomic::AtomicBool,
}

impl Counters {
    pub(crate) fn bump(c: &AtomicU64) {
        c.fetch_add(1, Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Stats {
        Stats {
            requests: self.requests.load(Relaxed),
            responses: self.responses.load(Relaxed),
            error_responses: self.error_responses.load(Relaxed),
            unmatched: self.unmatched.load(Relaxed),
            cancels: self.cancels.load(Relaxed),
            timeouts: self.timeouts.load(Relaxed),
            progress: self.progress.load(Relaxed),
            progress_dropped: self.progress_dropped.load(Relaxed),
            malformed: self.malformed.load(Relaxed),
            server_requests: self.server_requests.load(Relaxed),
            connects: self.connects.load(Relaxed),
            transport_failures: self.transport_failures.load(Relaxed),
            in_flight: self.in_flight.load(Relaxed),
        }
    }
}
