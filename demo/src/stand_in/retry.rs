//! Stand-in for weir's `Retry`: exponential backoff with equal jitter that
//! never waits less than the server asked.

use std::time::Duration;

/// Exponential backoff from `base`, capped at `cap`, for at most
/// `max_attempts` attempts in all.
#[derive(Debug, Clone)]
pub struct Backoff {
    /// The first retry's nominal delay.
    pub base: Duration,
    /// The largest nominal delay.
    pub cap: Duration,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
}

impl Backoff {
    /// The delay before attempt `attempt + 1` after `attempt` failed, or
    /// `None` when the attempts are used up. Half the nominal delay is
    /// fixed and half is random (so retries spread out but always back
    /// off), and a server's `retry_after` is a floor.
    pub fn delay(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        rng: &mut fastrand::Rng,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let nominal = self
            .base
            .saturating_mul(1 << attempt.saturating_sub(1).min(16))
            .min(self.cap);
        let jittered = nominal / 2 + (nominal / 2).mul_f64(rng.f64());
        Some(jittered.max(retry_after.unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_caps_jitters_and_honours_retry_after() {
        let b = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(400),
            max_attempts: 5,
        };
        let mut rng = fastrand::Rng::with_seed(3);
        for attempt in 1..5 {
            let nominal =
                Duration::from_millis(100 << (attempt - 1)).min(Duration::from_millis(400));
            let d = b.delay(attempt, None, &mut rng).unwrap();
            assert!(d >= nominal / 2 && d <= nominal, "{attempt}: {d:?}");
        }
        assert_eq!(b.delay(5, None, &mut rng), None);
        let floor = Duration::from_secs(2);
        assert_eq!(b.delay(1, Some(floor), &mut rng), Some(floor));
    }
}
