//! A priority queue's stats count each push, pop and refusal (a push that
//! waits for room is not a refusal); with the feature `metrics` the
//! Prometheus text carries the same counts under the queue's name, and
//! with `tracing` each refusal and the close are events.

use std::pin::pin;
use std::task::{Context, Poll, Waker};

use weir::PriorityQueue;
use weir::queue::PriorityPushError;

/// Pushes 3 onto a queue of 2, refused once full; a waiting push that gets
/// its slot; 3 pops; the close and a push refused closed.
/// Every test takes this first. tracing caches each callsite's interest: a
/// test exercising the queue on another thread with no subscriber while the
/// tracing test installs its thread-local one can leave the callsites cached
/// as uninteresting, and the tracing test then sees no event (seen once in CI).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn exercise(q: &PriorityQueue<u32>) {
    q.try_push(0, 1).unwrap();
    q.try_push(1, 2).unwrap();
    assert!(matches!(q.try_push(1, 3), Err(PriorityPushError::Full(3))));
    let mut cx = Context::from_waker(Waker::noop());
    let mut waiting = pin!(q.push(0, 4));
    assert!(waiting.as_mut().poll(&mut cx).is_pending());
    assert_eq!(q.try_pop(), Ok(2));
    assert_eq!(waiting.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
    assert_eq!(q.try_pop(), Ok(1));
    assert_eq!(q.try_pop(), Ok(4));
    assert!(q.close());
    assert!(matches!(
        q.try_push(0, 5),
        Err(PriorityPushError::Closed(5))
    ));
}

fn queue(name: &'static str) -> PriorityQueue<u32> {
    PriorityQueue::builder()
        .lanes(2)
        .capacity(2)
        .name(name)
        .build()
        .unwrap()
}

#[test]
fn stats_count_pushes_pops_and_refusals_but_not_waits() {
    let _serial = serial();
    let q = queue("jobs");
    exercise(&q);
    let s = q.stats();
    assert_eq!(
        (s.pushed, s.popped, s.refused_full, s.refused_closed, s.len),
        (3, 3, 1, 1, 0)
    );
}

#[cfg(feature = "metrics")]
#[test]
fn metrics_match_the_stats() {
    let _serial = serial();
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let q = metrics::with_local_recorder(&recorder, || queue("jobs"));
    exercise(&q);
    let text = handle.render();
    let value = |series: &str| -> u64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(series))
            .unwrap_or_else(|| panic!("{series} in:\n{text}"));
        line.rsplit_once(' ').unwrap().1.parse().unwrap()
    };
    let s = q.stats();
    assert_eq!(
        value("weir_priority_queue_pushed_total{name=\"jobs\"}"),
        s.pushed
    );
    assert_eq!(
        value("weir_priority_queue_popped_total{name=\"jobs\"}"),
        s.popped
    );
    assert_eq!(
        value("weir_priority_queue_refused_total{name=\"jobs\",reason=\"full\"}"),
        s.refused_full
    );
    assert_eq!(
        value("weir_priority_queue_refused_total{name=\"jobs\",reason=\"closed\"}"),
        s.refused_closed
    );
}

#[cfg(feature = "tracing")]
#[test]
fn refusals_and_the_close_are_events() {
    let _serial = serial();
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buffer::default();
    let out = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .without_time()
        .with_writer(move || out.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || exercise(&queue("jobs")));
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let refused: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains("priority queue refused a push"))
        .collect();
    assert_eq!(refused.len(), 2, "{text}");
    assert!(
        refused[0].contains("name=jobs lane=1 reason=\"full\""),
        "{}",
        refused[0]
    );
    assert!(
        refused[1].contains("name=jobs lane=0 reason=\"closed\""),
        "{}",
        refused[1]
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("INFO") && l.contains("priority queue closed name=jobs"))
            .count(),
        1,
        "{text}"
    );
}
