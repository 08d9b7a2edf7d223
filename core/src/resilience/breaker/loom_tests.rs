//! Loom models of the breaker's state word.

use loom::sync::Arc;
use loom::thread;

use super::Transition;
use super::state_machine::{CLOSED, Config, Core, HALF_OPEN, OPEN, Trip, kind};
use super::window::{COUNTED, FAILED, Window};

fn core(window: Window, trip: Trip) -> Core {
    Core::new(
        Config {
            trip,
            open_ns: 1_000,
            open_multiplier: 1.0,
            max_open_ns: 1_000,
            half_open_calls: 2,
            half_open_timeout_ns: 1_000,
            probe_fail_limit: 1,
            probe_slow_limit: u32::MAX,
        },
        window,
        CLOSED,
    )
}

fn rate_trip() -> Trip {
    Trip::Rate {
        failure_rate: 0.5,
        slow_rate: None,
        min_calls: 1,
    }
}

/// Two failures recorded at once both see the window over the threshold;
/// exactly one of them opens the breaker and reports it.
#[test]
fn loom_closed_to_open_exactly_once() {
    loom::model(|| {
        let c = Arc::new(core(Window::count(4), rate_trip()));
        let permit = c.acquire(|| 0).0.unwrap();
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let c = c.clone();
                thread::spawn(move || c.record(permit, COUNTED | FAILED, || 0))
            })
            .collect();
        let ts: Vec<Option<Transition>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(ts.iter().filter(|t| t.is_some()).count(), 1, "{ts:?}");
        let w = c.word();
        assert_eq!(kind(w), OPEN);
        assert_eq!(w >> 3, 1, "one epoch step");
        assert_eq!(c.snapshot(0).into[OPEN as usize], 1);
    });
}

/// A consecutive-failure breaker with a success racing two failures: the
/// run either reaches 2 or not, and opens at most once.
#[test]
fn loom_consecutive_race_opens_at_most_once() {
    loom::model(|| {
        let c = Arc::new(core(Window::consecutive(), Trip::Consecutive(2)));
        let permit = c.acquire(|| 0).0.unwrap();
        let a = {
            let c = c.clone();
            thread::spawn(move || c.record(permit, COUNTED | FAILED, || 0))
        };
        let b = {
            let c = c.clone();
            thread::spawn(move || c.record(permit, COUNTED, || 0))
        };
        let t0 = c.record(permit, COUNTED | FAILED, || 0);
        let ts = [t0, a.join().unwrap(), b.join().unwrap()];
        let opened = ts.iter().filter(|t| t.is_some()).count();
        assert!(opened <= 1);
        assert_eq!(opened == 1, kind(c.word()) == OPEN);
    });
}

/// Half-open with two permits: two probes succeeding concurrently close it
/// exactly once, and a third caller is never admitted beyond the two.
#[test]
fn loom_half_open_admits_exactly_n() {
    loom::model(|| {
        let c = Arc::new(core(Window::count(2), rate_trip()));
        let p = c.acquire(|| 0).0.unwrap();
        assert!(c.record(p, COUNTED | FAILED, || 0).is_some());
        // Past the open time: the first caller half-opens and holds probe 1.
        let (first, t) = c.acquire(|| 5_000);
        assert!(t.is_some());
        let first = first.unwrap();
        assert_eq!(kind(first), HALF_OPEN);
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let c = c.clone();
                thread::spawn(move || c.acquire(|| 5_000).0)
            })
            .collect();
        let admitted: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let ok: Vec<u64> = admitted.iter().filter_map(|r| r.ok()).collect();
        assert_eq!(ok.len(), 1, "exactly one more probe");
        let c2 = c.clone();
        let probe = ok[0];
        let h = thread::spawn(move || c2.record(probe, COUNTED, || 5_000));
        let t1 = c.record(first, COUNTED, || 5_000);
        let t2 = h.join().unwrap();
        assert_eq!(t1.is_some() as u8 + t2.is_some() as u8, 1);
        assert_eq!(kind(c.word()), CLOSED);
    });
}

/// Records wrapping onto one slot race a clear: whatever the interleaving,
/// the packed total ends equal to what the slots hold.
#[test]
fn loom_count_window_total_matches_slots() {
    use super::window::SLOW;
    loom::model(|| {
        let w = Arc::new(Window::count(1));
        w.record(COUNTED | FAILED, 0);
        let a = {
            let w = w.clone();
            thread::spawn(move || {
                w.record(COUNTED, 0);
            })
        };
        let b = {
            let w = w.clone();
            thread::spawn(move || {
                w.record(COUNTED | FAILED | SLOW, 0);
            })
        };
        w.clear();
        a.join().unwrap();
        b.join().unwrap();
        let t = w.snapshot(0);
        assert!(t.calls <= 1, "{t:?}");
        if let Window::Count { slots, .. } = &*w {
            let code = slots[0].load(loom::sync::atomic::Ordering::SeqCst);
            assert_eq!(t.calls, code & COUNTED);
            assert_eq!(t.failures, (code & FAILED) >> 1);
            assert_eq!(t.slow, (code & SLOW) >> 2);
        }
    });
}
