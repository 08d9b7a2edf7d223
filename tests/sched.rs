//! Scheduler behaviour on the virtual clock: exact instants, exact orders.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot_shim::Log;
use weir::Runtime;
use weir::test_util::VirtualRuntime;
use weir::{
    Job, Priority, Scheduler, Shutdown,
    sched::{MissedTick, PeriodicError, RejectReason, Status, TaskError},
};

mod parking_lot_shim {
    use std::sync::{Arc, Mutex};

    /// A shared, ordered record of what happened.
    #[derive(Clone, Default)]
    pub struct Log<T>(Arc<Mutex<Vec<T>>>);

    impl<T: Clone> Log<T> {
        pub fn push(&self, v: T) {
            self.0.lock().unwrap().push(v);
        }
        pub fn get(&self) -> Vec<T> {
            self.0.lock().unwrap().clone()
        }
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn run<F: Future>(f: impl FnOnce(VirtualRuntime) -> F) -> F::Output {
    let rt = VirtualRuntime::new();
    rt.block_on(f(rt.clone()))
}

#[test]
fn higher_priority_first_then_submission_order() {
    run(|rt| async move {
        let sched = Scheduler::builder()
            .max_concurrent(1)
            .build(rt.clone())
            .unwrap();
        let log = Log::default();
        let blocker = {
            let rt = rt.clone();
            sched
                .submit(Job::new(async move { rt.sleep(secs(1)).await }))
                .unwrap()
        };
        let plan = [
            ("a", Priority::LOW),
            ("b", Priority::NORMAL),
            ("c", Priority::HIGH),
            ("d", Priority::NORMAL),
            ("e", Priority::HIGH),
            ("f", Priority::LOW),
            ("g", Priority::MAX),
        ];
        let handles: Vec<_> = plan
            .iter()
            .map(|&(name, p)| {
                let log = log.clone();
                sched
                    .submit(Job::new(async move { log.push(name) }).priority(p))
                    .unwrap()
            })
            .collect();
        let stats = sched.stats();
        assert_eq!(stats.running, 1);
        assert_eq!(
            stats.pending_by_priority,
            vec![
                (Priority::MAX, 1),
                (Priority::HIGH, 2),
                (Priority::NORMAL, 2),
                (Priority::LOW, 2)
            ]
        );
        blocker.await.unwrap();
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(log.get(), ["g", "c", "e", "b", "d", "a", "f"]);
    });
}

#[test]
fn free_slot_and_empty_queue_start_at_once_in_any_priority() {
    run(|rt| async move {
        let sched = Scheduler::builder()
            .max_concurrent(2)
            .build(rt.clone())
            .unwrap();
        let a = sched
            .submit(Job::new(async {}).priority(Priority::MIN))
            .unwrap();
        assert_eq!(a.status(), Status::Running);
        a.await.unwrap();
        assert_eq!(sched.stats().queue_wait.count, 1);
        assert_eq!(sched.stats().queue_wait.p99, Duration::ZERO);
    });
}

#[test]
fn delay_and_start_at_start_at_the_exact_instant() {
    run(|rt| async move {
        let sched = Scheduler::builder().build(rt.clone()).unwrap();
        let started = |rt: VirtualRuntime| async move { rt.elapsed() };
        let late = sched
            .submit(Job::new(started(rt.clone())).delay(ms(1500)))
            .unwrap();
        let early = sched
            .submit(Job::new(started(rt.clone())).delay(ms(500)))
            .unwrap();
        let at = sched
            .submit(Job::new(started(rt.clone())).start_at(rt.now() + ms(700)))
            .unwrap();
        assert_eq!(early.status(), Status::Delayed);
        assert_eq!(sched.stats().delayed, 3);
        assert_eq!(early.await.unwrap(), ms(500));
        assert_eq!(at.await.unwrap(), ms(700));
        assert_eq!(late.await.unwrap(), ms(1500));
        assert_eq!(rt.elapsed(), ms(1500));
        assert_eq!(sched.stats().delayed, 0);
        // A delayed job became ready exactly at its time: it waited zero.
        assert_eq!(sched.stats().queue_wait.p99, Duration::ZERO);
    });
}

#[test]
fn a_past_start_instant_means_now() {
    run(|rt| async move {
        rt.sleep(secs(1)).await;
        let sched = Scheduler::builder().build(rt.clone()).unwrap();
        let h = sched
            .submit(Job::new(async {}).start_at(rt.now() - ms(10)))
            .unwrap();
        assert_eq!(h.status(), Status::Running);
        h.await.unwrap();
    });
}

#[test]
fn deadline_expires_the_job_at_the_exact_instant() {
    run(|rt| async move {
        let sched = Scheduler::builder()
            .max_concurrent(1)
            .build(rt.clone())
            .unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        let t0 = rt.now();
        let blocker = {
            let rt = rt.clone();
            sched
                .submit(Job::new(async move { rt.sleep(secs(2)).await }))
                .unwrap()
        };
        let doomed = {
            let ran = ran.clone();
            sched
                .submit(
                    Job::new(async move { ran.store(true, Ordering::SeqCst) })
                        .deadline(t0 + secs(1)),
                )
                .unwrap()
        };
        let in_time = {
            let rt = rt.clone();
            sched
                .submit(Job::new(async move { rt.elapsed() }).deadline(t0 + secs(3)))
                .unwrap()
        };
        assert!(matches!(doomed.await, Err(TaskError::Expired)));
        assert_eq!(rt.elapsed(), secs(1), "expired at the deadline, not later");
        assert_eq!(sched.stats().expired, 1);
        assert_eq!(sched.stats().pending(), 1);
        blocker.await.unwrap();
        assert_eq!(in_time.await.unwrap(), secs(2));
        assert!(!ran.load(Ordering::SeqCst));
    });
}

#[test]
fn a_job_reaching_its_slot_at_its_deadline_expires() {
    run(|rt| async move {
        let sched = Scheduler::builder()
            .max_concurrent(1)
            .build(rt.clone())
            .unwrap();
        let t0 = rt.now();
        let blocker = {
            let rt = rt.clone();
            sched
                .submit(Job::new(async move { rt.sleep(secs(1)).await }))
                .unwrap()
        };
        let h = sched
            .submit(Job::new(async {}).deadline(t0 + secs(1)))
            .unwrap();
        blocker.await.unwrap();
        assert!(matches!(h.await, Err(TaskError::Expired)));
        assert_eq!(rt.elapsed(), secs(1));
        // A deadline already passed at submission expires at once.
        let h = sched.submit(Job::new(async {}).deadline(rt.now())).unwrap();
        assert_eq!(h.status(), Status::Expired);
        assert_eq!(sched.stats().expired, 2);
        assert_eq!(sched.stats().pending(), 0);
    });
}

#[test]
fn delayed_job_with_deadline_before_its_start_expires() {
    run(|rt| async move {
        let sched = Scheduler::builder().build(rt.clone()).unwrap();
        let h = sched
            .submit(
                Job::new(async {})
                    .delay(secs(5))
                    .deadline(rt.now() + secs(2)),
            )
            .unwrap();
        assert!(matches!(h.await, Err(TaskError::Expired)));
        assert_eq!(rt.elapsed(), secs(2));
        let s = sched.stats();
        assert_eq!((s.delayed, s.pending(), s.expired), (0, 0, 1));
    });
}

#[test]
fn a_panic_is_reported_and_the_scheduler_keeps_going() {
    run(|rt| async move {
        let sched = Scheduler::builder()
            .max_concurrent(1)
            .build(rt.clone())
            .unwrap();
        let bad = sched
            .submit(Job::new(async { panic!("job exploded") }))
            .unwrap();
        let good = sched.submit(Job::new(async { 7 })).unwrap();
        let err = bad.await.unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.panic_message(), Some("job exploded"));
        assert_eq!(good.await.unwrap(), 7);
        let s = sched.stats();
        assert_eq!((s.failed, s.completed, s.running), (1, 1, 0));
    });
}

#[test]
fn cancelling_a_waiting_job_means_it_never_runs() {
    run(|rt| async move {
        let sched = Scheduler::builder()
            .max_concurrent(1)
            .build(rt.clone())
            .unwrap();
        let blocker = {
            let rt = rt.clone();
            sched
                .submit(Job::new(async move { rt.sleep(secs(1)).await }))
                .unwrap()
        };
        let ran = Arc::new(AtomicBool::new(false));
        let h = {
            let ran = ran.clone();
            sched
                .submit(Job::new(async move { ran.store(true, Ordering::SeqCst) }))
                .unwrap()
        };
        assert_eq!(h.status(), Status::Pending);
        h.cancel();
        assert_eq!(h.status(), Status::Cancelled);
        assert_eq!(sched.stats().pending(), 0);
        assert!(matches!(h.await, Err(TaskError::Cancelled)));
        blocker.await.unwrap();
        sched.shutdown(Shutdown::Graceful).await;
        assert!(!ran.load(Ordering::SeqCst));
        assert_eq!(sched.stats().cancelled, 1);
    });
}

struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn cancelling_a_running_job_drops_its_future() {
    run(|rt| async move {
        let sched = Scheduler::builder()
            .max_concurrent(1)
            .build(rt.clone())
            .unwrap();
        let dropped = Arc::new(AtomicBool::new(false));
        let h = {
            let (rt, flag) = (rt.clone(), DropFlag(dropped.clone()));
            sched
                .submit(Job::new(async move {
                    let _flag = flag;
                    rt.sleep(secs(100)).await;
                }))
                .unwrap()
        };
        rt.sleep(secs(1)).await;
        assert_eq!(h.status(), Status::Running);
        h.cancel();
        assert!(matches!(h.await, Err(TaskError::Cancelled)));
        assert!(dropped.load(Ordering::SeqCst));
        assert_eq!(rt.elapsed(), secs(1));
        let s = sched.stats();
        assert_eq!((s.running, s.cancelled), (0, 1));
        // The slot is free again.
        assert_eq!(
            sched.submit(Job::new(async { 1 })).unwrap().await.unwrap(),
            1
        );
    });
}

#[test]
fn dropping_a_handle_does_not_cancel_unless_asked() {
    run(|rt| async move {
        let sched = Scheduler::builder().build(rt.clone()).unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let job = |ran: Arc<AtomicUsize>| async move {
            ran.fetch_add(1, Ordering::SeqCst);
        };
        drop(
            sched
                .submit(Job::new(job(ran.clone())).delay(secs(1)))
                .unwrap(),
        );
        drop(
            sched
                .submit(Job::new(job(ran.clone())).delay(secs(1)))
                .unwrap()
                .cancel_on_drop(),
        );
        sched.shutdown(Shutdown::Graceful).await;
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        let s = sched.stats();
        assert_eq!((s.completed, s.cancelled), (1, 1));
    });
}

#[test]
fn a_full_queue_rejects_and_hands_the_job_back() {
    run(|rt| async move {
        let sched = Scheduler::builder()
            .max_concurrent(1)
            .queue_capacity(2)
            .build(rt.clone())
            .unwrap();
        let _a = sched.submit(Job::new(async { 0 })).unwrap();
        let _b = sched.submit(Job::new(async { 0 })).unwrap();
        let _c = sched.submit(Job::new(async { 0 }).delay(secs(1))).unwrap();
        let refused = sched
            .submit(
                Job::new(async { 42 })
                    .name("extra")
                    .priority(Priority::HIGH),
            )
            .unwrap_err();
        assert_eq!(refused.reason(), RejectReason::QueueFull);
        let job = refused.into_inner();
        assert_eq!(job.get_name(), Some("extra"));
        assert_eq!(job.get_priority(), Priority::HIGH);
        assert_eq!(job.into_inner().await, 42);
        assert_eq!(sched.stats().rejected, 1);
    });
}

#[test]
fn queue_wait_statistics_on_the_virtual_clock() {
    run(|rt| async move {
        let sched = Scheduler::builder()
            .max_concurrent(1)
            .build(rt.clone())
            .unwrap();
        let sleeper = |rt: VirtualRuntime| async move { rt.sleep(secs(1)).await };
        let hs: Vec<_> = (0..3)
            .map(|_| sched.submit(Job::new(sleeper(rt.clone()))).unwrap())
            .collect();
        for h in hs {
            h.await.unwrap();
        }
        // Waits: 0 s, 1 s, 2 s.
        let w = sched.stats().queue_wait;
        assert_eq!(w.count, 3);
        assert_eq!(w.mean, secs(1));
        assert!(w.p50 <= secs(1) && w.p50 >= ms(875), "{w:?}");
        assert!(w.p99 <= secs(2) && w.p99 >= ms(1750), "{w:?}");
    });
}

#[test]
fn periodic_skip_keeps_phase_after_an_overrun() {
    run(|rt| async move {
        let sched = Scheduler::builder().build(rt.clone()).unwrap();
        let log = Log::default();
        let p = {
            let (rt, log) = (rt.clone(), log.clone());
            let mut n = 0;
            sched
                .submit_periodic(secs(10), MissedTick::Skip, move || {
                    n += 1;
                    let (rt, log, first) = (rt.clone(), log.clone(), n == 1);
                    async move {
                        log.push(rt.elapsed());
                        if first {
                            rt.sleep(secs(25)).await;
                        }
                    }
                })
                .unwrap()
        };
        rt.sleep(secs(65)).await;
        assert_eq!(log.get(), [secs(10), secs(40), secs(50), secs(60)]);
        assert_eq!(p.runs(), 4);
        p.cancel();
    });
}

#[test]
fn periodic_catch_up_runs_every_missed_tick() {
    run(|rt| async move {
        let sched = Scheduler::builder().build(rt.clone()).unwrap();
        let log = Log::default();
        let p = {
            let (rt, log) = (rt.clone(), log.clone());
            let mut n = 0;
            sched
                .submit_periodic(secs(10), MissedTick::CatchUp, move || {
                    n += 1;
                    let (rt, log, first) = (rt.clone(), log.clone(), n == 1);
                    async move {
                        log.push(rt.elapsed());
                        if first {
                            rt.sleep(secs(25)).await;
                        }
                    }
                })
                .unwrap()
        };
        rt.sleep(secs(55)).await;
        assert_eq!(
            log.get(),
            [secs(10), secs(35), secs(35), secs(40), secs(50)]
        );
        p.cancel();
        assert!(p.is_stopped());
        rt.sleep(secs(100)).await;
        assert_eq!(p.runs(), 5, "no run after cancel");
    });
}

#[test]
fn periodic_survives_panics_and_errors() {
    run(|rt| async move {
        let sched = Scheduler::builder().build(rt.clone()).unwrap();
        let mut n = 0u32;
        let p = sched
            .submit_periodic(secs(1), MissedTick::Skip, move || {
                n += 1;
                let k = n;
                if k == 4 {
                    panic!("factory exploded");
                }
                async move {
                    match k {
                        1 => panic!("run exploded"),
                        2 => Err("transient"),
                        _ => Ok(()),
                    }
                }
            })
            .unwrap();
        rt.sleep(ms(6500)).await;
        assert_eq!((p.runs(), p.failures()), (6, 3));
        assert_eq!(
            sched.stats().failed,
            1,
            "only the run panic is a failed job"
        );
        p.cancel();
    });
}

#[test]
fn graceful_shutdown_runs_every_accepted_job() {
    run(|rt| async move {
        let sched = Scheduler::builder()
            .max_concurrent(2)
            .build(rt.clone())
            .unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        for i in 0..10u64 {
            let (rt, ran) = (rt.clone(), ran.clone());
            drop(
                sched
                    .submit(
                        Job::new(async move {
                            rt.sleep(ms(100)).await;
                            ran.fetch_add(1, Ordering::SeqCst);
                        })
                        .delay(ms(i * 10)),
                    )
                    .unwrap(),
            );
        }
        let periodic = sched
            .submit_periodic(secs(1), MissedTick::Skip, || async {})
            .unwrap();
        let report = sched.shutdown(Shutdown::Graceful).await;
        assert!(report.aborted().is_empty());
        assert_eq!(ran.load(Ordering::SeqCst), 10);
        assert!(periodic.is_stopped());
        assert_eq!(periodic.runs(), 0);
        let refused = sched.submit(Job::new(async {})).unwrap_err();
        assert_eq!(refused.reason(), RejectReason::Shutdown);
        assert!(matches!(
            sched.submit_periodic(secs(1), MissedTick::Skip, || async {}),
            Err(PeriodicError::Shutdown)
        ));
        let s = sched.stats();
        assert_eq!((s.accepted, s.completed, s.rejected), (10, 10, 1));
        // Two at a time, 100 ms each: pairs start at 0/10, 100/110, ...,
        // 400/410 ms, so the last ends at 510 ms.
        assert_eq!(rt.elapsed(), ms(510));
    });
}

#[test]
fn abort_shutdown_stops_everything_and_says_what() {
    run(|rt| async move {
        let sched = Scheduler::builder()
            .max_concurrent(1)
            .build(rt.clone())
            .unwrap();
        let dropped = Arc::new(AtomicBool::new(false));
        let running = {
            let (rt, flag) = (rt.clone(), DropFlag(dropped.clone()));
            sched
                .submit(
                    Job::new(async move {
                        let _flag = flag;
                        rt.sleep(secs(100)).await;
                    })
                    .name("long"),
                )
                .unwrap()
        };
        let waiting = sched.submit(Job::new(async {}).name("queued")).unwrap();
        let delayed = sched.submit(Job::new(async {}).delay(secs(5))).unwrap();
        rt.sleep(secs(1)).await;
        let report = sched.shutdown(Shutdown::Abort).await;
        let got: Vec<_> = report
            .aborted()
            .iter()
            .map(|a| (a.id(), a.name().map(str::to_owned), a.was_running()))
            .collect();
        assert_eq!(
            got,
            vec![
                (running.id(), Some("long".to_owned()), true),
                (waiting.id(), Some("queued".to_owned()), false),
                (delayed.id(), None, false),
            ]
        );
        assert!(dropped.load(Ordering::SeqCst));
        assert_eq!(rt.elapsed(), secs(1), "abort does not wait for anything");
        for h in [running, waiting, delayed] {
            assert!(matches!(h.await, Err(TaskError::Shutdown)));
        }
        let s = sched.stats();
        assert_eq!(
            (s.accepted, s.cancelled, s.running, s.pending()),
            (3, 3, 0, 0)
        );
    });
}

#[test]
fn status_follows_the_job() {
    run(|rt| async move {
        let sched = Scheduler::builder().build(rt.clone()).unwrap();
        let h = {
            let rt = rt.clone();
            sched
                .submit(Job::new(async move { rt.sleep(secs(1)).await }).delay(secs(1)))
                .unwrap()
        };
        assert_eq!(h.status(), Status::Delayed);
        rt.sleep(ms(1500)).await;
        assert_eq!(h.status(), Status::Running);
        rt.sleep(secs(1)).await;
        assert_eq!(h.status(), Status::Completed);
        h.await.unwrap();
    });
}

#[test]
fn bad_configuration_names_the_field() {
    let rt = VirtualRuntime::new();
    let e = Scheduler::builder()
        .max_concurrent(0)
        .build(rt.clone())
        .unwrap_err();
    assert_eq!((e.component(), e.field()), ("Scheduler", "max_concurrent"));
    assert_eq!(e.rule(), &weir::Rule::Zero);
    let e = Scheduler::builder()
        .queue_capacity(0)
        .build(rt.clone())
        .unwrap_err();
    assert_eq!(e.field(), "queue_capacity");
    let sched = Scheduler::builder().build(rt).unwrap();
    match sched.submit_periodic(Duration::ZERO, MissedTick::CatchUp, || async {}) {
        Err(PeriodicError::Config(e)) => {
            assert_eq!(e.field(), "interval");
            assert_eq!(e.rule(), &weir::Rule::Zero);
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn public_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Scheduler<VirtualRuntime>>();
    send_sync::<weir::sched::TaskHandle<u8>>();
    send_sync::<weir::sched::PeriodicHandle>();
    send_sync::<weir::sched::SchedStats>();
    // A panic payload is `Send` only, as in `std::thread::Result`.
    fn send<T: Send>() {}
    send::<weir::sched::TaskError>();
    send_sync::<weir::sched::Rejected<Job<std::future::Ready<u8>>>>();
}
