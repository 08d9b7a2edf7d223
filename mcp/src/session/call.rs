//! A request in flight: its future, its deadlines, and the cancellation
//! it sends when dropped before its response.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use pin_project_lite::pin_project;
use weir_core::cancel::Cancelled;
use weir_core::{Runtime, rt::deadline_after};

use super::{Item, Outcome, Shared};
use crate::error::{McpError, TimeoutKind};
use crate::jsonrpc::RequestId;
use crate::stats::Counters;
use crate::transport::Lane;

pin_project! {
    /// A request in flight: resolves to its outcome, or to a timeout or
    /// cancellation. Dropped before its response, it tells the server once.
    pub(crate) struct PendingCall<R: Runtime> {
        pub(super) shared: Arc<Shared>,
        pub(super) id: i64,
        // The slot was removed (outcome taken, or abandoned).
        pub(super) done: bool,
        pub(super) cancellable: bool,
        pub(super) rt: R,
        pub(super) idle: Option<Duration>,
        pub(super) seen_seq: u64,
        pub(super) deadline_kind: TimeoutKind,
        pub(super) early: Option<Result<Outcome, McpError>>,
        #[pin]
        pub(super) idle_sleep: Option<R::Sleep>,
        #[pin]
        pub(super) total_sleep: Option<R::Sleep>,
        #[pin]
        pub(super) cancelled: Option<Cancelled>,
    }

    impl<R: Runtime> PinnedDrop for PendingCall<R> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            abandon(this.shared, *this.id, this.done, *this.cancellable, "abandoned by the client");
        }
    }
}

/// Removes the slot; enqueues one cancellation if the request was still
/// waiting for its response.
fn abandon(shared: &Shared, id: i64, done: &mut bool, cancellable: bool, reason: &'static str) {
    if *done {
        return;
    }
    *done = true;
    let mut st = shared.state.lock();
    let Some(slot) = st.pending.remove(&id) else {
        return;
    };
    shared.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
    if slot.outcome.is_some() {
        return;
    }
    // Not written yet: take it back instead of cancelling it, so the
    // server never sees a cancellation before (or without) its request.
    let rid = RequestId::Number(id);
    if let Some(at) = st
        .normal
        .iter()
        .position(|item| matches!(item, Item::Msg(out) if out.id.as_ref() == Some(&rid)))
    {
        st.normal.remove(at);
        return;
    }
    if cancellable && st.dead.is_none() {
        Counters::bump(&shared.counters.cancels);
        shared.enqueue(
            &mut st,
            Item::Cancel(RequestId::Number(id), reason),
            Lane::Control,
        );
    }
}

impl<R: Runtime> Future for PendingCall<R> {
    type Output = Result<Outcome, McpError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Some(early) = this.early.take() {
            return Poll::Ready(early);
        }
        if *this.done {
            return Poll::Ready(Err(McpError::Closed));
        }
        let mut progressed = false;
        {
            let mut st = this.shared.state.lock();
            let Some(slot) = st.pending.get_mut(this.id) else {
                *this.done = true;
                return Poll::Ready(Err(McpError::Closed));
            };
            if let Some(outcome) = slot.outcome.take() {
                st.pending.remove(this.id);
                drop(st);
                *this.done = true;
                this.shared
                    .counters
                    .in_flight
                    .fetch_sub(1, Ordering::Relaxed);
                return Poll::Ready(Ok(outcome));
            }
            if slot.progress_seq != *this.seen_seq {
                *this.seen_seq = slot.progress_seq;
                progressed = true;
            }
            match &mut slot.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                w => *w = Some(cx.waker().clone()),
            }
        }
        if progressed && let Some(idle) = *this.idle {
            let at = deadline_after(this.rt.now(), idle);
            this.idle_sleep.set(Some(this.rt.sleep_until(at)));
        }
        if let Some(c) = this.cancelled.as_mut().as_pin_mut()
            && c.poll(cx).is_ready()
        {
            abandon(
                this.shared,
                *this.id,
                this.done,
                *this.cancellable,
                "cancelled by the client",
            );
            return Poll::Ready(Err(McpError::Cancelled));
        }
        if let Some(s) = this.total_sleep.as_mut().as_pin_mut()
            && s.poll(cx).is_ready()
        {
            Counters::bump(&this.shared.counters.timeouts);
            abandon(
                this.shared,
                *this.id,
                this.done,
                *this.cancellable,
                "request timed out",
            );
            return Poll::Ready(Err(McpError::Timeout(*this.deadline_kind)));
        }
        if let Some(s) = this.idle_sleep.as_mut().as_pin_mut()
            && s.poll(cx).is_ready()
        {
            Counters::bump(&this.shared.counters.timeouts);
            abandon(
                this.shared,
                *this.id,
                this.done,
                *this.cancellable,
                "request timed out (idle)",
            );
            return Poll::Ready(Err(McpError::Timeout(TimeoutKind::Idle)));
        }
        Poll::Pending
    }
}
