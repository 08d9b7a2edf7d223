//! Context that follows a call: values (a request id, a trace id, a
//! tenant) that every await of a task sees, on any executor.
//!
//! A context is a small typed map, one value per type, read with
//! [`get`] (or [`with`], without cloning). A value is put in for the span
//! of a future with [`scope`]: the future carries it across its await
//! points, because the value is set around each of its polls (a
//! thread-local, put back after each poll, also on unwind). No runtime
//! support is needed, so the same code runs on smol, tokio, async-std or
//! any executor.
//!
//! What weir carries for you:
//! * every attempt of a [`Policy`](crate::Policy) call (each retry
//!   and each hedged attempt, which run inside the call's own future) sees
//!   the caller's context;
//! * a [`Scheduler`](crate::Scheduler) job and a
//!   [`WorkerPool`](crate::WorkerPool) job take the context of the
//!   code that submits them (captured at submit, set again when the job
//!   runs, on the worker thread for the pool);
//! * with the feature `tracing`, the `weir.policy` span of a call records
//!   the context's [`Display`](core::fmt::Display) in its `context` field
//!   (values added with [`scope_shown`] or [`Context::with_shown`]).
//!
//! A task you spawn yourself starts with no context, as with tokio's
//! `task_local!`: take it along with `rt.spawn(Context::current().scope(fut))`.
//!
//! When not to use it: for values a function can take as an argument. A
//! context is for what crosses layers that do not know about it (a request
//! id seen by a log line three crates down).
//!
//! ```
//! use weir_core::context;
//!
//! #[derive(Clone, Debug, PartialEq)]
//! struct RequestId(u64);
//!
//! async fn deep_inside() -> Option<RequestId> {
//!     futures_lite::future::yield_now().await;
//!     context::get::<RequestId>()
//! }
//!
//! let seen = futures_lite::future::block_on(context::scope(RequestId(7), async {
//!     let inner = context::scope(RequestId(8), deep_inside()).await;
//!     (inner, deep_inside().await)
//! }));
//! assert_eq!(seen, (Some(RequestId(8)), Some(RequestId(7))));
//! assert_eq!(context::get::<RequestId>(), None, "nothing outside the scope");
//! ```
//!
//! # Cost
//!
//! With no context set nothing is allocated and no atomic is touched:
//! reading finds an empty slot, and the jobs that capture a context
//! capture `None`. Entering a scope allocates its entry once, at its first
//! poll; each poll then moves the entry into the thread's slot and back.

use core::fmt;
use core::future::Future;
use std::sync::Arc;

mod local;
mod node;
mod scope;

pub use scope::{Scope, Scoped};

use node::{Entry, Link, Show};

/// A snapshot of context values: what [`current`] returns, and what a
/// [`Scoped`] future is polled with. Immutable; cloning it is one
/// reference count.
///
/// ```
/// use weir_core::context::Context;
///
/// #[derive(Clone, Debug, PartialEq)]
/// struct Tenant(&'static str);
///
/// let ctx = Context::new().with(Tenant("acme")).with(3u32);
/// assert_eq!(ctx.get::<Tenant>(), Some(Tenant("acme")));
/// assert_eq!(ctx.get::<u32>(), Some(3));
/// assert_eq!(ctx.get::<u64>(), None);
/// let inside = ctx.enter(|| weir_core::context::get::<Tenant>());
/// assert_eq!(inside, Some(Tenant("acme")));
/// ```
#[derive(Clone, Default)]
pub struct Context {
    head: Option<Link>,
}

impl Context {
    /// The empty context.
    ///
    /// ```
    /// assert!(weir_core::context::Context::new().is_empty());
    /// ```
    pub const fn new() -> Self {
        Context { head: None }
    }

    /// The context of the running code (empty outside any scope).
    ///
    /// ```
    /// use weir_core::context::{self, Context};
    /// assert!(Context::current().is_empty());
    /// let inside = Context::new().with(1u8).enter(Context::current);
    /// assert_eq!(inside.get::<u8>(), Some(1));
    /// ```
    pub fn current() -> Self {
        Context {
            head: local::current(),
        }
    }

