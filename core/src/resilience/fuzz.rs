//! Model checks of the resilience layer, shared by the fuzz targets
//! (`fuzz/fuzz_targets/breaker.rs`), their corpus replay and the property
//! tests. Not a public API.

use std::collections::VecDeque;
use std::time::Duration;

use crate::{
    CircuitBreaker,
    resilience::{CallPermit, ErrorIsFailure, Outcome, State},
};
use crate::{Runtime, test_util::VirtualRuntime};

/// A breaker configuration the model understands.
#[derive(Debug, Clone, Copy)]
pub struct ModelConfig {
    /// Count window size, 1..=8.
    pub window: u32,
    /// 1..=window.
    pub min_calls: u32,
    /// Failure rate in quarters, 1..=4.
    pub rate_quarters: u32,
    /// Slow-call rule (rate 0.5, 10 ms) on or off.
    pub slow: bool,
    /// Open duration in ms, 1..=50.
    pub open_ms: u64,
    /// Open growth multiplier, 1 or 2 (cap 4x).
    pub multiplier: u32,
    /// Probes, 1..=3.
    pub half_open_calls: u32,
    /// Half-open timeout in ms, 1..=50.
    pub half_open_timeout_ms: u64,
}

/// One step of a scenario.
#[derive(Debug, Clone, Copy)]
pub enum Op {
    /// `try_acquire`, keeping the permit.
    Acquire,
    /// Record the held permit `slot % held` with an outcome.
    Record {
        /// Which held permit.
        slot: u8,
        /// The outcome.
        outcome: Outcome,
        /// Whether the call was slow.
        slow: bool,
    },
    /// Drop a held permit unrecorded (a cancelled call).
    Drop(u8),
    /// Move the clock forward by this many ms.
    Advance(u8),
    /// `force_open`
    ForceOpen,
    /// `disable`
    Disable,
    /// `metrics_only`
    MetricsOnly,
    /// `reset`
    Reset,
}

const SLOW: Duration = Duration::from_millis(10);
const MS: u64 = 1_000_000;

/// The sequential model: the rules of the module docs, written plainly.
#[derive(Debug)]
struct Model {
    cfg: ModelConfig,
    state: State,
    epoch: u64,
    window: VecDeque<(bool, bool)>,
    open_until: u64,
    trips: u32,
    admitted: u32,
    outcomes: u32,
    failures: u32,
    slows: u32,
    ho_deadline: u64,
    late: u64,
    opened: u64,
    half_opened: u64,
    closed: u64,
    rejected: u64,
}

impl Model {
    fn open_for(&self) -> u64 {
        let base = self.cfg.open_ms * MS;
        if self.cfg.multiplier == 1 {
            return base;
        }
        let k = (self.trips - 1).min(8);
        (base << k).min(base * 4)
    }

    fn trips_now(&self) -> bool {
        let calls = self.window.len() as u32;
        let fails = self.window.iter().filter(|w| w.0).count() as u32;
        let slow = self.window.iter().filter(|w| w.1).count() as u32;
        calls >= self.cfg.min_calls
            && (4 * fails >= self.cfg.rate_quarters * calls || (self.cfg.slow && 2 * slow >= calls))
    }

    fn open(&mut self, now: u64) {
        self.trips += 1;
        self.open_until = now + self.open_for();
        self.state = State::Open;
        self.epoch += 1;
        self.opened += 1;
    }

    fn acquire(&mut self, now: u64) -> Result<(u64, State), u64> {
        match self.state {
            State::Closed | State::Disabled | State::MetricsOnly => Ok((self.epoch, self.state)),
            State::ForcedOpen => {
                self.rejected += 1;
                Err(u64::MAX)
            }
            State::Open if now < self.open_until => {
                self.rejected += 1;
                Err(self.open_until - now)
            }
            State::Open => {
                self.state = State::HalfOpen;
                self.epoch += 1;
                self.half_opened += 1;
                self.admitted = 1;
                (self.outcomes, self.failures, self.slows) = (0, 0, 0);
                self.ho_deadline = now + self.cfg.half_open_timeout_ms * MS;
                Ok((self.epoch, State::HalfOpen))
            }
            State::HalfOpen => {
                if self.admitted < self.cfg.half_open_calls {
                    self.admitted += 1;
                    Ok((self.epoch, State::HalfOpen))
                } else if now >= self.ho_deadline {
                    self.open(now);
                    self.rejected += 1;
                    Err(self.open_until - now)
                } else {
                    self.rejected += 1;
                    Err(self.ho_deadline - now)
                }
            }
        }
    }

