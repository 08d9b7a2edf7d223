//! Hedging: when an attempt is slow, start another and keep the first
//! success.

use core::fmt;
use core::future::Future;
use core::pin::{Pin, pin};
use core::task::Poll;
use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::RetryBudget;
use crate::Runtime;
use crate::obs::{self, Name, hedge::HedgeObs};
use crate::{ConfigError, Rule};

/// Starts another attempt when the running ones are slow; the first success
/// wins and the others are dropped (cancelled) at once.
///
/// Rules, where peers differ:
/// * A hedge starts after the hedge delay (never zero), counted from the
///   previous start; at most `max_hedges` (at most [`Hedge::MAX_HEDGES`])
///   start in addition to the first attempt, and one poll starts at most
///   one of them, so hedges that are all due at once (a starved executor
///   thread) still start one executor turn apart.
/// * A failed attempt does not start a hedge early (that is retry's job,
///   and a pipeline composes both); when every started attempt has failed
///   and no hedge is due, the last error is returned.
/// * The delay is fixed, or the chosen quantile of the latencies of calls
///   that succeeded so far (once `min_samples` were seen; the fixed delay
///   until then), so that only the slow tail is hedged.
/// * With a [`RetryBudget`], each hedge withdraws a token as a retry would;
///   no token, no hedge. Calls deposit through the `Retry` that shares the
///   budget (or through its reserve alone).
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::Hedge;
/// use weir_core::{Runtime, test_util::VirtualRuntime};
///
/// let rt = VirtualRuntime::new();
/// let hedge = Hedge::fixed(Duration::from_millis(20)).build().unwrap();
/// let attempt = std::sync::atomic::AtomicU64::new(0);
/// let out = rt.block_on(hedge.run(&rt, || {
///     let n = attempt.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
///     let rt = rt.clone();
///     async move {
///         // The first attempt hangs for 100 ms; the hedge answers in 10.
///         rt.sleep(Duration::from_millis(if n == 0 { 100 } else { 10 })).await;
///         Ok::<_, ()>(n)
///     }
/// }));
/// assert_eq!(out, Ok(1));
/// assert_eq!(rt.elapsed(), Duration::from_millis(30));
/// # }
/// ```
#[derive(Clone)]
pub struct Hedge {
    delay: Duration,
    quantile: Option<f64>,
    min_samples: u64,
    max_hedges: u32,
    budget: Option<Arc<RetryBudget>>,
    latencies: Arc<Latencies>,
    obs: HedgeObs,
}

/// Builds a [`Hedge`]; see [`Hedge::fixed`] and [`Hedge::quantile`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until .build() is called"]
pub struct HedgeBuilder {
    delay: Duration,
    quantile: Option<f64>,
    min_samples: u64,
    max_hedges: u32,
    budget: Option<Arc<RetryBudget>>,
    name: Name,
}

impl Hedge {
    /// The most hedges [`max_hedges`](HedgeBuilder::max_hedges) accepts.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_core::Hedge;
    /// let b = Hedge::fixed(Duration::from_millis(5));
    /// assert!(b.clone().max_hedges(Hedge::MAX_HEDGES).build().is_ok());
    /// assert!(b.max_hedges(Hedge::MAX_HEDGES + 1).build().is_err());
    /// ```
    pub const MAX_HEDGES: u32 = 10;

    /// Hedges after a fixed `delay`. Defaults: one hedge, no budget.
    ///
    /// ```
    /// let h = weir_core::Hedge::fixed(std::time::Duration::from_millis(50)).build();
    /// assert!(h.is_ok());
    /// ```
    pub fn fixed(delay: Duration) -> HedgeBuilder {
        HedgeBuilder {
            delay,
            quantile: None,
            min_samples: 20,
            max_hedges: 1,
            budget: None,
            name: Name::default(),
        }
    }

    /// Hedges after the `q` quantile (e.g. 0.95) of the latencies of
    /// successful calls seen so far; `initial` until `min_samples` calls
    /// (default 20) were seen.
    ///
    /// ```
    /// use std::time::Duration;
    /// let h = weir_core::Hedge::quantile(0.95, Duration::from_millis(50)).build();
    /// assert!(h.is_ok());
    /// ```
    pub fn quantile(q: f64, initial: Duration) -> HedgeBuilder {
        HedgeBuilder {
            quantile: Some(q),
            ..Self::fixed(initial)
        }
    }

    /// The delay the next hedge would wait.
    ///
    /// ```
    /// use std::time::Duration;
    /// let h = weir_core::Hedge::fixed(Duration::from_millis(50)).build().unwrap();
    /// assert_eq!(h.current_delay(), Duration::from_millis(50));
    /// ```
    pub fn current_delay(&self) -> Duration {
        match self.quantile {
            Some(q) => self
                .latencies
                .quantile(q, self.min_samples)
                .unwrap_or(self.delay),
            None => self.delay,
        }
    }

