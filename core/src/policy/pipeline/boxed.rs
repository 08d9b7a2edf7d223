//! A policy whose type names only the runtime and the call's `T` and `E`,
//! for a struct field or a collection of pipelines built differently.
//!
//! The concrete [`Policy`] spells every stage in its type (and a retry
//! filter written as a closure has no name at all), so it cannot be written
//! down; [`Policy::boxed`] hides the stages behind one pointer. The price is
//! the hot path's promise: a boxed call allocates its pipeline future once
//! and each attempt's future once (the concrete policy allocates nothing).

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use std::sync::Arc;

use super::Policy;
use crate::policy::Stage;
use crate::{Error, Runtime};

/// A future a boxed pipeline hands around: sendable, erased.
type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a boxed policy keeps of the concrete one: a call through erased
/// attempts, so that the stages' generic `run` can sit behind a `dyn`. An
/// attempt's future (`'f`) outlives the borrow of the attempt maker (`'a`).
trait ErasedPolicy<T, E>: Send + Sync {
    fn call_erased<'a, 'f: 'a>(
        &'a self,
        attempt: &'a (dyn Fn() -> BoxFuture<'f, Result<T, Error<E>>> + Sync + 'a),
    ) -> BoxFuture<'a, Result<T, Error<E>>>;
}

impl<R, L, T, E> ErasedPolicy<T, E> for Policy<R, L>
where
    R: Runtime,
    L: Stage<R, T, E> + Send + Sync,
    T: Send,
    E: Send,
{
    fn call_erased<'a, 'f: 'a>(
        &'a self,
        attempt: &'a (dyn Fn() -> BoxFuture<'f, Result<T, Error<E>>> + Sync + 'a),
    ) -> BoxFuture<'a, Result<T, Error<E>>> {
        Box::pin(self.obs.call(async move {
            // A sized closure over the erased one: `Stage::run` takes `Op`
            // by reference and `Op` must be `Sized`.
            let op = move || attempt();
            self.stages.run(&self.rt, &op).await
        }))
    }
}

/// A [`Policy`] with its stages erased: `BoxPolicy<R, T, E>` can be the type
/// of a struct field. Made by [`Policy::boxed`]; cheap to clone (one `Arc`),
/// and clones share the stages (the same breaker, limiter and bulkhead).
///
/// Each call allocates twice or more (the pipeline's future and one per
/// attempt); use the concrete [`Policy`] where that matters.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::policy::BoxPolicy;
/// use weir_core::test_util::VirtualRuntime;
/// use weir_core::{Policy, Retry};
///
/// struct Client {
///     policy: BoxPolicy<VirtualRuntime, u32, std::io::Error>,
/// }
///
/// let rt = VirtualRuntime::new();
/// let retry = Retry::constant(Duration::from_millis(10)).max_attempts(3)
///     .retry_if(|e: &std::io::Error| e.kind() == std::io::ErrorKind::TimedOut)
///     .build()
///     .unwrap();
/// let client = Client {
///     policy: Policy::new(rt.clone()).timeout(Duration::from_secs(1)).retry(retry).boxed(),
/// };
/// let tries = std::sync::atomic::AtomicU32::new(0);
/// let out = rt.block_on(client.policy.call(|| {
///     let n = tries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
///     async move {
///         if n < 2 { Err(std::io::ErrorKind::TimedOut.into()) } else { Ok(n) }
///     }
/// }));
/// assert_eq!(out.unwrap(), 2);
/// assert_eq!(rt.elapsed(), Duration::from_millis(20));
/// # }
/// ```
pub struct BoxPolicy<R, T, E> {
    inner: Arc<dyn ErasedPolicy<T, E>>,
    rt: R,
}

impl<R: Runtime, L> Policy<R, L> {
    /// Erases the stages' types: the pipeline becomes a
    /// [`BoxPolicy<R, T, E>`] for calls that succeed with `T` and fail with
    /// `E`. Behaviour is unchanged; see [`BoxPolicy`] for the cost.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::Policy;
    /// use weir_core::policy::BoxPolicy;
    /// use weir_core::test_util::VirtualRuntime;
    /// let rt = VirtualRuntime::new();
    /// let p: BoxPolicy<VirtualRuntime, u8, ()> = Policy::new(rt.clone()).boxed();
    /// assert_eq!(rt.block_on(p.call(|| async { Ok(1) })), Ok(1));
    /// # }
    /// ```
    pub fn boxed<T, E>(self) -> BoxPolicy<R, T, E>
    where
        L: Stage<R, T, E> + Send + Sync + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        BoxPolicy {
            rt: self.rt.clone(),
            inner: Arc::new(self),
        }
    }
}

impl<R: Runtime, T, E> BoxPolicy<R, T, E> {
    /// Runs `op` through the pipeline, as [`Policy::call`] does.
    ///
    /// # Errors
    ///
    /// [`Error::Inner`] with the operation's own error, or the weir outcome
    /// that ended the call.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let p = weir_core::Policy::new(rt.clone()).boxed::<(), &str>();
    /// let out = rt.block_on(p.call(|| async { Err("no") }));
    /// assert_eq!(out, Err(weir_core::Error::Inner("no")));
    /// # }
    /// ```
    pub fn call<'a, F, Fut>(
        &'a self,
        op: F,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        F: Fn() -> Fut + Send + Sync + 'a,
        Fut: Future<Output = Result<T, E>> + Send + 'a,
        T: Send + 'a,
        E: Send + 'a,
    {
        async move {
            let attempt: &(dyn Fn() -> BoxFuture<'a, Result<T, Error<E>>> + Sync) = &|| {
                let fut = op();
                Box::pin(async move { fut.await.map_err(Error::Inner) })
            };
            self.inner.call_erased(attempt).await
        }
    }

    /// The runtime the pipeline sleeps and measures on.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let p = weir_core::Policy::new(rt).boxed::<(), ()>();
    /// let _ = p.runtime();
    /// # }
    /// ```
    pub fn runtime(&self) -> &R {
        &self.rt
    }
}

impl<R: Clone, T, E> Clone for BoxPolicy<R, T, E> {
    fn clone(&self) -> Self {
        BoxPolicy {
            inner: Arc::clone(&self.inner),
            rt: self.rt.clone(),
        }
    }
}

// The stages may hold closures (a retry filter), which have no `Debug`:
// only the runtime is shown.
impl<R: fmt::Debug, T, E> fmt::Debug for BoxPolicy<R, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoxPolicy")
            .field("runtime", &self.rt)
            .finish_non_exhaustive()
    }
}
