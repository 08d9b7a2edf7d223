//! The rules of a context on one thread, polled by hand: nesting,
//! shadowing, restoring after each poll and after a panic.

use core::fmt;
use core::pin::pin;
use core::task::{Context as TaskContext, Poll, Waker};
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::{Context, current, get, scope, scope_shown, with};

#[derive(Clone, Debug, PartialEq)]
struct RequestId(u32);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "req-{}", self.0)
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Tenant(&'static str);

/// A future that is pending once, then returns what it sees.
fn seen_after_a_yield() -> impl Future<Output = Option<RequestId>> {
    let mut yielded = false;
    core::future::poll_fn(move |cx| {
        if yielded {
            Poll::Ready(get::<RequestId>())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
}

#[test]
fn the_value_is_there_during_each_poll_and_gone_between_them() {
    let mut cx = TaskContext::from_waker(Waker::noop());
    let mut fut = pin!(scope(RequestId(1), seen_after_a_yield()));
    assert_eq!(fut.as_mut().poll(&mut cx), Poll::Pending);
    assert_eq!(get::<RequestId>(), None, "not between polls");
    assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(Some(RequestId(1))));
    assert!(current().is_empty());
}

#[test]
fn two_scopes_interleaved_on_one_thread_never_see_each_other() {
    let mut cx = TaskContext::from_waker(Waker::noop());
    let mut a = pin!(scope(RequestId(1), seen_after_a_yield()));
    let mut b = pin!(scope(RequestId(2), seen_after_a_yield()));
    assert!(a.as_mut().poll(&mut cx).is_pending());
    assert!(b.as_mut().poll(&mut cx).is_pending());
    assert_eq!(a.as_mut().poll(&mut cx), Poll::Ready(Some(RequestId(1))));
    assert_eq!(b.as_mut().poll(&mut cx), Poll::Ready(Some(RequestId(2))));
}

#[test]
fn an_inner_scope_adds_to_the_outer_and_hides_the_same_type() {
    let out = futures_lite::future::block_on(scope(RequestId(1), async {
        let inner = scope(RequestId(2), async {
            (get::<RequestId>(), get::<Tenant>())
        });
        let inner = scope(Tenant("acme"), inner).await;
        (inner, get::<RequestId>(), get::<Tenant>())
    }));
    assert_eq!(
        out,
        (
            (Some(RequestId(2)), Some(Tenant("acme"))),
            Some(RequestId(1)),
            None
        )
    );
}

#[test]
fn a_scope_made_outside_joins_the_context_of_its_first_poll() {
    // Built before the outer scope exists; the outer value is still seen.
    let inner = scope(Tenant("t"), async { (get::<RequestId>(), get::<Tenant>()) });
    let out = futures_lite::future::block_on(scope(RequestId(3), inner));
    assert_eq!(out, (Some(RequestId(3)), Some(Tenant("t"))));
}

#[test]
fn a_panicking_poll_restores_the_outer_context() {
    let outer = Context::new().with(RequestId(1));
    outer.enter(|| {
        let mut cx = TaskContext::from_waker(Waker::noop());
        let mut fut = Box::pin(scope(RequestId(2), async {
            assert_eq!(get::<RequestId>(), Some(RequestId(2)));
            panic!("inside the scope");
        }));
        let r = catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut cx)));
        assert!(r.is_err());
        assert_eq!(get::<RequestId>(), Some(RequestId(1)));
    });
    assert_eq!(get::<RequestId>(), None);
}

#[test]
fn a_panicking_enter_restores_the_outer_context() {
    let r = catch_unwind(|| Context::new().with(RequestId(5)).enter(|| panic!("boom")));
    assert!(r.is_err());
    assert!(current().is_empty());
}

#[test]
fn a_snapshot_scope_replaces_what_is_current() {
    let captured = Context::new().with(Tenant("captured"));
    let out = Context::new().with(RequestId(9)).enter(|| {
        futures_lite::future::block_on(
            captured.scope(async { (get::<RequestId>(), get::<Tenant>()) }),
        )
    });
    assert_eq!(out, (None, Some(Tenant("captured"))));
}

#[test]
fn display_shows_visible_shown_values_oldest_first() {
    let ctx = Context::new()
        .with_shown(RequestId(1))
        .with(Tenant("hidden"))
        .with_shown(7u8)
        .with_shown(RequestId(2));
    assert_eq!(ctx.to_string(), "u8=7 RequestId=req-2");
    assert_eq!(
        format!("{ctx:?}"),
        "Context { Tenant, u8: 7, RequestId: req-2 }"
    );
    assert_eq!(Context::new().to_string(), "");
    assert_eq!(format!("{:?}", Context::new()), "Context {}");
}