    /// Runs `op`, starting up to `max_hedges` more attempts while the
    /// running ones are slow; returns the first success, or the last error
    /// once every started attempt failed and no hedge is left to start.
    /// Attempts still running when it returns are dropped.
    ///
    /// Allocates only when a hedge starts (the extra attempts are boxed);
    /// a call that finishes before the delay allocates nothing.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let hedge = weir_core::Hedge::fixed(Duration::from_millis(20)).build().unwrap();
    /// assert_eq!(rt.block_on(hedge.run(&rt, || async { Err::<(), _>("down") })), Err("down"));
    /// # }
    /// ```
    pub async fn run<R, T, E, F, Fut>(&self, rt: &R, op: F) -> Result<T, E>
    where
        R: Runtime,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let start = self.quantile.is_some().then(|| rt.now());
        let out = self.race(rt, &op).await;
        if let (Some(start), Ok(_)) = (start, &out) {
            self.latencies
                .record(rt.now().saturating_duration_since(start));
        }
        out
    }

    async fn race<R, T, E, F, Fut>(&self, rt: &R, op: &F) -> Result<T, E>
    where
        R: Runtime,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let first = Some(obs::policy::hedge(op(), 0));
        let mut hedges = boxes_like(&first);
        let mut first = pin!(first);
        // Armed only once the first attempt had to wait: a call that is
        // ready at once reads no clock and sets no timer.
        let mut timer = pin!(None::<R::Sleep>);
        let mut armed = false;
        let mut started = 0u32;
        let mut last_err = None;
        core::future::poll_fn(|cx| {
            // One start per poll: however many hedges are due (a clock read
            // late, a starved executor thread), the executor gets its
            // thread back between starts.
            let mut started_now = false;
            loop {
                if let Some(f) = first.as_mut().as_pin_mut() {
                    if let Poll::Ready(r) = f.poll(cx) {
                        first.set(None);
                        match r {
                            Ok(v) => return Poll::Ready(Ok(v)),
                            Err(e) => last_err = Some(e),
                        }
                    }
                }
                let mut i = 0;
                while i < hedges.len() {
                    match hedges[i].as_mut().poll(cx) {
                        Poll::Ready(Ok(v)) => return Poll::Ready(Ok(v)),
                        Poll::Ready(Err(e)) => {
                            last_err = Some(e);
                            drop(hedges.swap_remove(i));
                        }
                        Poll::Pending => i += 1,
                    }
                }
                if !armed {
                    armed = true;
                    timer.set(Some(rt.sleep(self.current_delay())));
                }
                if started_now && timer.is_some() {
                    // The next timer is polled on the next turn.
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                let due = match timer.as_mut().as_pin_mut() {
                    Some(t) => t.poll(cx).is_ready(),
                    None => false,
                };
                if due {
                    let allowed = match &self.budget {
                        Some(b) => b.try_withdraw(rt.now()),
                        None => true,
                    };
                    self.obs.due(started + 1, allowed, || self.current_delay());
                    if allowed {
                        hedges.push(Box::pin(obs::policy::hedge(op(), started + 1)));
                        started += 1;
                        started_now = true;
                    }
                    let more = allowed && started < self.max_hedges;
                    timer.set(more.then(|| rt.sleep(self.current_delay())));
                    // Poll the new attempt (and the new timer) right away.
                    continue;
                }
                let running = first.is_some() || !hedges.is_empty();
                if !running {
                    if let Some(e) = last_err.take() {
                        return Poll::Ready(Err(e));
                    }
                }
                return Poll::Pending;
            }
        })
        .await
    }
}

impl HedgeBuilder {
    /// How many attempts may start in addition to the first (default 1,
    /// at most [`Hedge::MAX_HEDGES`]).
    ///
    /// ```
    /// let b = weir_core::Hedge::fixed(std::time::Duration::from_millis(5)).max_hedges(2);
    /// assert!(b.build().is_ok());
    /// ```
    pub fn max_hedges(mut self, n: u32) -> Self {
        self.max_hedges = n;
        self
    }

    /// How many successful calls must be seen before the quantile replaces
    /// the initial delay (default 20).
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = weir_core::Hedge::quantile(0.9, Duration::from_millis(5)).min_samples(100);
    /// assert!(b.build().is_ok());
    /// ```
    pub fn min_samples(mut self, n: u64) -> Self {
        self.min_samples = n;
        self
    }

