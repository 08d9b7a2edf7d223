//! Many senders and receivers on every runtime, some of them cancelled while
//! they wait: every value is received exactly once or handed back.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures_lite::future;
use weir::Runtime;
use weir::{PriorityQueue, queue};

const SENDERS: u64 = 4;
const RECEIVERS: usize = 3;
const PER_SENDER: u64 = 5000;
const PAUSE: Duration = Duration::from_millis(3);
const TOTAL: usize = (SENDERS * PER_SENDER) as usize;

struct Tally {
    received: Vec<AtomicU32>,
    handed_back: Vec<AtomicU32>,
    /// Waits abandoned (future dropped) when the short sleep won the race.
    cancelled: AtomicU32,
    /// Values received so far, by all receivers.
    total: AtomicU32,
}

impl Tally {
    fn new() -> Arc<Self> {
        let zeros = || (0..TOTAL).map(|_| AtomicU32::new(0)).collect();
        Arc::new(Tally {
            received: zeros(),
            handed_back: zeros(),
            cancelled: AtomicU32::new(0),
            total: AtomicU32::new(0),
        })
    }

    fn assert_exactly_once(&self) -> (usize, usize) {
        eprintln!(
            "cancelled waits: {}",
            self.cancelled.load(Ordering::Relaxed)
        );
        let (mut got, mut back) = (0, 0);
        for v in 0..TOTAL {
            let r = self.received[v].load(Ordering::Relaxed);
            let h = self.handed_back[v].load(Ordering::Relaxed);
            assert_eq!(
                r + h,
                1,
                "value {v}: received {r} times, handed back {h} times"
            );
            got += r as usize;
            back += h as usize;
        }
        (got, back)
    }
}

/// A short timeout that cancels the wait it races against.
fn short<R: Runtime>(rt: &R, i: u64) -> R::Sleep {
    rt.sleep(Duration::from_micros(200 + (i % 5) * 300))
}