    fn record(&mut self, permit: (u64, State), outcome: Outcome, slow: bool, now: u64) {
        let slow = slow && self.cfg.slow;
        match permit.1 {
            State::Closed | State::MetricsOnly => {
                if outcome == Outcome::Ignored {
                    return;
                }
                if permit.0 != self.epoch {
                    self.late += 1;
                    return;
                }
                if self.window.len() == self.cfg.window as usize {
                    self.window.pop_front();
                }
                self.window.push_back((outcome == Outcome::Failure, slow));
                if permit.1 == State::Closed && self.trips_now() {
                    self.open(now);
                }
            }
            State::HalfOpen => {
                if permit.0 != self.epoch {
                    self.late += 1;
                    return;
                }
                if outcome == Outcome::Ignored {
                    self.admitted -= 1;
                    return;
                }
                self.outcomes += 1;
                self.failures += u32::from(outcome == Outcome::Failure);
                self.slows += u32::from(slow);
                let n = self.cfg.half_open_calls;
                let fail_limit = ((self.cfg.rate_quarters * n).div_ceil(4)).max(1);
                let slow_limit = if self.cfg.slow {
                    n.div_ceil(2).max(1)
                } else {
                    u32::MAX
                };
                if self.failures >= fail_limit || self.slows >= slow_limit {
                    self.open(now);
                } else if self.outcomes >= n {
                    self.trips = 0;
                    self.window.clear();
                    self.state = State::Closed;
                    self.epoch += 1;
                    self.closed += 1;
                }
            }
            _ => {}
        }
    }

    fn force(&mut self, to: State) {
        if matches!(to, State::Closed | State::MetricsOnly) {
            self.window.clear();
        }
        if to == State::Closed {
            self.trips = 0;
            self.closed += 1;
        }
        self.admitted = 0;
        self.epoch += 1;
        self.state = to;
    }
}

