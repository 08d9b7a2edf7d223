//! The future of a caller that may have to wait for permits.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use super::error::BulkheadError;
use super::raw::{Entry, Fast, Raw};
use super::{Bulkhead, BulkheadPermit};
use crate::{Runtime, rt::deadline_after};

/// A place in the queue, given up when the future is dropped.
struct Waiter<'a> {
    raw: &'a Raw,
    /// `Some` from the moment the caller joins the line until its future
    /// reads the outcome.
    slot: Option<u32>,
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        if let Some(idx) = self.slot.take() {
            self.raw.cancel(idx);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Start,
    Waiting,
    Done,
}

pin_project! {
    /// Waits for permits of a [`Bulkhead`]; returned by
    /// [`Bulkhead::acquire`] and [`Bulkhead::acquire_many`].
    ///
    /// Cancel-safe: dropping it gives up its place in the queue, and if
    /// permits were granted to it meanwhile they go to the next waiter.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::Bulkhead;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = Bulkhead::builder().max_concurrent(1).queue_capacity(1).build(rt.clone()).unwrap();
    /// rt.block_on(async {
    ///     let held = b.acquire().await.unwrap();
    ///     let mut waiting = Box::pin(b.acquire());
    ///     assert!(futures_lite::future::poll_once(&mut waiting).await.is_none());
    ///     drop(held);
    ///     assert!(waiting.await.is_ok());
    /// });
    /// # }
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct Acquire<'a, R: Runtime> {
        bulkhead: &'a Bulkhead<R>,
        n: u32,
        step: Step,
        waiter: Waiter<'a>,
        #[pin]
        timer: Option<R::Sleep>,
    }
}

impl<'a, R: Runtime> Acquire<'a, R> {
    pub(super) fn new(bulkhead: &'a Bulkhead<R>, n: u32) -> Self {
        Acquire {
            bulkhead,
            n,
            step: Step::Start,
            waiter: Waiter {
                raw: &bulkhead.raw,
                slot: None,
            },
            timer: None,
        }
    }
}

impl<'a, R: Runtime> Future for Acquire<'a, R> {
    type Output = Result<BulkheadPermit<'a>, BulkheadError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let bulkhead: &'a Bulkhead<R> = this.bulkhead;
        let raw: &'a Raw = &bulkhead.raw;
        let n = *this.n;
        let permit = |()| BulkheadPermit { raw, n };
        match *this.step {
            Step::Done => panic!("bulkhead Acquire polled after it completed"),
            Step::Waiting => {}
            Step::Start => {
                let may_wait = !bulkhead.acquire_timeout.is_zero();
                match raw.try_fast(n) {
                    Fast::Admitted => {
                        *this.step = Step::Done;
                        return Poll::Ready(Ok(permit(())));
                    }
                    Fast::Full if !may_wait || n > bulkhead.queue_capacity => {
                        *this.step = Step::Done;
                        return Poll::Ready(Err(bulkhead.refuse_full(n)));
                    }
                    Fast::Full | Fast::Slow => {}
                }
                match raw.enter(n, may_wait.then_some(cx.waker())) {
                    Entry::Admitted => {
                        *this.step = Step::Done;
                        return Poll::Ready(Ok(permit(())));
                    }
                    Entry::Rejected(reason) => {
                        *this.step = Step::Done;
                        return Poll::Ready(Err(reason));
                    }
                    Entry::Queued(idx) => {
                        this.waiter.slot = Some(idx);
                        *this.step = Step::Waiting;
                        if bulkhead.acquire_timeout != Duration::MAX {
                            let rt = &bulkhead.rt;
                            let deadline = deadline_after(rt.now(), bulkhead.acquire_timeout);
                            this.timer.set(Some(rt.sleep_until(deadline)));
                        }
                    }
                }
            }
        }
        let Some(idx) = this.waiter.slot else {
            unreachable!("a waiting Acquire has a slot")
        };
        if let Some(outcome) = raw.poll_slot(idx, cx.waker()) {
            this.waiter.slot = None;
            *this.step = Step::Done;
            return Poll::Ready(outcome.map(permit));
        }
        if let Some(timer) = this.timer.as_mut().as_pin_mut() {
            if timer.poll(cx).is_ready() {
                this.timer.set(None);
                this.waiter.slot = None;
                *this.step = Step::Done;
                return Poll::Ready(raw.time_out(idx).map(permit));
            }
        }
        Poll::Pending
    }
}

impl<R: Runtime> fmt::Debug for Acquire<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("permits", &self.n)
            .field("step", &self.step)
            .field("slot", &self.waiter.slot)
            .finish_non_exhaustive()
    }
}
