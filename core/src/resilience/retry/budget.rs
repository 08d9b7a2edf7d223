//! A retry budget: retries may add at most a share of the call volume.

use std::time::{Duration, Instant};

use crate::Runtime;
use crate::resilience::ring::{Ring, unpack};
use crate::{ConfigError, Rule};

const C: &str = "RetryBudget";
/// Packed fields: calls in the low half, retries in the high half.
const BITS: u32 = 32;
const ONE_RETRY: u64 = 1 << BITS;

/// Caps retries at a share of recent calls, so that a failing backend sees
/// at most `(1 + ratio)` times its normal load instead of `max_attempts`
/// times.
///
/// Over a sliding window (default 10 s, in 10 buckets) the budget holds
/// `min_per_second * window` tokens plus `ratio` of a token per call
/// ([`Retry`](super::Retry) deposits one call per run), minus one per retry
/// taken. A retry is allowed while at least one whole token remains;
/// otherwise the retry loop gives up at once with the last error. Tokens of
/// calls and retries older than the window expire, so the budget recovers
/// by itself. The defaults (ratio 0.2, 10 per second, 10 s) follow
/// Finagle's; gRPC's throttle is a cousin without the window.
///
/// Share one budget between every [`Retry`](super::Retry) that targets the
/// same backend through an `Arc`. Checks are lock-free (a bucket change
/// takes a short lock once per bucket length); concurrent withdrawals of
/// the last token may both be refused, never both granted past the budget.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::RetryBudget;
/// use weir_core::{Runtime, test_util::VirtualRuntime};
///
/// let rt = VirtualRuntime::new();
/// let budget = RetryBudget::builder().ratio(0.5).min_per_second(0).build(&rt).unwrap();
/// let now = rt.now();
/// budget.deposit(now);
/// budget.deposit(now);
/// assert!(budget.try_withdraw(now), "two calls earn one retry");
/// assert!(!budget.try_withdraw(now));
/// # }
/// ```
#[derive(Debug)]
pub struct RetryBudget {
    ring: Ring,
    ratio: f64,
    reserve: u64,
    base: Instant,
}

/// Builds a [`RetryBudget`].
///
/// ```
/// use std::time::Duration;
/// let b = weir_core::RetryBudget::builder()
///     .ratio(0.1)
///     .min_per_second(5)
///     .window(Duration::from_secs(30));
/// # drop(b);
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing itself: call .build() to get a RetryBudget"]
pub struct RetryBudgetBuilder {
    ratio: f64,
    min_per_second: u32,
    window: Duration,
}

impl RetryBudget {
    /// A builder with ratio 0.2, 10 retries per second minimum, a 10 s
    /// window.
    ///
    /// ```
    /// let b = weir_core::RetryBudget::builder();
    /// # drop(b);
    /// ```
    pub fn builder() -> RetryBudgetBuilder {
        RetryBudgetBuilder {
            ratio: 0.2,
            min_per_second: 10,
            window: Duration::from_secs(10),
        }
    }

    fn ns(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.base).as_nanos()).unwrap_or(u64::MAX)
    }

    fn available(&self, word: u64) -> i128 {
        let [calls, retries] = unpack::<2>(word, BITS);
        i128::from(self.reserve) + (self.ratio * calls as f64) as i128 - i128::from(retries)
    }

    /// Counts one call at `now` (a run of a retry loop, not each attempt).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::{Runtime, test_util::VirtualRuntime};
    /// let rt = VirtualRuntime::new();
    /// let b = weir_core::RetryBudget::builder().ratio(1.0).min_per_second(0).build(&rt).unwrap();
    /// b.deposit(rt.now());
    /// assert_eq!(b.balance(rt.now()), 1);
    /// # }
    /// ```
    pub fn deposit(&self, now: Instant) {
        self.ring.add(self.ns(now), 1);
    }

    /// Takes one retry token at `now` if a whole one is available.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::{Runtime, test_util::VirtualRuntime};
    /// let rt = VirtualRuntime::new();
    /// let b = weir_core::RetryBudget::builder().min_per_second(1).build(&rt).unwrap();
    /// assert_eq!(b.balance(rt.now()), 10, "1 per second over 10 s");
    /// assert!(b.try_withdraw(rt.now()));
    /// # }
    /// ```
    pub fn try_withdraw(&self, now: Instant) -> bool {
        let ns = self.ns(now);
        // Take optimistically (one atomic add, which also returns the new
        // balance) and give back when that overdrew: the budget is never
        // overdrawn, and the common case costs no separate check.
        if self.available(self.ring.add(ns, ONE_RETRY)) < 0 {
            self.ring.add(ns, ONE_RETRY.wrapping_neg());
            return false;
        }
        true
    }

    /// Whole retry tokens available at `now`.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::{Runtime, test_util::VirtualRuntime};
    /// let rt = VirtualRuntime::new();
    /// let b = weir_core::RetryBudget::builder().min_per_second(0).build(&rt).unwrap();
    /// assert_eq!(b.balance(rt.now()), 0);
    /// # }
    /// ```
    pub fn balance(&self, now: Instant) -> u64 {
        u64::try_from(self.available(self.ring.total(self.ns(now))).max(0)).unwrap_or(u64::MAX)
    }
}

