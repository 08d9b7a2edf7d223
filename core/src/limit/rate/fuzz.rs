//! The fuzz model check of the rate limiter (target `rate_gcra`).

use crate::limit::rate::Quota;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use std::time::Duration;

use super::{Clock, ManualClock, RateLimiter, TryAcquireError};
use crate::test_util::VirtualRuntime;

/// A plain token bucket in exact integer arithmetic: `level` nanoseconds of
/// credit, capped at `burst × interval`, refilled one for one with time.
/// The GCRA must decide every request exactly as this does.
struct Bucket {
    interval: u128,
    cap: u128,
    level: u128,
    last: u128,
}

impl Bucket {
    fn refill(&mut self, now: u128) {
        self.level = (self.level + (now - self.last)).min(self.cap);
        self.last = now;
    }

    /// `Ok` and take, or `Err(wait in ns)`.
    fn take(&mut self, now: u128, n: u128, commit: bool) -> Result<(), u128> {
        self.refill(now);
        let cost = n * self.interval;
        if self.level >= cost {
            if commit {
                self.level -= cost;
            }
            Ok(())
        } else {
            Err(cost - self.level)
        }
    }
}

/// Decodes `data` into a limiter configuration and a sequence of checks,
/// probes, reserve-then-cancel waits and clock moves, and checks each
/// outcome against `Bucket`.
///
/// Panics only on a mismatch.
pub fn rate_gcra(data: &[u8]) {
    let [units, period, burst, ops @ ..] = data else {
        return;
    };
    let units = u32::from(*units % 16) + 1;
    let period = Duration::from_millis(u64::from(*period) * 7 + 1);
    let burst = u32::from(*burst % 8) + 1;
    let rt = VirtualRuntime::new();
    let clock = ManualClock::default();
    let Ok(limiter) = RateLimiter::builder()
        .quota(Quota::new(units, period).burst(burst))
        .build_with_clock(rt, clock.clone())
    else {
        return;
    };
    let interval = limiter.interval().as_nanos();
    let mut model = Bucket {
        interval,
        cap: interval * u128::from(burst),
        level: interval * u128::from(burst),
        last: 0,
    };
    let mut cx = Context::from_waker(Waker::noop());
    for op in ops.chunks_exact(2) {
        let (kind, arg) = (op[0] % 4, op[1]);
        let now = u128::from(clock.now());
        let n = u32::from(arg % 10);
        match kind {
            0 => {
                let got = limiter.try_acquire_many(n);
                let want = if n > burst {
                    None
                } else {
                    Some(model.take(now, u128::from(n.max(1)), n > 0))
                };
                match (got, want) {
                    (Err(TryAcquireError::InsufficientCapacity(_)), None) => {}
                    (Ok(()), Some(Ok(()))) => {}
                    (Err(TryAcquireError::RateLimited(e)), Some(Err(wait))) => {
                        assert_eq!(e.retry_after.as_nanos(), wait, "retry_after at {now}")
                    }
                    (got, want) => panic!("n={n} at {now}: limiter {got:?}, model {want:?}"),
                }
            }
            1 => {
                // A wait polled once and dropped: granted at once exactly
                // when a check would be; otherwise the drop gives the
                // reservation back and the state is as before.
                let n = n.clamp(1, burst);
                let granted = {
                    let mut fut = pin!(limiter.acquire_many(n));
                    matches!(fut.as_mut().poll(&mut cx), Poll::Ready(Ok(())))
                };
                let want = model.take(now, u128::from(n), true).is_ok();
                assert_eq!(granted, want, "acquire_many({n}) at {now}");
            }
            2 => {
                clock.advance_nanos(u64::from(arg) * (interval as u64 / 16 + 1));
            }
            _ => {
                let jump = if arg == 255 { 1 << 40 } else { u64::from(arg) };
                clock.advance_nanos(jump);
            }
        }
    }
}
