//! What a limit algorithm sees and decides.

use core::fmt;
use std::time::Duration;

/// One finished call, as a [`Limit`] sees it.
///
/// ```
/// use std::time::Duration;
/// use weir_core::limit::Sample;
///
/// let s = Sample { latency: Duration::from_millis(12), in_flight: 7, dropped: false };
/// assert!(!s.dropped);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sample {
    /// From admission to completion, on the runtime's clock.
    pub latency: Duration,
    /// Permits held when the call was admitted, its own included: how busy
    /// the service was while this call ran.
    pub in_flight: u32,
    /// The call was dropped: rejected by the service for overload, or timed
    /// out. A loss signal, whatever its latency.
    pub dropped: bool,
}

/// A concurrency-limit algorithm: takes samples of finished calls and
/// answers with the limit to use from now on.
///
/// Implementations keep their limit within their own `[min, max]` and never
/// answer 0. [`Aimd`](super::Aimd) and [`Vegas`](super::Vegas) are provided;
/// an [`AdaptiveLimiter`](super::AdaptiveLimiter) feeds one from a
/// [`Bulkhead`](super::Bulkhead)'s calls and sets the bulkhead's limit.
///
/// ```
/// use weir_core::limit::{Limit, Sample};
///
/// /// A limit that never moves.
/// #[derive(Debug)]
/// struct Fixed(u32);
///
/// impl Limit for Fixed {
///     fn limit(&self) -> u32 { self.0 }
///     fn on_sample(&mut self, _: Sample) -> u32 { self.0 }
/// }
///
/// let mut l = Fixed(8);
/// let s = Sample { latency: std::time::Duration::from_millis(1), in_flight: 1, dropped: true };
/// assert_eq!(l.on_sample(s), 8);
/// ```
pub trait Limit: Send + fmt::Debug {
    /// The limit now.
    fn limit(&self) -> u32;

    /// Takes one sample and returns the new limit.
    fn on_sample(&mut self, sample: Sample) -> u32;
}
