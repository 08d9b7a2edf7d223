//! Delay schedules and jitter: pure functions of the retry number, the
//! previous delay and a random source. Nothing here allocates.

use std::time::Duration;

/// How the delay grows with the retry number `n` (1 for the first retry).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Schedule {
    /// `base`
    Constant,
    /// `base * n`
    Linear,
    /// `base * multiplier^(n-1)`
    Exponential,
}

/// How the computed delay is randomised.
///
/// With `d` the capped delay of the schedule and `b` the base delay:
///
/// | jitter | delay |
/// |---|---|
/// | `None` | `d` |
/// | `Full` | uniform in `[0, d]` |
/// | `Equal` | uniform in `[d/2, d]` |
/// | `Decorrelated` | uniform in `[b, 3 * previous]`, capped at `max_delay` (previous starts at `b`; the schedule is not used) |
///
/// ```
/// use weir_core::resilience::Jitter;
/// assert_ne!(Jitter::Full, Jitter::None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Jitter {
    /// The schedule's delay exactly.
    #[default]
    None,
    /// Uniform between zero and the delay.
    Full,
    /// Half the delay, plus uniform up to the other half.
    Equal,
    /// Uniform between the base and three times the previous delay.
    Decorrelated,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Backoff {
    pub(crate) schedule: Schedule,
    pub(crate) base: Duration,
    pub(crate) multiplier: f64,
    pub(crate) max: Duration,
    pub(crate) jitter: Jitter,
}

/// `d` in nanoseconds as f64, exact below 2^53 ns (104 days). Built from
/// the seconds and nanoseconds: converting `as_nanos()` (a u128) would be
/// a library call on the decision path.
fn nanos(d: Duration) -> f64 {
    d.as_secs() as f64 * 1e9 + f64::from(d.subsec_nanos())
}

/// `ns` nanoseconds as a duration, saturating at `max`.
fn clamp(ns: f64, max: Duration) -> Duration {
    // Written so that NaN (from huge exponents) also takes the cap.
    if ns.is_nan() || ns >= nanos(max) {
        return max;
    }
    Duration::from_nanos(ns.max(0.0) as u64)
}

/// A uniform duration in `[lo, hi]`.
pub(crate) fn uniform(rng: &mut fastrand::Rng, lo: Duration, hi: Duration) -> Duration {
    if hi <= lo {
        return lo;
    }
    let lo_ns = u64::try_from(lo.as_nanos()).unwrap_or(u64::MAX);
    let hi_ns = u64::try_from(hi.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rng.u64(lo_ns..=hi_ns))
}

impl Backoff {
    /// The capped, un-jittered delay before retry `n` (1-based).
    pub(crate) fn nominal(&self, n: u32) -> Duration {
        let base = nanos(self.base);
        let ns = match self.schedule {
            Schedule::Constant => base,
            Schedule::Linear => base * f64::from(n.max(1)),
            Schedule::Exponential => {
                base * self
                    .multiplier
                    .powi(n.saturating_sub(1).min(i32::MAX as u32) as i32)
            }
        };
        clamp(ns, self.max)
    }

    /// The delay before retry `n`, given the previous delay (for
    /// decorrelated jitter; `None` before the first retry), and whether the
    /// schedule has reached `max` (it never leaves it: multiplier >= 1).
    pub(crate) fn delay(
        &self,
        n: u32,
        prev: Option<Duration>,
        rng: &mut fastrand::Rng,
    ) -> (Duration, bool) {
        match self.jitter {
            Jitter::None => {
                let d = self.nominal(n);
                (d, d == self.max)
            }
            Jitter::Full => {
                let d = self.nominal(n);
                (uniform(rng, Duration::ZERO, d), d == self.max)
            }
            Jitter::Equal => {
                let d = self.nominal(n);
                (uniform(rng, d / 2, d), d == self.max)
            }
            Jitter::Decorrelated => {
                let base = self.base.min(self.max);
                let prev = prev.unwrap_or(base).max(base);
                let hi = clamp(nanos(prev) * 3.0, self.max);
                (uniform(rng, base, hi), false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(schedule: Schedule) -> Backoff {
        Backoff {
            schedule,
            base: Duration::from_millis(100),
            multiplier: 2.0,
            max: Duration::from_secs(1),
            jitter: Jitter::None,
        }
    }

    #[test]
    fn schedules_and_cap() {
        let ms = |d: Duration| d.as_millis();
        let e = b(Schedule::Exponential);
        assert_eq!(
            [1, 2, 3, 4, 5].map(|n| ms(e.nominal(n))),
            [100, 200, 400, 800, 1000]
        );
        assert_eq!(e.nominal(u32::MAX), Duration::from_secs(1));
        let l = b(Schedule::Linear);
        assert_eq!([1, 2, 3].map(|n| ms(l.nominal(n))), [100, 200, 300]);
        assert_eq!(ms(b(Schedule::Constant).nominal(9)), 100);
    }
}