    /// This context with `value` added; a value of the same type already
    /// in it is hidden. The value is left out of the context's `Display`
    /// (see [`with_shown`](Self::with_shown)).
    ///
    /// ```
    /// let ctx = weir_core::context::Context::new().with(1u8).with(2u8);
    /// assert_eq!(ctx.get::<u8>(), Some(2));
    /// ```
    pub fn with<T: Send + Sync + 'static>(&self, value: T) -> Self {
        self.clone().push(value, None)
    }

    /// This context with `value` added, written by the context's
    /// `Display` as `Type=value` (and so in the `weir.policy` span's
    /// `context` field, with the feature `tracing`).
    ///
    /// ```
    /// use std::fmt;
    /// struct RequestId(u32);
    /// impl fmt::Display for RequestId {
    ///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { write!(f, "r{}", self.0) }
    /// }
    /// let ctx = weir_core::context::Context::new().with_shown(RequestId(4)).with(0u8);
    /// assert_eq!(ctx.to_string(), "RequestId=r4");
    /// ```
    pub fn with_shown<T: fmt::Display + Send + Sync + 'static>(&self, value: T) -> Self {
        self.clone().push(value, Some(<T as fmt::Display>::fmt))
    }

    pub(crate) fn push<T: Send + Sync + 'static>(self, value: T, show: Option<Show<T>>) -> Self {
        let entry: Link = Arc::new(Entry {
            parent: self.head,
            value,
            show,
        });
        Context { head: Some(entry) }
    }

    /// A clone of the value of type `T`, if any.
    ///
    /// ```
    /// let ctx = weir_core::context::Context::new().with(String::from("abc"));
    /// assert_eq!(ctx.get::<String>().as_deref(), Some("abc"));
    /// ```
    pub fn get<T: Clone + 'static>(&self) -> Option<T> {
        self.get_ref::<T>().cloned()
    }

    /// The value of type `T`, if any, borrowed from this snapshot.
    ///
    /// ```
    /// let ctx = weir_core::context::Context::new().with(vec![1, 2]);
    /// assert_eq!(ctx.get_ref::<Vec<i32>>().map(Vec::len), Some(2));
    /// ```
    pub fn get_ref<T: 'static>(&self) -> Option<&T> {
        node::find::<T>(self.head.as_ref())
    }

    /// Whether it holds no value.
    ///
    /// ```
    /// assert!(!weir_core::context::Context::new().with(()).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// `future`, polled with this context current (exactly this one: it
    /// replaces whatever is current around each poll). This is how a
    /// context captured in one place is set again in another.
    ///
    /// ```
    /// use weir_core::context::{self, Context};
    /// let captured = Context::new().with(11u16);
    /// let out = futures_lite::future::block_on(captured.scope(async { context::get::<u16>() }));
    /// assert_eq!(out, Some(11));
    /// ```
    pub fn scope<F: Future>(self, future: F) -> Scoped<F> {
        Scoped::new(self, future)
    }

    /// Calls `f` with this context current, restoring the previous one
    /// afterwards (also when `f` panics).
    ///
    /// ```
    /// use weir_core::context::{self, Context};
    /// let n = Context::new().with(2u64).enter(|| context::get::<u64>().unwrap() * 21);
    /// assert_eq!(n, 42);
    /// ```
    pub fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = local::enter(self.head.clone());
        f()
    }
}

/// Writes the values added as shown, oldest first, as `Type=value`
/// separated by spaces; values added without a `Display` are left out.
impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(head) = &self.head else {
            return Ok(());
        };
        let mut first = true;
        node::visible_oldest_first(head, head, &mut |n| {
            if !n.is_shown() {
                return Ok(());
            }
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "{}=", n.type_name())?;
            n.show(f)
        })
    }
}

/// Lists the visible values' types, oldest first, and the shown values.
impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Context {")?;
        if let Some(head) = &self.head {
            let mut first = true;
            node::visible_oldest_first(head, head, &mut |n| {
                f.write_str(if first { " " } else { ", " })?;
                first = false;
                f.write_str(n.type_name())?;
                if n.is_shown() {
                    f.write_str(": ")?;
                    n.show(f)?;
                }
                Ok(())
            })?;
            f.write_str(" ")?;
        }
        f.write_str("}")
    }
}

/// The current context (empty outside any scope); see [`Context::current`].
///
/// ```
/// assert!(weir_core::context::current().is_empty());
/// ```
pub fn current() -> Context {
    Context::current()
}

/// A clone of the current value of type `T`, if any.
///
/// ```
/// use weir_core::context;
/// let out = futures_lite::future::block_on(context::scope(5i32, async { context::get::<i32>() }));
/// assert_eq!(out, Some(5));
/// assert_eq!(context::get::<i32>(), None);
/// ```
pub fn get<T: Clone + 'static>() -> Option<T> {
    with(|v: Option<&T>| v.cloned())
}

/// Calls `f` with the current value of type `T`, borrowed (for a value
/// that is costly or impossible to clone).
///
/// ```
/// use weir_core::context;
/// let len = futures_lite::future::block_on(context::scope(vec![0u8; 3], async {
///     context::with(|v: Option<&Vec<u8>>| v.map_or(0, Vec::len))
/// }));
/// assert_eq!(len, 3);
/// ```
pub fn with<T: 'static, R>(f: impl FnOnce(Option<&T>) -> R) -> R {
    // A clone of the chain, so that `f` may enter scopes or read the
    // context itself; with no context there is nothing to clone.
    let head = local::current();
    f(node::find::<T>(head.as_ref()))
}

/// `future`, polled with `value` added to the context that is current at
/// its first poll; see [`Scope`]. Left out of the context's `Display`;
/// for a value to show in traces, see [`scope_shown`].
///
/// ```
/// use weir_core::context;
/// #[derive(Clone, Debug, PartialEq)]
/// struct UserId(u32);
/// let out = futures_lite::future::block_on(context::scope(UserId(1), async {
///     context::get::<UserId>()
/// }));
/// assert_eq!(out, Some(UserId(1)));
/// ```
pub fn scope<T: Send + Sync + 'static, F: Future>(value: T, future: F) -> Scope<T, F> {
    Scope::new(value, None, future)
}

/// [`scope`], with `value` written by the context's `Display` as
/// `Type=value` (and so recorded in the `weir.policy` span of the calls
/// made inside it, with the feature `tracing`).
///
/// ```
/// use weir_core::context;
/// let shown = futures_lite::future::block_on(context::scope_shown(42u32, async {
///     context::current().to_string()
/// }));
/// assert_eq!(shown, "u32=42");
/// ```
pub fn scope_shown<T, F>(value: T, future: F) -> Scope<T, F>
where
    T: fmt::Display + Send + Sync + 'static,
    F: Future,
{
    Scope::new(value, Some(<T as fmt::Display>::fmt), future)
}

#[cfg(test)]
mod tests;
