//! Runs a manager's future so that a panic in it becomes a value: the pool
//! must give the slot back, count the panic and carry on, whoever polled.

use core::pin::Pin;
use core::task::{Context, Poll};
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::error::{Hook, ManagerPanic};
use crate::util::panic::drop_contained;

/// `f`'s output, or a [`ManagerPanic`] if polling it panicked. Costs no
/// allocation unless it panics (the message is copied out then).
pub(crate) async fn caught<F: Future>(
    hook: Hook,
    background: bool,
    f: F,
) -> Result<F::Output, ManagerPanic> {
    let mut f = core::pin::pin!(Some(f));
    core::future::poll_fn(|cx| poll_caught(f.as_mut(), cx))
        .await
        .map_err(|payload| {
            let p = ManagerPanic::new(hook, background, &*payload);
            drop_contained(payload);
            p
        })
}

fn poll_caught<F: Future>(
    mut f: Pin<&mut Option<F>>,
    cx: &mut Context<'_>,
) -> Poll<Result<F::Output, Box<dyn Any + Send>>> {
    let Some(fut) = f.as_mut().as_pin_mut() else {
        unreachable!("not polled after it finished")
    };
    match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
        Ok(Poll::Pending) => Poll::Pending,
        Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
        Err(payload) => {
            // The future is unusable after a panic; dropping it runs user
            // code too, which must not unwind into the pool either.
            if let Err(again) = catch_unwind(AssertUnwindSafe(|| f.set(None))) {
                drop_contained(again);
            }
            Poll::Ready(Err(payload))
        }
    }
}
