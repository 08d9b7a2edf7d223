//! The metrics of every component, rendered as Prometheus text by
//! `metrics-exporter-prometheus` and checked against the component's own
//! stats. Each test installs its own recorder for the components it builds
//! (`metrics::with_local_recorder`), so tests never see each other's series.

#![cfg(all(feature = "metrics", feature = "test-util"))]

use std::time::Duration;
use weir::Quota;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use weir::Runtime;
use weir::test_util::VirtualRuntime;
use weir::{Bulkhead, limit::BulkheadError};
use weir::{CircuitBreaker, Retry, resilience::BreakerError};
use weir::{Error, Policy};
use weir::{Job, Scheduler, Shutdown};

fn recorder() -> (PrometheusRecorder, PrometheusHandle) {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    (recorder, handle)
}

/// The value of the one series of `metric` whose labels include every pair
/// of `labels`; panics when there is none or more than one.
fn scrape(text: &str, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<f64> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (name, rest) = series.split_once('{').unwrap_or((series, "}"));
            if name != metric {
                return None;
            }
            let rest = rest.strip_suffix('}')?;
            let all = labels
                .iter()
                .all(|(k, v)| rest.split(',').any(|p| p == format!("{k}=\"{v}\"")));
            all.then(|| value.parse().expect("a number"))
        })
        .collect();
    assert_eq!(found.len(), 1, "{metric} {labels:?} in:\n{text}");
    found[0]
}

#[test]
fn breaker_metrics_match_its_stats() {
    let (recorder, handle) = recorder();
    let rt = VirtualRuntime::new();
    let breaker = metrics::with_local_recorder(&recorder, || {
        CircuitBreaker::builder()
            .consecutive_failures(2)
            .open_for(Duration::from_secs(30))
            .name("search")
            .build(rt.clone())
            .unwrap()
    });
    rt.block_on(async {
        assert!(breaker.call(|| async { Ok::<_, ()>(()) }).await.is_ok());
        for _ in 0..2 {
            let _ = breaker.call(|| async { Err::<(), _>(()) }).await;
        }
        for _ in 0..3 {
            let r = breaker.call(|| async { Ok::<_, ()>(()) }).await;
            assert!(matches!(r, Err(BreakerError::Open(_))));
        }
    });
    let text = handle.render();
    let s = breaker.stats();
    let n = [("name", "search")];
    assert_eq!(s.rejected, 3);
    assert_eq!(
        scrape(&text, "weir_breaker_rejected_total", &n),
        s.rejected as f64
    );
    let opened = [("name", "search"), ("to", "open")];
    assert_eq!(s.opened, 1);
    assert_eq!(
        scrape(&text, "weir_breaker_transitions_total", &opened),
        s.opened as f64
    );
    assert_eq!(scrape(&text, "weir_breaker_state", &n), 1.0, "1 is open");
    let ok = [("name", "search"), ("outcome", "success")];
    let failed = [("name", "search"), ("outcome", "failure")];
    assert_eq!(scrape(&text, "weir_breaker_calls_total", &ok), 1.0);
    assert_eq!(scrape(&text, "weir_breaker_calls_total", &failed), 2.0);
    assert!(
        text.contains("# HELP weir_breaker_rejected_total Calls the breaker refused."),
        "{text}"
    );
}

#[test]
fn bulkhead_metrics_match_its_stats() {
    let (recorder, handle) = recorder();
    let rt = VirtualRuntime::new();
    let bulkhead = metrics::with_local_recorder(&recorder, || {
        Bulkhead::builder()
            .max_concurrent(2)
            .name("db")
            .build(rt.clone())
            .unwrap()
    });
    let a = bulkhead.try_acquire().unwrap();
    let held = bulkhead.try_acquire().unwrap();
    for _ in 0..4 {
        assert_eq!(
            bulkhead.try_acquire().unwrap_err(),
            BulkheadError::QueueFull {
                max_concurrent: 2,
                queue_capacity: weir::limit::BulkheadBuilder::DEFAULT_MAX_QUEUED,
            }
        );
    }
    drop(a);
    bulkhead.set_max_concurrent(3).unwrap();
    let text = handle.render();
    let s = bulkhead.stats();
    let n = [("name", "db")];
    assert_eq!((s.admitted, s.in_flight, s.rejected_queue_full), (2, 1, 4));
    assert_eq!(
        scrape(&text, "weir_bulkhead_admitted_total", &n),
        s.admitted as f64
    );
    assert_eq!(
        scrape(&text, "weir_bulkhead_in_flight", &n),
        f64::from(s.in_flight)
    );
    let full = [("name", "db"), ("reason", "queue_full")];
    assert_eq!(
        scrape(&text, "weir_bulkhead_rejected_total", &full),
        s.rejected_queue_full as f64
    );
    assert_eq!(
        scrape(&text, "weir_bulkhead_max_concurrent", &n),
        f64::from(s.max_concurrent)
    );
    drop(held);
}

