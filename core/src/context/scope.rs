//! The futures that carry a context across their polls.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context as TaskContext, Poll};

use pin_project_lite::pin_project;

use super::Context;
use super::local;
use super::node::Show;

pin_project! {
    /// A future polled with a fixed [`Context`] current: made by
    /// [`Context::scope`]. Whatever was current around a poll is put back
    /// after it, also when the future panics.
    ///
    /// ```
    /// use weir_core::context::{self, Context};
    ///
    /// #[derive(Clone, Debug, PartialEq)]
    /// struct TraceId(u64);
    ///
    /// let snapshot = Context::new().with(TraceId(9));
    /// let seen = futures_lite::future::block_on(snapshot.scope(async { context::get::<TraceId>() }));
    /// assert_eq!(seen, Some(TraceId(9)));
    /// ```
    #[must_use = "a future does nothing unless polled"]
    pub struct Scoped<F> {
        ctx: Context,
        #[pin]
        future: F,
    }
}

impl<F> Scoped<F> {
    pub(super) fn new(ctx: Context, future: F) -> Self {
        Scoped { ctx, future }
    }

    /// The future, without its context.
    ///
    /// ```
    /// let scoped = weir_core::context::Context::new().scope(async { 3 });
    /// assert_eq!(futures_lite::future::block_on(scoped.into_inner()), 3);
    /// ```
    pub fn into_inner(self) -> F {
        self.future
    }

    /// The context it polls its future with.
    ///
    /// ```
    /// let scoped = weir_core::context::Context::new().with(5u8).scope(async {});
    /// assert_eq!(scoped.context().get::<u8>(), Some(5));
    /// ```
    pub fn context(&self) -> &Context {
        &self.ctx
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        // The chain moves into the thread's slot for the poll and back out
        // after it; on unwind the guard restores the slot and drops it.
        let guard = local::enter(this.ctx.head.take());
        let out = this.future.poll(cx);
        this.ctx.head = guard.leave();
        out
    }
}

impl<F> fmt::Debug for Scoped<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scoped")
            .field("context", &self.ctx)
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// A future polled with one more value in the context: made by
    /// [`scope`](super::scope) and [`scope_shown`](super::scope_shown).
    ///
    /// The value joins the context that is current at the first poll (not
    /// when the future is made), so `scope(a, scope(b, fut))` sees both,
    /// and a value of a type already there hides the outer one for as long
    /// as the scope runs.
    #[must_use = "a future does nothing unless polled"]
    pub struct Scope<T, F> {
        // The value until the first poll, which links it into `inner`'s
        // context.
        value: Option<(T, Option<Show<T>>)>,
        #[pin]
        inner: Scoped<F>,
    }
}

impl<T, F> Scope<T, F> {
    pub(super) fn new(value: T, show: Option<Show<T>>, future: F) -> Self {
        Scope {
            value: Some((value, show)),
            inner: Scoped::new(Context::new(), future),
        }
    }
}

impl<T: Send + Sync + 'static, F: Future> Future for Scope<T, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        if let Some((value, show)) = this.value.take() {
            let ctx = Context::current().push(value, show);
            *this.inner.as_mut().project().ctx = ctx;
        }
        this.inner.poll(cx)
    }
}

impl<T, F> fmt::Debug for Scope<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("value", &core::any::type_name::<T>())
            .field("entered", &self.value.is_none())
            .finish_non_exhaustive()
    }
}
