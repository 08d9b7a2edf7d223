//! What a worker pool reports.

#![cfg_attr(
    not(all(feature = "tracing", feature = "metrics")),
    allow(unused_variables)
)]

use std::time::Duration;

use super::Name;

#[cfg(feature = "metrics")]
struct Metrics {
    threads: metrics::Gauge,
    started: metrics::Counter,
    exited: metrics::Counter,
    submitted: metrics::Counter,
    rejected: metrics::Counter,
    jobs: [metrics::Counter; 2],
    duration: metrics::Histogram,
}

pub(crate) struct WorkerPoolObs {
    #[cfg(feature = "tracing")]
    name: Name,
    #[cfg(feature = "metrics")]
    m: Metrics,
}

impl WorkerPoolObs {
    pub(crate) fn new(name: Name) -> Self {
        WorkerPoolObs {
            #[cfg(feature = "metrics")]
            m: {
                use super::metric::*;
                Metrics {
                    threads: gauge("weir_worker_pool_threads", &name),
                    started: counter("weir_worker_pool_threads_started_total", &name, &[]),
                    exited: counter("weir_worker_pool_threads_exited_total", &name, &[]),
                    submitted: counter("weir_worker_pool_submitted_total", &name, &[]),
                    rejected: counter("weir_worker_pool_rejected_total", &name, &[]),
                    jobs: counters(
                        "weir_worker_pool_jobs_total",
                        &name,
                        "outcome",
                        ["completed", "panicked"],
                    ),
                    duration: histogram("weir_worker_pool_job_duration_seconds", &name),
                }
            },
            #[cfg(feature = "tracing")]
            name,
        }
    }

    /// The pool grew: a thread started, `threads` now counted.
    #[inline]
    pub(crate) fn grew(&self, threads: usize) {
        event!(
            "weir::worker_pool", DEBUG,
            name = %self.name, threads,
            "worker pool grew"
        );
        #[cfg(feature = "metrics")]
        {
            self.m.started.increment(1);
            self.m.threads.increment(1.0);
        }
    }

    /// The pool shrank: a thread exited (idle past its timeout, or closed).
    #[inline]
    pub(crate) fn shrank(&self) {
        event!("weir::worker_pool", DEBUG, name = %self.name, "worker pool shrank");
        #[cfg(feature = "metrics")]
        {
            self.m.exited.increment(1);
            self.m.threads.decrement(1.0);
        }
    }

    #[inline]
    pub(crate) fn submitted(&self) {
        #[cfg(feature = "metrics")]
        self.m.submitted.increment(1);
    }

    #[inline]
    pub(crate) fn rejected(&self) {
        event!("weir::worker_pool", DEBUG, name = %self.name, "worker pool rejected a job");
        #[cfg(feature = "metrics")]
        self.m.rejected.increment(1);
    }

    /// A job ran for `took`.
    #[inline]
    pub(crate) fn ran(&self, panicked: bool, took: Duration) {
        #[cfg(feature = "metrics")]
        {
            self.m.jobs[usize::from(panicked)].increment(1);
            self.m.duration.record(took.as_secs_f64());
        }
    }

    /// The pool was closed, its queue to be run or, with `cancel`, cancelled.
    #[inline]
    pub(crate) fn closed(&self, cancel: bool) {
        event!(
            "weir::worker_pool", INFO,
            name = %self.name, cancel_queued = cancel,
            "worker pool shutting down"
        );
    }
}

opaque_debug!(WorkerPoolObs);
