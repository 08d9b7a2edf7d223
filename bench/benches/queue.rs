//! Bounded channel throughput: weir beside async-channel, flume, kanal,
//! tokio mpsc and crossbeam-channel, on the same workloads.
//!
//! Every workload moves `MESSAGES` u64 values through a queue of capacity
//! `CAP`. Async workloads run on a two-worker tokio runtime (producers and
//! consumers are spawned tasks, the iteration waits for all); the blocking
//! workload uses one OS thread per side.

use criterion::{Criterion, criterion_group, criterion_main};
use tokio::runtime::Runtime as Tokio;

const MESSAGES: u64 = 100_000;
const CAP: usize = 64;

fn tokio() -> Tokio {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("tokio runtime")
}

/// One producer task sends `MESSAGES` values, the iteration receives them.
macro_rules! spsc_async {
    ($rt:expr, $make:expr, |$tx:ident, $v:ident| $send:expr, |$rx:ident| $recv:expr) => {{
        $rt.block_on(async {
            #[allow(unused_mut)]
            let ($tx, mut $rx) = $make;
            let producer = tokio::spawn(async move {
                for $v in 0..MESSAGES {
                    $send;
                }
            });
            let consumer = tokio::spawn(async move {
                let mut sum = 0u64;
                for _ in 0..MESSAGES {
                    sum += $recv;
                }
                sum
            });
            producer.await.unwrap();
            assert_eq!(consumer.await.unwrap(), MESSAGES * (MESSAGES - 1) / 2);
        })
    }};
}

fn bounded_spsc_async(c: &mut Criterion) {
    let rt = tokio();
    let mut g = c.benchmark_group("bounded_spsc_async");
    g.sample_size(20);
    g.bench_function("weir", |b| {
        b.iter(|| {
            spsc_async!(
                rt,
                weir::queue::bounded::<u64>(CAP).unwrap(),
                |tx, v| tx.send(v).await.unwrap(),
                |rx| rx.recv().await.unwrap()
            )
        })
    });
    g.bench_function("async-channel", |b| {
        b.iter(|| {
            spsc_async!(
                rt,
                async_channel::bounded::<u64>(CAP),
                |tx, v| tx.send(v).await.unwrap(),
                |rx| rx.recv().await.unwrap()
            )
        })
    });
    g.bench_function("flume", |b| {
        b.iter(|| {
            spsc_async!(
                rt,
                flume::bounded::<u64>(CAP),
                |tx, v| tx.send_async(v).await.unwrap(),
                |rx| rx.recv_async().await.unwrap()
            )
        })
    });
    g.bench_function("kanal", |b| {
        b.iter(|| {
            spsc_async!(
                rt,
                kanal::bounded_async::<u64>(CAP),
                |tx, v| tx.send(v).await.unwrap(),
                |rx| rx.recv().await.unwrap()
            )
        })
    });
    g.bench_function("tokio-mpsc", |b| {
        b.iter(|| {
            spsc_async!(
                rt,
                tokio::sync::mpsc::channel::<u64>(CAP),
                |tx, v| tx.send(v).await.unwrap(),
                |rx| rx.recv().await.unwrap()
            )
        })
    });
    g.finish();
}

/// Two producer tasks send `MESSAGES / 2` each; two consumer tasks receive
/// until the queue closes.
macro_rules! mpmc_async {
    ($rt:expr, $make:expr, |$tx:ident, $v:ident| $send:expr, |$rx:ident| $recv:expr) => {{
        $rt.block_on(async {
            let (tx0, rx0) = $make;
            let producers: Vec<_> = (0..2u64)
                .map(|p| {
                    let $tx = tx0.clone();
                    tokio::spawn(async move {
                        for $v in p * MESSAGES / 2..(p + 1) * MESSAGES / 2 {
                            $send;
                        }
                    })
                })
                .collect();
            drop(tx0);
            let consumers: Vec<_> = (0..2)
                .map(|_| {
                    let $rx = rx0.clone();
                    tokio::spawn(async move {
                        let mut sum = 0u64;
                        while let Some(v) = $recv {
                            sum += v;
                        }
                        sum
                    })
                })
                .collect();
            drop(rx0);
            for p in producers {
                p.await.unwrap();
            }
            let mut sum = 0;
            for c in consumers {
                sum += c.await.unwrap();
            }
            assert_eq!(sum, MESSAGES * (MESSAGES - 1) / 2);
        })
    }};
}