impl RetryBudgetBuilder {
    /// Retry tokens earned per call, finite and in `0.0..=1000.0`.
    ///
    /// ```
    /// let b = weir_core::RetryBudget::builder().ratio(0.1);
    /// # drop(b);
    /// ```
    pub fn ratio(mut self, ratio: f64) -> Self {
        self.ratio = ratio;
        self
    }

    /// Retries per second allowed whatever the call volume (0 allowed).
    ///
    /// ```
    /// let b = weir_core::RetryBudget::builder().min_per_second(0);
    /// # drop(b);
    /// ```
    pub fn min_per_second(mut self, n: u32) -> Self {
        self.min_per_second = n;
        self
    }

    /// How long calls and retries count, in ten buckets (at least 10 ns).
    ///
    /// ```
    /// let b = weir_core::RetryBudget::builder().window(std::time::Duration::from_secs(60));
    /// # drop(b);
    /// ```
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Checks the fields and builds the budget on `rt`'s clock.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for a NaN, infinite, negative or above-1000 `ratio`,
    /// a `window` under 10 ns or over 500 years, or both `ratio` and
    /// `min_per_second` zero (no retry could ever pass).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let e = weir_core::RetryBudget::builder().ratio(-1.0).build(&rt).unwrap_err();
    /// assert_eq!(e.field(), "ratio");
    /// # }
    /// ```
    pub fn build<R: Runtime>(self, rt: &R) -> Result<RetryBudget, ConfigError> {
        if !self.ratio.is_finite() {
            return Err(ConfigError::new(C, "ratio", Rule::NotFinite));
        }
        if !(0.0..=1000.0).contains(&self.ratio) {
            return Err(ConfigError::new(
                C,
                "ratio",
                Rule::OutOfRange("0.0..=1000.0"),
            ));
        }
        if self.ratio == 0.0 && self.min_per_second == 0 {
            return Err(ConfigError::new(
                C,
                "min_per_second",
                Rule::Other("and `ratio` cannot both be zero"),
            ));
        }
        let ns = u64::try_from(self.window.as_nanos())
            .ok()
            .filter(|&n| n >= 10);
        let Some(ns) = ns else {
            return Err(ConfigError::new(
                C,
                "window",
                Rule::OutOfRange("10ns..=500 years"),
            ));
        };
        let reserve = (f64::from(self.min_per_second) * self.window.as_secs_f64()) as u64;
        Ok(RetryBudget {
            ring: Ring::new(10, ns / 10),
            ratio: self.ratio,
            reserve,
            base: rt.now(),
        })
    }
}

#[cfg(all(test, weir_loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    /// Two retries race for the last token: at most one gets it, and a
    /// refused one leaves nothing behind.
    #[test]
    fn loom_budget_never_overdraws() {
        loom::model(|| {
            let base = Instant::now();
            let b = Arc::new(RetryBudget {
                ring: Ring::new(2, 1_000_000_000),
                ratio: 0.0,
                reserve: 1,
                base,
            });
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    let b = b.clone();
                    loom::thread::spawn(move || b.try_withdraw(base))
                })
                .collect();
            let granted = handles
                .into_iter()
                .filter(|_| true)
                .map(|h| h.join().unwrap())
                .filter(|&g| g)
                .count();
            assert!(granted <= 1);
            assert_eq!(b.balance(base), 1 - granted as u64);
        });
    }
}
