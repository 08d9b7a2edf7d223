//! Stand-in for weir's `RateLimiter`: a GCRA that makes callers wait for
//! their turn instead of refusing them.

use std::time::{Duration, Instant};

use parking_lot::Mutex;
use weir::Runtime;

/// Lets calls through at `per_sec`, up to `burst` at once.
#[derive(Debug)]
pub struct RateGate<R> {
    rt: R,
    interval: Duration,
    tolerance: Duration,
    /// Theoretical arrival time of the next call at the steady rate.
    tat: Mutex<Option<Instant>>,
}

impl<R: Runtime> RateGate<R> {
    /// A gate of `per_sec` calls a second (at least one), `burst` at once.
    pub fn new(rt: R, per_sec: u32, burst: u32) -> Self {
        let interval = Duration::from_secs(1) / per_sec.max(1);
        RateGate {
            rt,
            interval,
            tolerance: interval * burst.saturating_sub(1),
            tat: Mutex::new(None),
        }
    }

    /// Waits until the caller's turn. The turn is reserved at once, so
    /// waiters go in arrival order.
    pub async fn acquire(&self) {
        let now = self.rt.now();
        let start_at = {
            let mut tat = self.tat.lock();
            let t = tat.unwrap_or(now).max(now);
            let start_at = t.checked_sub(self.tolerance).unwrap_or(now).max(now);
            *tat = Some(t + self.interval);
            start_at
        };
        if start_at > now {
            self.rt.sleep_until(start_at).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir::rt::VirtualRuntime;

    #[test]
    fn burst_passes_then_calls_are_spaced() {
        let rt = VirtualRuntime::new();
        let gate = RateGate::new(rt.clone(), 10, 3);
        rt.block_on(async {
            let t0 = rt.now();
            for _ in 0..3 {
                gate.acquire().await;
            }
            assert_eq!(rt.elapsed(), Duration::ZERO);
            gate.acquire().await;
            assert_eq!(rt.now() - t0, Duration::from_millis(100));
            gate.acquire().await;
            assert_eq!(rt.now() - t0, Duration::from_millis(200));
        });
    }
}