#[test]
fn policy_retry_and_timeout_metrics_count_each_decision() {
    let (recorder, handle) = recorder();
    let rt = VirtualRuntime::new();
    let policy = metrics::with_local_recorder(&recorder, || {
        let retry = Retry::constant(Duration::from_millis(100))
            .max_attempts(3)
            .name("tools")
            .build()
            .unwrap();
        Policy::new(rt.clone())
            .name("tools")
            .retry(retry)
            .timeout(Duration::from_secs(1))
    });
    let calls = std::sync::atomic::AtomicU32::new(0);
    let r2 = rt.clone();
    let out = rt.block_on(policy.call(|| {
        let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let rt = r2.clone();
        async move {
            if n == 0 {
                rt.sleep(Duration::from_secs(5)).await; // times out
            }
            if n < 2 { Err("flaky") } else { Ok(n) }
        }
    }));
    assert_eq!(out, Ok(2));
    let out: Result<(), Error<&str>> = rt.block_on(policy.call(|| async { Err("down") }));
    assert_eq!(out, Err(Error::Inner("down")));
    let text = handle.render();
    let n = [("name", "tools")];
    // Two retries in the first call, two in the second, which then gives up.
    assert_eq!(scrape(&text, "weir_retry_retries_total", &n), 4.0);
    let attempts = [("name", "tools"), ("reason", "attempts")];
    assert_eq!(scrape(&text, "weir_retry_gave_up_total", &attempts), 1.0);
    assert_eq!(scrape(&text, "weir_retry_delay_seconds_count", &n), 4.0);
    assert_eq!(scrape(&text, "weir_timeout_timeouts_total", &n), 1.0);
    let ok = [("name", "tools"), ("outcome", "ok")];
    let err = [("name", "tools"), ("outcome", "error")];
    assert_eq!(scrape(&text, "weir_policy_calls_total", &ok), 1.0);
    assert_eq!(scrape(&text, "weir_policy_calls_total", &err), 1.0);
}

#[test]
fn scheduler_counts_aborted_jobs() {
    let (recorder, handle) = recorder();
    let rt = VirtualRuntime::new();
    let sched = metrics::with_local_recorder(&recorder, || {
        Scheduler::builder().name("jobs").build(rt.clone()).unwrap()
    });
    let handles: Vec<_> = (0..3)
        .map(|_| {
            sched
                .submit(Job::new(async {}).delay(Duration::from_secs(60)))
                .unwrap()
        })
        .collect();
    let report = rt.block_on(sched.shutdown(Shutdown::Abort));
    assert_eq!(report.aborted().len(), 3);
    drop(handles);
    let text = handle.render();
    assert_eq!(
        scrape(&text, "weir_scheduler_aborted_total", &[("name", "jobs")]),
        3.0
    );
}

#[test]
fn a_component_built_without_a_name_is_labelled_default() {
    let (recorder, handle) = recorder();
    let rt = VirtualRuntime::new();
    let breaker = metrics::with_local_recorder(&recorder, || {
        CircuitBreaker::builder().build(rt.clone()).unwrap()
    });
    breaker.force_open();
    assert!(breaker.try_acquire().is_err());
    let text = handle.render();
    assert_eq!(
        scrape(&text, "weir_breaker_rejected_total", &[("name", "default")]),
        1.0
    );
}

/// A pool of numbered connections that fail every recycle check (so each
/// reuse discards one and creates another); a create fails when
/// `fail_next_create` is set.
struct Conns {
    next: std::sync::atomic::AtomicU32,
    fail_next_create: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl weir::pool::Manager for Conns {
    type Resource = u32;
    type Error = &'static str;

    async fn create(&self) -> Result<u32, &'static str> {
        use std::sync::atomic::Ordering::SeqCst;
        if self.fail_next_create.swap(false, SeqCst) {
            return Err("refused");
        }
        Ok(self.next.fetch_add(1, SeqCst))
    }