    /// Takes a token from `budget` for each hedge.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use weir_core::{Hedge, RetryBudget};
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let budget = Arc::new(RetryBudget::builder().build(&rt).unwrap());
    /// assert!(Hedge::fixed(Duration::from_millis(5)).budget(budget).build().is_ok());
    /// # }
    /// ```
    pub fn budget(mut self, budget: Arc<RetryBudget>) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Names the hedge in its tracing events and metric labels (the `name`
    /// label; see [`obs`](crate::obs)). Default: `"default"`.
    ///
    /// ```
    /// let h = weir_core::Hedge::fixed(std::time::Duration::from_millis(5)).name("search");
    /// # drop(h);
    /// ```
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Name::new(name);
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the first bad field:
    ///
    /// | field | rule |
    /// |---|---|
    /// | `delay` ([`fixed`](Hedge::fixed)), `initial` ([`quantile`](Hedge::quantile)) | greater than zero: a zero delay would start every hedge at once, which is a fan-out, not a hedge |
    /// | `max_hedges` | `1..=`[`Hedge::MAX_HEDGES`] (10, Polly's bound; gRPC allows 4): each hedge is another request to a backend that is already slow |
    /// | `quantile` | within `0.0..=1.0` (NaN refused) |
    /// | `min_samples` | greater than zero |
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_core::Hedge;
    /// let e = Hedge::quantile(f64::NAN, Duration::from_millis(5)).build().unwrap_err();
    /// assert_eq!(e.field(), "quantile");
    /// let e = Hedge::fixed(Duration::ZERO).build().unwrap_err();
    /// assert_eq!(e.to_string(), "Hedge: `delay` must be greater than zero");
    /// ```
    pub fn build(self) -> Result<Hedge, ConfigError> {
        const C: &str = "Hedge";
        if self.delay.is_zero() {
            let field = if self.quantile.is_some() {
                "initial"
            } else {
                "delay"
            };
            return Err(ConfigError::new(C, field, Rule::Zero));
        }
        if !(1..=Hedge::MAX_HEDGES).contains(&self.max_hedges) {
            return Err(ConfigError::new(
                C,
                "max_hedges",
                Rule::OutOfRange("1..=10"),
            ));
        }
        if let Some(q) = self.quantile {
            if !(0.0..=1.0).contains(&q) {
                return Err(ConfigError::new(
                    C,
                    "quantile",
                    Rule::OutOfRange("0.0..=1.0"),
                ));
            }
        }
        if self.min_samples == 0 {
            return Err(ConfigError::new(C, "min_samples", Rule::Zero));
        }
        Ok(Hedge {
            delay: self.delay,
            quantile: self.quantile,
            min_samples: self.min_samples,
            max_hedges: self.max_hedges,
            budget: self.budget,
            latencies: Arc::new(Latencies::new()),
            obs: HedgeObs::new(self.name),
        })
    }
}

/// An empty list of boxed attempts of the first attempt's type (which the
/// tracing hook may wrap, so it is named by inference only).
fn boxes_like<F>(_: &Option<F>) -> Vec<Pin<Box<F>>> {
    Vec::new()
}

impl fmt::Debug for Hedge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hedge")
            .field("delay", &self.delay)
            .field("quantile", &self.quantile)
            .field("max_hedges", &self.max_hedges)
            .field("current_delay", &self.current_delay())
            .finish()
    }
}

/// Latencies of successful calls in buckets a quarter-octave wide, from
/// 1 µs to about an hour: enough resolution to place a hedge, fixed size,
/// lock-free. Relaxed counters with no protocol between them (a read may
/// miss a concurrent record, which only nudges a statistic), so std's
/// atomics rather than the loom shim's.
struct Latencies {
    buckets: [AtomicU64; BUCKETS],
}

const BUCKETS: usize = 128;

impl Latencies {
    fn new() -> Self {
        Latencies {
            buckets: core::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    fn bucket(d: Duration) -> usize {
        let us = d.as_micros().max(1) as f64;
        ((us.log2() * 4.0) as usize).min(BUCKETS - 1)
    }

    /// The upper bound of bucket `i`.
    fn upper(i: usize) -> Duration {
        Duration::from_secs_f64(2f64.powf((i + 1) as f64 / 4.0) / 1e6)
    }

    fn record(&self, d: Duration) {
        self.buckets[Self::bucket(d)].fetch_add(1, Ordering::Relaxed);
    }

    fn quantile(&self, q: f64, min_samples: u64) -> Option<Duration> {
        let counts: [u64; BUCKETS] =
            core::array::from_fn(|i| self.buckets[i].load(Ordering::Relaxed));
        let total: u64 = counts.iter().sum();
        if total < min_samples {
            return None;
        }
        let rank = ((q * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(Self::upper(i));
            }
        }
        Some(Self::upper(BUCKETS - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_lands_in_the_bucket_of_the_rank() {
        let l = Latencies::new();
        for _ in 0..90 {
            l.record(Duration::from_millis(10));
        }
        for _ in 0..10 {
            l.record(Duration::from_millis(200));
        }
        let p50 = l.quantile(0.5, 1).unwrap();
        assert!(
            p50 >= Duration::from_millis(10) && p50 < Duration::from_millis(12),
            "{p50:?}"
        );
        let p95 = l.quantile(0.95, 1).unwrap();
        assert!(
            p95 >= Duration::from_millis(200) && p95 < Duration::from_millis(240),
            "{p95:?}"
        );
        assert_eq!(l.quantile(0.5, 101), None);
    }
}
