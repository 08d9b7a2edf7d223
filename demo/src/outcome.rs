//! What each call ended with, and the live tallies the progress bar reads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::error::CallError;
use crate::workload::Priority;

/// How one call ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The call's priority.
    pub priority: Priority,
    /// From the start of the burst (every call is submitted at once) to the
    /// call's end, queueing and retries included.
    pub latency: Duration,
    /// `Ok` or the named reason it failed.
    pub result: Result<(), CallError>,
}

/// Live counts of finished calls.
#[derive(Debug, Default)]
pub struct Tally {
    ok: AtomicU64,
    failed: AtomicU64,
}

impl Tally {
    /// Counts `outcome`.
    pub fn record(&self, outcome: &Outcome) {
        let counter = if outcome.result.is_ok() {
            &self.ok
        } else {
            &self.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// `(ok, failed)` so far.
    ///
    /// ```
    /// assert_eq!(weir_demo::outcome::Tally::default().snapshot(), (0, 0));
    /// ```
    pub fn snapshot(&self) -> (u64, u64) {
        (
            self.ok.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }
}