    async fn recycle(&self, _: &mut u32) -> Result<(), &'static str> {
        Err("broken")
    }
}

#[test]
fn resource_pool_metrics_match_its_stats() {
    use weir::ResourcePool;
    let (recorder, handle) = recorder();
    let rt = VirtualRuntime::new();
    let fail = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pool = metrics::with_local_recorder(&recorder, || {
        let conns = Conns {
            next: Default::default(),
            fail_next_create: fail.clone(),
        };
        ResourcePool::builder(conns)
            .max_size(2)
            .acquire_timeout(Duration::from_secs(1))
            .name("db")
            .build(rt.clone())
            .unwrap()
    });
    rt.block_on(async {
        let a = pool.get().await.unwrap(); // creates 0
        let b = pool.get().await.unwrap(); // creates 1
        assert!(pool.get().await.is_err(), "full: times out");
        drop((a, b));
        // Both idle ones fail their check and are discarded; the create
        // that follows is refused once.
        fail.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = pool.get().await;
        let _ = pool.get().await;
    });
    let text = handle.render();
    let s = pool.stats();
    let n = [("name", "db")];
    let expected = (s.created, s.discarded, s.timeouts, s.create_errors);
    assert_eq!(expected, (3, 2, 1, 1), "{s:?}");
    assert_eq!(
        scrape(&text, "weir_resource_pool_created_total", &n),
        s.created as f64
    );
    assert_eq!(
        scrape(&text, "weir_resource_pool_discarded_total", &n),
        s.discarded as f64
    );
    assert_eq!(
        scrape(&text, "weir_resource_pool_timeouts_total", &n),
        s.timeouts as f64
    );
    assert_eq!(
        scrape(&text, "weir_resource_pool_create_errors_total", &n),
        s.create_errors as f64
    );
    assert_eq!(scrape(&text, "weir_resource_pool_size", &n), s.size as f64);
}

#[test]
fn worker_pool_metrics_match_its_stats() {
    use weir::WorkerPool;
    let (recorder, handle) = recorder();
    let pool = metrics::with_local_recorder(&recorder, || {
        WorkerPool::builder()
            .min_threads(1)
            .max_threads(1)
            .name("cpu")
            .build()
            .unwrap()
    });
    for i in 0..5u32 {
        assert_eq!(
            futures_lite::future::block_on(pool.run(move || i * 2)).unwrap(),
            i * 2
        );
    }
    pool.shutdown();
    let text = handle.render();
    let s = pool.stats();
    let n = [("name", "cpu")];
    let done = [("name", "cpu"), ("outcome", "completed")];
    assert_eq!(
        scrape(&text, "weir_worker_pool_submitted_total", &n),
        s.submitted as f64
    );
    assert_eq!(s.completed, 5);
    assert_eq!(
        scrape(&text, "weir_worker_pool_jobs_total", &done),
        s.completed as f64
    );
    assert_eq!(
        scrape(&text, "weir_worker_pool_job_duration_seconds_count", &n),
        5.0
    );
    assert_eq!(
        scrape(&text, "weir_worker_pool_threads_started_total", &n),
        1.0
    );
    assert_eq!(
        scrape(&text, "weir_worker_pool_threads_exited_total", &n),
        1.0
    );
    assert_eq!(scrape(&text, "weir_worker_pool_threads", &n), 0.0);
}

#[test]
fn semaphore_counts_refusals_and_changes_by_hand() {
    use weir::Semaphore;
    let (recorder, handle) = recorder();
    let sem = metrics::with_local_recorder(&recorder, || {
        Semaphore::builder(1).name("uploads").build().unwrap()
    });
    let held = sem.try_acquire().unwrap();
    assert!(sem.try_acquire().is_err());
    assert!(sem.try_acquire().is_err());
    sem.add_permits(3).unwrap();
    assert_eq!(sem.forget_permits(2), 2);
    drop(held);
    let text = handle.render();
    let n = [("name", "uploads")];
    assert_eq!(scrape(&text, "weir_semaphore_refused_total", &n), 2.0);
    assert_eq!(scrape(&text, "weir_semaphore_permits_added_total", &n), 3.0);
    assert_eq!(
        scrape(&text, "weir_semaphore_permits_forgotten_total", &n),
        2.0
    );
    assert_eq!(sem.available_permits(), 2, "1 + 3 - 2");
}