fn bounded_mpmc_2x2_async(c: &mut Criterion) {
    let rt = tokio();
    let mut g = c.benchmark_group("bounded_mpmc_2x2_async");
    g.sample_size(20);
    g.bench_function("weir", |b| {
        b.iter(|| {
            mpmc_async!(
                rt,
                weir::queue::bounded::<u64>(CAP).unwrap(),
                |tx, v| tx.send(v).await.unwrap(),
                |rx| rx.recv().await.ok()
            )
        })
    });
    g.bench_function("async-channel", |b| {
        b.iter(|| {
            mpmc_async!(
                rt,
                async_channel::bounded::<u64>(CAP),
                |tx, v| tx.send(v).await.unwrap(),
                |rx| rx.recv().await.ok()
            )
        })
    });
    g.bench_function("flume", |b| {
        b.iter(|| {
            mpmc_async!(
                rt,
                flume::bounded::<u64>(CAP),
                |tx, v| tx.send_async(v).await.unwrap(),
                |rx| rx.recv_async().await.ok()
            )
        })
    });
    g.bench_function("kanal", |b| {
        b.iter(|| {
            mpmc_async!(
                rt,
                kanal::bounded_async::<u64>(CAP),
                |tx, v| tx.send(v).await.unwrap(),
                |rx| rx.recv().await.ok()
            )
        })
    });
    g.finish();
}

/// A producer thread sends `MESSAGES` values; this thread receives them.
macro_rules! spsc_blocking {
    ($make:expr, |$tx:ident, $v:ident| $send:expr, |$rx:ident| $recv:expr) => {{
        let ($tx, $rx) = $make;
        let producer = std::thread::spawn(move || {
            for $v in 0..MESSAGES {
                $send;
            }
        });
        let mut sum = 0u64;
        for _ in 0..MESSAGES {
            sum += $recv;
        }
        producer.join().unwrap();
        assert_eq!(sum, MESSAGES * (MESSAGES - 1) / 2);
    }};
}

fn bounded_spsc_blocking(c: &mut Criterion) {
    let mut g = c.benchmark_group("bounded_spsc_blocking");
    g.sample_size(20);
    g.bench_function("weir", |b| {
        b.iter(|| {
            spsc_blocking!(
                weir::queue::bounded::<u64>(CAP).unwrap(),
                |tx, v| tx.send_blocking(v).unwrap(),
                |rx| rx.recv_blocking().unwrap()
            )
        })
    });
    g.bench_function("async-channel", |b| {
        b.iter(|| {
            spsc_blocking!(
                async_channel::bounded::<u64>(CAP),
                |tx, v| tx.send_blocking(v).unwrap(),
                |rx| rx.recv_blocking().unwrap()
            )
        })
    });
    g.bench_function("flume", |b| {
        b.iter(|| {
            spsc_blocking!(
                flume::bounded::<u64>(CAP),
                |tx, v| tx.send(v).unwrap(),
                |rx| rx.recv().unwrap()
            )
        })
    });
    g.bench_function("kanal", |b| {
        b.iter(|| {
            spsc_blocking!(
                kanal::bounded::<u64>(CAP),
                |tx, v| tx.send(v).unwrap(),
                |rx| rx.recv().unwrap()
            )
        })
    });
    g.bench_function("crossbeam-channel", |b| {
        b.iter(|| {
            spsc_blocking!(
                crossbeam_channel::bounded::<u64>(CAP),
                |tx, v| tx.send(v).unwrap(),
                |rx| rx.recv().unwrap()
            )
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    bounded_spsc_async,
    bounded_mpmc_2x2_async,
    bounded_spsc_blocking
);
criterion_main!(benches);
