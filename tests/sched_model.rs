//! The scheduler against a sequential model: random submissions (with
//! priorities, delays and a bounded queue) and cancellations, then the start
//! order and the counters must be exactly what a sorted list predicts.

use std::cmp::Reverse;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use weir::Runtime;
use weir::test_util::VirtualRuntime;
use weir::{Job, Priority, Scheduler, Shutdown};

#[derive(Clone, Debug)]
enum Op {
    Submit { level: u8, delay_s: Option<u8> },
    Cancel(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..4, proptest::option::of(0u8..5))
            .prop_map(|(level, delay_s)| Op::Submit { level, delay_s }),
        1 => (0usize..64).prop_map(Op::Cancel),
    ]
}

proptest! {
    #[test]
    fn start_order_and_counts_match_the_model(
        capacity in 1usize..10,
        ops in proptest::collection::vec(op(), 0..60),
    ) {
        let rt = VirtualRuntime::new();
        let (order, stats) = rt.block_on({
            let rt = rt.clone();
            let ops = ops.clone();
            async move {
                let sched = Scheduler::builder()
                    .max_concurrent(1)
                    .queue_capacity(capacity)
                    .build(rt.clone())
                    .unwrap();
                // Holds the only slot until every delay has passed, so that
                // all surviving jobs are ready when it ends.
                let blocker = {
                    let rt = rt.clone();
                    sched.submit(Job::new(async move { rt.sleep(Duration::from_secs(100)).await })).unwrap()
                };
                let order = Arc::new(Mutex::new(Vec::new()));
                let mut handles = Vec::new();
                for (i, op) in ops.into_iter().enumerate() {
                    match op {
                        Op::Submit { level, delay_s } => {
                            let order = order.clone();
                            let mut job = Job::new(async move { order.lock().unwrap().push(i) })
                                .priority(Priority::new(level));
                            if let Some(s) = delay_s {
                                job = job.delay(Duration::from_secs(u64::from(s)));
                            }
                            if let Ok(h) = sched.submit(job) {
                                handles.push(h);
                            }
                        }
                        Op::Cancel(k) => {
                            if let Some(h) = handles.get(k) {
                                h.cancel();
                            }
                        }
                    }
                }
                sched.shutdown(Shutdown::Graceful).await;
                blocker.await.unwrap();
                assert_eq!(rt.elapsed(), Duration::from_secs(100));
                let order = order.lock().unwrap().clone();
                (order, sched.stats())
            }
        });

        // The model: a list of live submissions, bounded by `capacity`.
        let mut accepted: Vec<(usize, u8, bool)> = Vec::new(); // (op index, level, cancelled)
        let (mut rejected, mut cancelled) = (0u64, 0u64);
        for (i, op) in ops.iter().enumerate() {
            match *op {
                Op::Submit { level, .. } => {
                    let live = accepted.iter().filter(|a| !a.2).count();
                    if live < capacity {
                        accepted.push((i, level, false));
                    } else {
                        rejected += 1;
                    }
                }
                Op::Cancel(k) => {
                    if let Some(a) = accepted.get_mut(k) {
                        if !a.2 {
                            a.2 = true;
                            cancelled += 1;
                        }
                    }
                }
            }
        }
        let mut expected: Vec<(usize, u8)> =
            accepted.iter().filter(|a| !a.2).map(|a| (a.0, a.1)).collect();
        expected.sort_by_key(|&(i, level)| (Reverse(level), i));
        let expected: Vec<usize> = expected.into_iter().map(|(i, _)| i).collect();

        prop_assert_eq!(order, expected.clone());
        prop_assert_eq!(stats.accepted, accepted.len() as u64 + 1);
        prop_assert_eq!(stats.rejected, rejected);
        prop_assert_eq!(stats.cancelled, cancelled);
        prop_assert_eq!(stats.completed, expected.len() as u64 + 1);
        prop_assert_eq!((stats.running, stats.pending()), (0, 0));
        let _ = rt.now();
    }
}