/// Senders each send their own range; a send that waits too long is dropped
/// (cancelled) and retried with the same value; a send refused because the
/// queue closed records the value as handed back.
fn spawn_senders<R: Runtime>(
    rt: &R,
    tx: &queue::Sender<u64>,
    tally: &Arc<Tally>,
) -> Vec<R::JoinHandle<()>> {
    (0..SENDERS)
        .map(|s| {
            let (rt2, tx, tally) = (rt.clone(), tx.clone(), tally.clone());
            rt.spawn(async move {
                for v in s * PER_SENDER..(s + 1) * PER_SENDER {
                    if v % 1000 == 0 {
                        // A pause long enough that the receivers' waits time
                        // out (on every runtime, the virtual one included).
                        rt2.sleep(PAUSE).await;
                    }
                    loop {
                        let sent = future::or(async { Some(tx.send(v).await) }, async {
                            short(&rt2, v).await;
                            None
                        })
                        .await;
                        match sent {
                            Some(Ok(())) => break,
                            Some(Err(e)) => {
                                tally.handed_back[e.into_inner() as usize]
                                    .fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            None => {
                                // Cancelled mid-wait: the value was not sent; try again.
                                tally.cancelled.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                }
            })
        })
        .collect()
}

/// Receivers race each receive against a short sleep (dropping the receive
/// mid-wait when the sleep wins) until the queue is closed and drained.
/// The receiver that brings the total to `close_after` values (if given)
/// closes the queue.
fn spawn_receivers<R: Runtime>(
    rt: &R,
    rx: &queue::Receiver<u64>,
    tally: &Arc<Tally>,
    close_after: Option<usize>,
) -> Vec<R::JoinHandle<()>> {
    (0..RECEIVERS)
        .map(|r| {
            let (rt2, rx, tally) = (rt.clone(), rx.clone(), tally.clone());
            rt.spawn(async move {
                let mut i = 0u64;
                let mut buf = Vec::with_capacity(4);
                loop {
                    i += 1;
                    let got = future::or(
                        async {
                            if i % 3 == 0 {
                                buf.clear();
                                Some(rx.recv_many(&mut buf, 4).await.map(|_| ()))
                            } else {
                                Some(rx.recv().await.map(|v| {
                                    buf.clear();
                                    buf.push(v);
                                }))
                            }
                        },
                        async {
                            short(&rt2, i + r as u64).await;
                            None
                        },
                    )
                    .await;
                    match got {
                        Some(Ok(())) => {
                            for &v in &buf {
                                tally.received[v as usize].fetch_add(1, Ordering::Relaxed);
                            }
                            let n = buf.len() as u32;
                            let total = tally.total.fetch_add(n, Ordering::Relaxed) + n;
                            if close_after.is_some_and(|after| total as usize >= after) {
                                rx.close();
                            }
                        }
                        Some(Err(_)) => return,
                        None => {
                            tally.cancelled.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect()
}

async fn bounded_every_value_once<R: Runtime>(rt: R) {
    let (tx, rx) = queue::bounded::<u64>(4).unwrap();
    let tally = Tally::new();
    let senders = spawn_senders(&rt, &tx, &tally);
    let receivers = spawn_receivers(&rt, &rx, &tally, None);
    drop((tx, rx));
    for h in senders {
        h.await.unwrap();
    }
    for h in receivers {
        h.await.unwrap();
    }
    // Nobody closed early: everything was received.
    assert_eq!(tally.assert_exactly_once(), (TOTAL, 0));
}

async fn closed_mid_stream_hands_values_back<R: Runtime>(rt: R) {
    let (tx, rx) = queue::bounded::<u64>(8).unwrap();
    let tally = Tally::new();
    let senders = spawn_senders(&rt, &tx, &tally);
    let receivers = spawn_receivers(&rt, &rx, &tally, Some(200));
    drop((tx, rx));
    for h in senders {
        h.await.unwrap();
    }
    for h in receivers {
        h.await.unwrap();
    }
    let (got, back) = tally.assert_exactly_once();
    assert!(got >= 200, "received {got}");
    assert!(back > 0, "the close came after every send");
}

async fn unbounded_every_value_once<R: Runtime>(rt: R) {
    let (tx, rx) = queue::unbounded::<u64>();
    let tally = Tally::new();
    let receivers = spawn_receivers(&rt, &rx, &tally, None);
    let senders = spawn_senders(&rt, &tx, &tally);
    drop((tx, rx));
    for h in senders {
        h.await.unwrap();
    }
    for h in receivers {
        h.await.unwrap();
    }
    assert_eq!(tally.assert_exactly_once(), (TOTAL, 0));
}

async fn priority_every_value_once<R: Runtime>(rt: R) {
    let q = Arc::new(
        PriorityQueue::<u64>::builder()
            .lanes(4)
            .capacity(8)
            .age_after(16)
            .build()
            .unwrap(),
    );
    let tally = Tally::new();
    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let (rt2, q, tally) = (rt.clone(), q.clone(), tally.clone());
            rt.spawn(async move {
                for v in s * PER_SENDER..(s + 1) * PER_SENDER {
                    if v % 1000 == 0 {
                        rt2.sleep(PAUSE).await;
                    }
                    loop {
                        let lane = (v % 4) as usize;
                        let pushed = future::or(async { Some(q.push(lane, v).await) }, async {
                            short(&rt2, v).await;
                            None
                        })
                        .await;
                        match pushed {
                            Some(r) => break r.unwrap(),
                            None => {
                                tally.cancelled.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                }
            })
        })
        .collect();
    let receivers: Vec<_> = (0..RECEIVERS)
        .map(|r| {
            let (rt2, q, tally) = (rt.clone(), q.clone(), tally.clone());
            rt.spawn(async move {
                let mut i = r as u64;
                loop {
                    i += 1;
                    let got = future::or(async { Some(q.pop().await) }, async {
                        short(&rt2, i).await;
                        None
                    })
                    .await;
                    match got {
                        Some(Ok(v)) => {
                            tally.received[v as usize].fetch_add(1, Ordering::Relaxed);
                        }
                        Some(Err(_)) => return,
                        None => {
                            tally.cancelled.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for h in senders {
        h.await.unwrap();
    }
    q.close();
    for h in receivers {
        h.await.unwrap();
    }
    assert_eq!(tally.assert_exactly_once(), (TOTAL, 0));
}

on_every_runtime!(
    bounded_every_value_once,
    closed_mid_stream_hands_values_back,
    unbounded_every_value_once,
    priority_every_value_once,
);
