//! The stage contract and how two stages stack.

use core::future::Future;

use crate::Error;
use crate::Runtime;

/// One stage of a [`Policy`](crate::Policy): it runs `op` (the rest of the
/// pipeline, or the caller's operation at the bottom) zero or more times
/// and shapes the outcome.
///
/// Implemented by weir's stages for every `T` and `E` their configuration
/// allows; the trait is public so that a user's own stage composes with
/// them. `op` is `Fn` so that a stage may call it again (retry, hedge); each
/// call starts a fresh attempt. Stages are `Sync` and their futures `Send`,
/// so a policy call can run as a task on any multi-threaded executor.
///
/// ```
/// use core::future::Future;
/// use weir_core::{Error, policy::Stage};
/// use weir_core::Runtime;
///
/// /// Counts calls that reach it.
/// struct Count(std::sync::atomic::AtomicU64);
///
/// impl<R: Runtime, T, E> Stage<R, T, E> for Count {
///     fn run<'a, Op, Fut>(&'a self, _rt: &'a R, op: &'a Op)
///         -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
///     where
///         Op: Fn() -> Fut + Sync + 'a,
///         Fut: Future<Output = Result<T, Error<E>>> + Send + 'a,
///         T: Send + 'a,
///         E: Send + 'a,
///     {
///         self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
///         op()
///     }
/// }
/// ```
pub trait Stage<R: Runtime, T, E>: Sync {
    /// Runs the call through this stage.
    fn run<'a, Op, Fut>(
        &'a self,
        rt: &'a R,
        op: &'a Op,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Fn() -> Fut + Sync + 'a,
        Fut: Future<Output = Result<T, Error<E>>> + Send + 'a,
        T: Send + 'a,
        E: Send + 'a;
}

/// The empty pipeline: calls the operation once.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bare;

impl<R: Runtime, T, E> Stage<R, T, E> for Bare {
    fn run<'a, Op, Fut>(
        &'a self,
        _rt: &'a R,
        op: &'a Op,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Fn() -> Fut + Sync + 'a,
        Fut: Future<Output = Result<T, Error<E>>> + Send + 'a,
        T: Send + 'a,
        E: Send + 'a,
    {
        op()
    }
}

/// `Outer` wrapped around `Inner`: the stage written first is the outermost.
#[derive(Debug, Clone)]
pub struct Chain<Outer, Inner> {
    pub(crate) outer: Outer,
    pub(crate) inner: Inner,
}

impl<R, T, E, O, I> Stage<R, T, E> for Chain<O, I>
where
    R: Runtime,
    O: Stage<R, T, E>,
    I: Stage<R, T, E>,
{
    fn run<'a, Op, Fut>(
        &'a self,
        rt: &'a R,
        op: &'a Op,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Fn() -> Fut + Sync + 'a,
        Fut: Future<Output = Result<T, Error<E>>> + Send + 'a,
        T: Send + 'a,
        E: Send + 'a,
    {
        let inner = &self.inner;
        async move {
            let rest = move || inner.run(rt, op);
            self.outer.run(rt, &rest).await
        }
    }
}