#[test]
fn scope_shown_is_displayed_inside() {
    let s =
        futures_lite::future::block_on(scope_shown(RequestId(4), async { current().to_string() }));
    assert_eq!(s, "RequestId=req-4");
}

#[test]
fn with_borrows_and_may_read_the_context_again() {
    let out = Context::new()
        .with(RequestId(6))
        .enter(|| with(|id: Option<&RequestId>| (id.cloned(), get::<RequestId>())));
    assert_eq!(out, (Some(RequestId(6)), Some(RequestId(6))));
}

/// A value whose `Drop` reads the context: it runs when the last snapshot
/// holding it goes, which may be inside the slot's restore.
struct ReadsOnDrop(std::sync::Arc<std::sync::Mutex<Option<Option<RequestId>>>>);

impl Drop for ReadsOnDrop {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = Some(get::<RequestId>());
    }
}

#[test]
fn a_value_dropped_by_an_unwinding_poll_sees_the_outer_context() {
    let saw = std::sync::Arc::new(std::sync::Mutex::new(None));
    Context::new().with(RequestId(1)).enter(|| {
        // The scoped future holds the only reference to its entry, which
        // the guard takes out of the slot during the unwind and drops.
        let mut fut = Box::pin(
            Context::new()
                .with(ReadsOnDrop(saw.clone()))
                .scope(async { panic!("drop the entry while unwinding") }),
        );
        let mut cx = TaskContext::from_waker(Waker::noop());
        assert!(catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut cx))).is_err());
        assert_eq!(*saw.lock().unwrap(), Some(Some(RequestId(1))));
    });
}

mod model {
    //! The context against a plain stack of (type, value) pairs: any
    //! sequence of scopes entered and left gives the newest value of each
    //! type, and a Display of the visible values in the order they were
    //! added.

    use core::fmt;

    use proptest::prelude::*;

    use super::super::{Context, get};

    macro_rules! keys {
        ($($k:ident = $i:literal),+) => {$(
            #[derive(Clone, Debug, PartialEq)]
            struct $k(u32);
            impl fmt::Display for $k {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    write!(f, "{}", self.0)
                }
            }
        )+
            fn push(ctx: &Context, key: usize, v: u32, shown: bool) -> Context {
                match key {
                    $($i => if shown { ctx.with_shown($k(v)) } else { ctx.with($k(v)) },)+
                    _ => unreachable!(),
                }
            }
            fn read(ctx: &Context, key: usize) -> (Option<u32>, Option<u32>) {
                match key {
                    $($i => (ctx.get::<$k>().map(|k| k.0), ctx.enter(|| get::<$k>()).map(|k| k.0)),)+
                    _ => unreachable!(),
                }
            }
            const NAMES: &[&str] = &[$(stringify!($k)),+];
        };
    }
    keys!(K0 = 0, K1 = 1, K2 = 2);

    #[derive(Clone, Debug)]
    enum Op {
        Enter { key: usize, value: u32, shown: bool },
        Leave,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0..3usize, any::<u32>(), any::<bool>())
                .prop_map(|(key, value, shown)| Op::Enter { key, value, shown }),
            1 => Just(Op::Leave),
        ]
    }

    proptest! {
        #[test]
        fn matches_a_stack_of_pairs(ops in proptest::collection::vec(op(), 0..40)) {
            let mut model: Vec<(usize, u32, bool)> = Vec::new();
            let mut snapshots = vec![Context::new()];
            for op in ops {
                match op {
                    Op::Enter { key, value, shown } => {
                        let next = push(snapshots.last().unwrap(), key, value, shown);
                        snapshots.push(next);
                        model.push((key, value, shown));
                    }
                    Op::Leave => {
                        if model.pop().is_some() {
                            snapshots.pop();
                        }
                    }
                }
                let ctx = snapshots.last().unwrap();
                for key in 0..3 {
                    let want = model.iter().rev().find(|e| e.0 == key).map(|e| e.1);
                    prop_assert_eq!(read(ctx, key), (want, want));
                }
                let visible: Vec<String> = model
                    .iter()
                    .enumerate()
                    .filter(|(i, e)| e.2 && !model[i + 1..].iter().any(|n| n.0 == e.0))
                    .map(|(_, e)| format!("{}={}", NAMES[e.0], e.1))
                    .collect();
                prop_assert_eq!(ctx.to_string(), visible.join(" "));
                prop_assert_eq!(ctx.is_empty(), model.is_empty());
            }
        }
    }
}