/// Runs `ops` on a real breaker and on the model; panics on any difference.
pub fn check(cfg: ModelConfig, ops: &[Op]) {
    let rt = VirtualRuntime::new();
    let mut b = CircuitBreaker::builder()
        .window_count(cfg.window)
        .min_calls(cfg.min_calls)
        .failure_rate(f64::from(cfg.rate_quarters) / 4.0)
        .open_for(Duration::from_millis(cfg.open_ms))
        .open_backoff(
            f64::from(cfg.multiplier),
            Duration::from_millis(cfg.open_ms * u64::from(cfg.multiplier.pow(2))),
        )
        .half_open_calls(cfg.half_open_calls)
        .half_open_timeout(Duration::from_millis(cfg.half_open_timeout_ms));
    if cfg.slow {
        b = b.slow_calls(0.5, SLOW);
    }
    let breaker: CircuitBreaker<VirtualRuntime, ErrorIsFailure> =
        b.build(rt.clone()).expect("model config is valid");
    let mut m = Model {
        cfg,
        state: State::Closed,
        epoch: 0,
        window: VecDeque::new(),
        open_until: 0,
        trips: 0,
        admitted: 0,
        outcomes: 0,
        failures: 0,
        slows: 0,
        ho_deadline: 0,
        late: 0,
        opened: 0,
        half_opened: 0,
        closed: 0,
        rejected: 0,
    };
    let mut held: Vec<(CallPermit<'_, VirtualRuntime, ErrorIsFailure>, (u64, State))> = Vec::new();
    let t0 = rt.now();
    for (i, op) in ops.iter().enumerate() {
        let now = u64::try_from((rt.now() - t0).as_nanos()).unwrap();
        match *op {
            Op::Acquire => {
                let real = breaker.try_acquire();
                let model = m.acquire(now);
                match (real, model) {
                    (Ok(p), Ok(mp)) => {
                        if held.len() < 16 {
                            held.push((p, mp));
                        } else {
                            drop(p);
                            m.record(mp, Outcome::Ignored, false, now);
                        }
                    }
                    (Err(e), Err(rem)) => {
                        let want = if rem == u64::MAX {
                            Duration::MAX
                        } else {
                            Duration::from_nanos(rem)
                        };
                        assert_eq!(e.remaining, want, "op {i}: remaining time");
                    }
                    (r, mr) => panic!(
                        "op {i}: admit real={:?} model={mr:?}",
                        r.map(|_| ()).map_err(|e| e.remaining)
                    ),
                }
            }
            Op::Record {
                slot,
                outcome,
                slow,
            } => {
                if !held.is_empty() {
                    let (p, mp) = held.swap_remove(usize::from(slot) % held.len());
                    let latency = if slow {
                        SLOW + Duration::from_nanos(1)
                    } else {
                        SLOW
                    };
                    p.record(outcome, latency);
                    m.record(mp, outcome, slow, now);
                }
            }
            Op::Drop(slot) => {
                if !held.is_empty() {
                    let (p, mp) = held.swap_remove(usize::from(slot) % held.len());
                    drop(p);
                    m.record(mp, Outcome::Ignored, false, now);
                }
            }
            Op::Advance(ms) => rt.block_on(rt.advance(Duration::from_millis(u64::from(ms)))),
            Op::ForceOpen => {
                breaker.force_open();
                m.force(State::ForcedOpen);
            }
            Op::Disable => {
                breaker.disable();
                m.force(State::Disabled);
            }
            Op::MetricsOnly => {
                breaker.metrics_only();
                m.force(State::MetricsOnly);
            }
            Op::Reset => {
                breaker.reset();
                m.force(State::Closed);
            }
        }
        let s = breaker.stats();
        let calls = m.window.len() as u32;
        let fails = m.window.iter().filter(|w| w.0).count() as u32;
        let slow = m.window.iter().filter(|w| w.1).count() as u32;
        assert_eq!(s.state, m.state, "op {i} {op:?}: state");
        assert_eq!(
            (s.calls, s.failures, s.slow_calls),
            (calls, fails, slow),
            "op {i} {op:?}: window"
        );
        assert_eq!(
            (s.opened, s.half_opened, s.closed),
            (m.opened, m.half_opened, m.closed),
            "op {i} {op:?}: transitions"
        );
        assert_eq!(
            (s.rejected, s.late),
            (m.rejected, m.late),
            "op {i} {op:?}: rejected, late"
        );
        assert_eq!(s.consecutive_opens, m.trips, "op {i} {op:?}: trips");
    }
}

/// Decodes `data` into a configuration and a scenario; any input is valid.
pub fn decode(data: &[u8]) -> (ModelConfig, Vec<Op>) {
    let b = |i: usize| u32::from(data.get(i).copied().unwrap_or(0));
    let window = b(0) % 8 + 1;
    let cfg = ModelConfig {
        window,
        min_calls: b(1) % window + 1,
        rate_quarters: b(2) % 4 + 1,
        slow: b(3) & 1 == 1,
        open_ms: u64::from(b(3) >> 1) % 50 + 1,
        multiplier: b(4) % 2 + 1,
        half_open_calls: b(4) / 2 % 3 + 1,
        half_open_timeout_ms: u64::from(b(5)) % 50 + 1,
    };
    let ops = data
        .get(6..)
        .unwrap_or(&[])
        .chunks(2)
        .map(|c| {
            let (k, a) = (c[0], c.get(1).copied().unwrap_or(0));
            match k % 12 {
                0..=3 => Op::Acquire,
                4..=6 => Op::Record {
                    slot: a >> 3,
                    outcome: [
                        Outcome::Success,
                        Outcome::Failure,
                        Outcome::Ignored,
                        Outcome::Failure,
                    ][usize::from(a & 3)],
                    slow: a & 4 != 0,
                },
                7 => Op::Drop(a),
                8 => Op::Advance(a % 64),
                9 => [Op::ForceOpen, Op::Disable, Op::MetricsOnly, Op::Reset][usize::from(a % 4)],
                _ => Op::Acquire,
            }
        })
        .collect();
    (cfg, ops)
}

/// The `breaker` fuzz target: decode, then [`check`].
pub fn breaker(data: &[u8]) {
    let (cfg, ops) = decode(data);
    check(cfg, &ops);
}
