//! The `weir.policy` span of a call made inside a context scope records
//! the context's Display in its `context` field; a call outside any scope
//! has no such field.

#![cfg(all(feature = "tracing", feature = "test-util"))]

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use weir::context;
use weir::test_util::VirtualRuntime;
use weir::{Error, Policy, Retry};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn captured(f: impl FnOnce()) -> String {
    let buf = Buffer::default();
    let out = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .without_time()
        .with_writer(move || out.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    String::from_utf8(buf.0.lock().unwrap().clone()).unwrap()
}

#[derive(Clone)]
struct RequestId(u32);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "req-{}", self.0)
    }
}

/// Not displayable: carried, but not written into the span.
#[derive(Clone)]
struct Secret;

#[test]
fn the_policy_span_records_the_callers_context() {
    let rt = VirtualRuntime::new();
    let text = captured(|| {
        let retry = Retry::constant(Duration::from_millis(10))
            .max_attempts(2)
            .build()
            .unwrap();
        let policy = Policy::new(rt.clone()).name("search").retry(retry);
        // The call is made before the scope is entered: the span still
        // gets the value, read at the first poll.
        let call = policy.call(|| async { Err::<(), _>("down") });
        let call = context::scope(Secret, context::scope_shown(RequestId(7), call));
        assert_eq!(rt.block_on(call), Err(Error::Inner("down")));
        let outside = policy.call(|| async { Err::<(), _>("down") });
        assert_eq!(rt.block_on(outside), Err(Error::Inner("down")));
    });
    let retries: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("retry scheduled"))
        .collect();
    assert_eq!(retries.len(), 2, "{text}");
    assert!(
        retries[0].contains("weir.policy{name=search context=RequestId=req-7}"),
        "{}",
        retries[0]
    );
    assert!(!retries[0].contains("Secret"), "{}", retries[0]);
    assert!(
        retries[1].contains("weir.policy{name=search}"),
        "{}",
        retries[1]
    );
}
