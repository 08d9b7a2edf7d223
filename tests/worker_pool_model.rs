//! Accounting of WorkerPool against a model: random mixes of jobs that
//! succeed, panic or get rejected, submitted through every entry point; the
//! pool's counters must match what the callers observed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_lite::future;
use proptest::prelude::*;
use weir::{
    WorkerPool,
    pool::{RejectionPolicy, WorkerError},
};

#[derive(Debug, Clone, Copy)]
enum Op {
    Run { panics: bool },
    RunBlocking { panics: bool },
    Execute { panics: bool },
    TryExecute { panics: bool },
    Join,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<bool>().prop_map(|panics| Op::Run { panics }),
        any::<bool>().prop_map(|panics| Op::RunBlocking { panics }),
        any::<bool>().prop_map(|panics| Op::Execute { panics }),
        any::<bool>().prop_map(|panics| Op::TryExecute { panics }),
        Just(Op::Join),
    ]
}

/// What the callers saw.
#[derive(Debug, Default, PartialEq, Eq)]
struct Model {
    accepted: u64,
    rejected: u64,
    ok: u64,
    panicked: u64,
}

fn job(panics: bool, ran: &Arc<AtomicU64>) -> impl FnOnce() -> u8 + Send + 'static {
    let ran = ran.clone();
    move || {
        ran.fetch_add(1, Ordering::Relaxed);
        if panics {
            panic!("model job");
        }
        1
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn counters_match_what_callers_saw(
        ops in prop::collection::vec(op(), 1..80),
        max_threads in 1usize..4,
        capacity in 1usize..4,
    ) {
        let pool = WorkerPool::builder()
            .max_threads(max_threads)
            .queue_capacity(capacity)
            .rejection(RejectionPolicy::Reject)
            .build()
            .unwrap();
        let ran = Arc::new(AtomicU64::new(0));
        let mut m = Model::default();
        // Fire-and-forget jobs: we know they were accepted, and what they do.
        let mut fired_ok = 0;
        let mut fired_panics = 0;
        for op in ops {
            match op {
                Op::Run { panics } | Op::RunBlocking { panics } => {
                    let f = job(panics, &ran);
                    let out = if matches!(op, Op::Run { .. }) {
                        future::block_on(pool.run(f))
                    } else {
                        pool.run_blocking(f)
                    };
                    match out {
                        Ok(1) => { m.accepted += 1; m.ok += 1; }
                        Err(WorkerError::Panicked(_)) => { m.accepted += 1; m.panicked += 1; }
                        Err(WorkerError::Rejected(_)) => m.rejected += 1,
                        other => panic!("{other:?}"),
                    }
                }
                Op::Execute { panics } | Op::TryExecute { panics } => {
                    let f = job(panics, &ran);
                    let f = move || { let _ = f(); };
                    let out = if matches!(op, Op::Execute { .. }) {
                        pool.execute(f)
                    } else {
                        pool.try_execute(f)
                    };
                    match out {
                        Ok(()) if panics => { m.accepted += 1; fired_panics += 1; }
                        Ok(()) => { m.accepted += 1; fired_ok += 1; }
                        Err(WorkerError::Rejected(_)) => m.rejected += 1,
                        Err(e) => panic!("{e:?}"),
                    }
                }
                Op::Join => pool.join(),
            }
        }
        pool.join();
        m.ok += fired_ok;
        m.panicked += fired_panics;
        let s = pool.stats();
        let seen = Model {
            accepted: s.submitted,
            rejected: s.rejected,
            ok: s.completed,
            panicked: s.panicked,
        };
        prop_assert_eq!(&seen, &m);
        prop_assert_eq!(s.completed + s.panicked + s.rejected, m.accepted + m.rejected);
        prop_assert_eq!(ran.load(Ordering::Relaxed), m.accepted);
        prop_assert_eq!((s.cancelled, s.queued), (0, 0));
        prop_assert!(s.peak_threads <= max_threads);
        prop_assert!(s.threads <= max_threads);
    }
}
