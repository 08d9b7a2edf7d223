//! A tool call that reports progress, as a stream.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::Arc;

use futures_core::Stream;

use crate::error::McpError;
use crate::handler::BoxFuture;
use crate::progress::ProgressQueue;
use crate::protocol::{CallToolResult, Progress};

/// One item of a [`ProgressCall`].
///
/// ```
/// use weir_mcp::CallEvent;
/// let ev = CallEvent::Progress(weir_mcp::protocol::Progress { progress: 1.0, total: None, message: None });
/// assert!(matches!(ev, CallEvent::Progress(_)));
/// ```
#[derive(Debug)]
pub enum CallEvent {
    /// A progress report.
    Progress(Progress),
    /// The call's result; the last item.
    Done(Result<CallToolResult, McpError>),
}

/// A tool call reporting progress: a [`Stream`] of [`CallEvent`]s.
/// Dropping it before [`CallEvent::Done`] cancels the call.
///
/// ```
/// # fn f(c: weir_mcp::Client<weir_core::test_util::VirtualRuntime>) {
/// let call: weir_mcp::ProgressCall = c.call_tool_with_progress("long", serde_json::json!({}));
/// drop(call); // before it was polled: nothing was sent, nothing to cancel
/// # }
/// ```
pub struct ProgressCall {
    queue: Arc<ProgressQueue>,
    fut: Option<BoxFuture<'static, Result<CallToolResult, McpError>>>,
    done: Option<Result<CallToolResult, McpError>>,
}

impl ProgressCall {
    pub(super) fn new(
        queue: Arc<ProgressQueue>,
        fut: BoxFuture<'static, Result<CallToolResult, McpError>>,
    ) -> Self {
        ProgressCall {
            queue,
            fut: Some(fut),
            done: None,
        }
    }
}

impl fmt::Debug for ProgressCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProgressCall")
            .field("running", &self.fut.is_some())
            .field("dropped_reports", &self.queue.dropped())
            .finish()
    }
}

impl ProgressCall {
    /// Progress reports dropped so far because the queue was full.
    ///
    /// ```
    /// # fn f(c: &weir_mcp::ProgressCall) {
    /// println!("{}", c.dropped_reports());
    /// # }
    /// ```
    pub fn dropped_reports(&self) -> u64 {
        self.queue.dropped()
    }
}

impl Stream for ProgressCall {
    type Item = CallEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<CallEvent>> {
        let this = &mut *self;
        if let Some(p) = this.queue.pop_or_register(cx.waker()) {
            return Poll::Ready(Some(CallEvent::Progress(p)));
        }
        if let Some(fut) = &mut this.fut {
            match fut.as_mut().poll(cx) {
                Poll::Ready(r) => {
                    this.fut = None;
                    this.done = Some(r);
                    // Reports that came before the result go out first.
                    if let Some(p) = this.queue.pop() {
                        return Poll::Ready(Some(CallEvent::Progress(p)));
                    }
                }
                Poll::Pending => return Poll::Pending,
            }
        }
        if let Some(p) = this.queue.pop() {
            return Poll::Ready(Some(CallEvent::Progress(p)));
        }
        Poll::Ready(this.done.take().map(CallEvent::Done))
    }
}
