//! Stand-in for weir's `CircuitBreaker`: a count window, a failure-rate
//! threshold, an open period and a limited number of half-open probes.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use weir::Runtime;

/// The breaker's state, as the progress bar shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls flow; outcomes are counted.
    Closed,
    /// Calls are refused until the open period ends.
    Open,
    /// A few probe calls decide between closed and open.
    HalfOpen,
}

#[derive(Debug)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { in_flight: u32, succeeded: u32 },
}

#[derive(Debug)]
struct Inner {
    phase: Phase,
    window: VecDeque<bool>,
    trips: u64,
}

/// Trips when at least `failure_rate` of the last `window` calls failed
/// (once `min_calls` were seen), stays open for `open_for`, then lets
/// `probes` calls through; all of them must succeed to close it again.
#[derive(Debug)]
pub struct Breaker<R> {
    rt: R,
    window: usize,
    min_calls: usize,
    failure_rate: f64,
    open_for: Duration,
    probes: u32,
    inner: Mutex<Inner>,
}

/// Permission to make one call; report its outcome with [`Permit::record`].
/// Dropping it unrecorded (a cancelled call) counts as nothing but frees a
/// probe slot.
#[derive(Debug)]
pub struct Permit<'a, R: Runtime> {
    breaker: &'a Breaker<R>,
    probe: bool,
    recorded: bool,
}

impl<R: Runtime> Breaker<R> {
    /// A closed breaker.
    pub fn new(
        rt: R,
        window: usize,
        min_calls: usize,
        failure_rate: f64,
        open_for: Duration,
        probes: u32,
    ) -> Self {
        Breaker {
            rt,
            window: window.max(1),
            min_calls: min_calls.max(1),
            failure_rate,
            open_for,
            probes: probes.max(1),
            inner: Mutex::new(Inner {
                phase: Phase::Closed,
                window: VecDeque::new(),
                trips: 0,
            }),
        }
    }

    /// The current state (an open breaker whose period ended reads as half
    /// open).
    pub fn state(&self) -> BreakerState {
        match self.inner.lock().phase {
            Phase::Closed => BreakerState::Closed,
            Phase::Open { until } if self.rt.now() < until => BreakerState::Open,
            _ => BreakerState::HalfOpen,
        }
    }

    /// How many times the breaker opened from closed.
    pub fn trips(&self) -> u64 {
        self.inner.lock().trips
    }

    /// A permit, or how long until the breaker lets a probe through.
    pub fn try_acquire(&self) -> Result<Permit<'_, R>, Duration> {
        let now = self.rt.now();
        let mut inner = self.inner.lock();
        if let Phase::Open { until } = inner.phase {
            if now < until {
                return Err(until - now);
            }
            inner.phase = Phase::HalfOpen {
                in_flight: 0,
                succeeded: 0,
            };
        }
        let probe = match &mut inner.phase {
            Phase::HalfOpen {
                in_flight,
                succeeded,
            } => {
                if *in_flight + *succeeded >= self.probes {
                    // Probes are out: wait about one call's worth.
                    return Err(self.open_for / 10);
                }
                *in_flight += 1;
                true
            }
            _ => false,
        };
        Ok(Permit {
            breaker: self,
            probe,
            recorded: false,
        })
    }

    fn record(&self, probe: bool, failed: Option<bool>) {
        let now = self.rt.now();
        let mut inner = self.inner.lock();
        if probe {
            if let Phase::HalfOpen {
                in_flight,
                succeeded,
            } = &mut inner.phase
            {
                *in_flight -= 1;
                match failed {
                    Some(true) => {
                        inner.phase = Phase::Open {
                            until: now + self.open_for,
                        }
                    }
                    Some(false) => {
                        *succeeded += 1;
                        if *succeeded >= self.probes {
                            inner.phase = Phase::Closed;
                            inner.window.clear();
                        }
                    }
                    None => {}
                }
            }
            return;
        }
        let (Some(failed), Phase::Closed) = (failed, &inner.phase) else {
            return;
        };
        inner.window.push_back(failed);
        if inner.window.len() > self.window {
            inner.window.pop_front();
        }
        let failures = inner.window.iter().filter(|f| **f).count();
        let seen = inner.window.len();
        if seen >= self.min_calls && failures as f64 >= self.failure_rate * seen as f64 {
            inner.phase = Phase::Open {
                until: now + self.open_for,
            };
            inner.trips += 1;
        }
    }
}

impl<R: Runtime> Permit<'_, R> {
    /// Records the call's outcome: `Some(true)` failed, `Some(false)`
    /// succeeded, `None` says nothing about the server.
    pub fn record(mut self, failed: Option<bool>) {
        self.recorded = true;
        self.breaker.record(self.probe, failed);
    }
}

impl<R: Runtime> Drop for Permit<'_, R> {
    fn drop(&mut self) {
        if !self.recorded {
            self.breaker.record(self.probe, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir::rt::VirtualRuntime;

    #[test]
    fn trips_waits_probes_and_closes() {
        let rt = VirtualRuntime::new();
        let b = Breaker::new(rt.clone(), 4, 4, 0.5, Duration::from_millis(100), 2);
        rt.block_on(async {
            for failed in [false, true, false] {
                b.try_acquire().unwrap().record(Some(failed));
            }
            assert_eq!(b.state(), BreakerState::Closed);
            b.try_acquire().unwrap().record(Some(true));
            assert_eq!((b.state(), b.trips()), (BreakerState::Open, 1));
            assert_eq!(b.try_acquire().unwrap_err(), Duration::from_millis(100));
            rt.sleep(Duration::from_millis(100)).await;
            let p1 = b.try_acquire().unwrap();
            let p2 = b.try_acquire().unwrap();
            assert!(b.try_acquire().is_err(), "only two probes");
            p1.record(Some(false));
            drop(p2); // cancelled: frees its slot, decides nothing
            assert_eq!(b.state(), BreakerState::HalfOpen);
            b.try_acquire().unwrap().record(Some(false));
            assert_eq!(b.state(), BreakerState::Closed);
        });
    }

    #[test]
    fn a_failed_probe_reopens() {
        let rt = VirtualRuntime::new();
        let b = Breaker::new(rt.clone(), 2, 1, 0.5, Duration::from_millis(50), 1);
        rt.block_on(async {
            b.try_acquire().unwrap().record(Some(true));
            rt.sleep(Duration::from_millis(50)).await;
            b.try_acquire().unwrap().record(Some(true));
            assert_eq!(b.try_acquire().unwrap_err(), Duration::from_millis(50));
            assert_eq!(b.trips(), 1, "a reopen from half-open is not a new trip");
        });
    }
}