#[test]
fn adaptive_limiter_metrics_match_its_stats() {
    use weir::{AdaptiveLimiter, limit::Aimd};
    let (recorder, handle) = recorder();
    let rt = VirtualRuntime::new();
    let limiter = metrics::with_local_recorder(&recorder, || {
        let b = Bulkhead::builder()
            .max_concurrent(100)
            .name("api")
            .build(rt.clone())
            .unwrap();
        AdaptiveLimiter::new(b, Aimd::builder().initial(10).build().unwrap()).name("api")
    });
    rt.block_on(async {
        for i in 0..6 {
            let permit = limiter.acquire().await.unwrap();
            rt.sleep(Duration::from_millis(20)).await;
            match i % 3 {
                0 => permit.success(),
                1 => permit.dropped(),
                _ => permit.ignore(),
            }
        }
    });
    let text = handle.render();
    let s = limiter.stats();
    let n = [("name", "api")];
    assert_eq!((s.samples, s.dropped, s.ignored), (4, 2, 2));
    assert_eq!(
        scrape(&text, "weir_adaptive_samples_total", &n),
        s.samples as f64
    );
    assert_eq!(
        scrape(&text, "weir_adaptive_dropped_total", &n),
        s.dropped as f64
    );
    assert_eq!(
        scrape(&text, "weir_adaptive_ignored_total", &n),
        s.ignored as f64
    );
    assert_eq!(
        scrape(&text, "weir_adaptive_latency_seconds_count", &n),
        4.0
    );
    // The algorithm moved the bulkhead's limit; its gauge follows.
    assert_eq!(
        scrape(&text, "weir_bulkhead_max_concurrent", &n),
        f64::from(limiter.limit())
    );
    assert_ne!(
        limiter.limit(),
        100,
        "the initial limit was applied at least"
    );
}

#[test]
fn rate_limiter_metrics_count_admissions_refusals_and_waits() {
    use weir::RateLimiter;
    let (recorder, handle) = recorder();
    let rt = VirtualRuntime::new();
    let rate = metrics::with_local_recorder(&recorder, || {
        RateLimiter::builder()
            .quota(Quota::new(10, Duration::from_secs(1)).burst(2))
            .name("api")
            .build(rt.clone())
            .unwrap()
    });
    assert!(rate.try_acquire().is_ok());
    assert!(rate.try_acquire().is_ok());
    let refused = rate.try_acquire().unwrap_err();
    assert_eq!(refused.retry_after, Duration::from_millis(100));
    rt.block_on(async {
        rate.acquire().await; // waits 100 ms
    });
    assert_eq!(rt.elapsed(), Duration::from_millis(100));
    let text = handle.render();
    let n = [("name", "api")];
    assert_eq!(scrape(&text, "weir_rate_admitted_total", &n), 3.0);
    assert_eq!(scrape(&text, "weir_rate_limited_total", &n), 1.0);
    assert_eq!(scrape(&text, "weir_rate_delayed_total", &n), 1.0);
    assert_eq!(scrape(&text, "weir_rate_delay_seconds_sum", &n), 0.1);
}

#[test]
fn keyed_limiter_metrics_count_per_limiter_not_per_key() {
    use weir::{KeyedRateLimiter, limit::KeyedError};
    let (recorder, handle) = recorder();
    let rt = VirtualRuntime::new();
    let keyed = metrics::with_local_recorder(&recorder, || {
        KeyedRateLimiter::builder()
            .quota(Quota::new(1, Duration::from_secs(1)))
            .max_keys(2)
            .name("per-user")
            .build(rt.clone())
            .unwrap()
    });
    assert!(keyed.try_acquire(&"alice").is_ok());
    assert!(keyed.try_acquire(&"bob").is_ok());
    assert!(matches!(
        keyed.try_acquire(&"alice"),
        Err(KeyedError::RateLimited(_))
    ));
    assert!(matches!(
        keyed.try_acquire(&"carol"),
        Err(KeyedError::KeyLimitReached { .. })
    ));
    assert!(
        keyed.try_acquire_many(&"bob", 0).is_err(),
        "a probe, not counted"
    );
    let text = handle.render();
    let n = [("name", "per-user")];
    assert_eq!(scrape(&text, "weir_keyed_admitted_total", &n), 2.0);
    assert_eq!(scrape(&text, "weir_keyed_limited_total", &n), 1.0);
    assert_eq!(scrape(&text, "weir_keyed_key_limit_total", &n), 1.0);
}
