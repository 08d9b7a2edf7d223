//! The pipeline: [`Policy`] and the order its stages run in.

mod boxed;

pub use boxed::BoxPolicy;

use core::fmt;
use core::future::Future;
use std::borrow::Cow;
use std::time::Duration;

use super::{
    Bare, BreakerStage, BulkheadStage, CancelStage, Chain, FallbackStage, HedgeStage,
    RateLimitStage, RateMode, RetryStage, Stage, TimeoutStage,
};
use crate::CancellationToken;
use crate::Error;
use crate::Runtime;
use crate::limit::Clock;
use crate::obs::Name;
use crate::obs::policy::PolicyObs;
use crate::obs::timeout::TimeoutObs;
use crate::{Bulkhead, RateLimiter};
use crate::{CircuitBreaker, Hedge, Retry};

/// A pipeline of stages around a call; see the [module docs](crate::policy).
///
/// Cheap to share by reference across tasks (`&Policy` is all `call`
/// needs); the components inside are themselves shareable handles, so the
/// same breaker or limiter may serve several policies.
#[derive(Clone)]
pub struct Policy<R: Runtime, L = Bare> {
    rt: R,
    stages: L,
    obs: PolicyObs,
}

impl<R: Runtime> Policy<R> {
    /// An empty pipeline on `rt`: calls go straight through.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let policy = weir_core::Policy::new(rt.clone());
    /// assert_eq!(rt.block_on(policy.call(|| async { Ok::<_, ()>(1) })), Ok(1));
    /// # }
    /// ```
    pub fn new(rt: R) -> Self {
        Policy {
            rt,
            stages: Bare,
            obs: PolicyObs::new(Name::default()),
        }
    }
}

impl<R: Runtime, L> Policy<R, L> {
    /// Names the pipeline in its tracing span (`weir.policy`) and its
    /// metric labels (the `name` label; see [`obs`](crate::obs)). Default:
    /// `"default"`. Name it first: a [`timeout`](Self::timeout) stage takes
    /// the name the policy has when it is added, and a policy with no stage
    /// reports no metrics.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let p = weir_core::Policy::new(rt).name("search");
    /// # drop(p);
    /// # }
    /// ```
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.obs = self.obs.renamed(Name::new(name));
        self
    }

    /// Adds `stage` inside the stages written so far.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::{Policy, policy::TimeoutStage};
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let p = Policy::new(rt).timeout(std::time::Duration::from_secs(1));
    /// # drop(p);
    /// # }
    /// ```
    pub fn stage<N>(self, stage: N) -> Policy<R, Chain<L, N>> {
        Policy {
            rt: self.rt,
            obs: self.obs.registered(),
            stages: Chain {
                outer: self.stages,
                inner: stage,
            },
        }
    }

    /// Ends what runs inside with [`Error::Cancelled`] as soon as `token`
    /// is cancelled, whatever it waits on; see [`CancelStage`]. Written
    /// first, it covers the whole call (a shutdown token for every call of
    /// this policy); for a token per call, see
    /// [`call_with_cancel`](Self::call_with_cancel).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::CancellationToken;
    /// use weir_core::{Error, Policy};
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let shutdown = CancellationToken::new();
    /// let p = Policy::new(rt.clone()).cancel_on(shutdown.clone());
    /// shutdown.cancel();
    /// assert_eq!(rt.block_on(p.call(|| async { Ok::<_, ()>(1) })), Err(Error::Cancelled));
    /// # }
    /// ```
    pub fn cancel_on(self, token: CancellationToken) -> Policy<R, Chain<L, CancelStage>> {
        self.stage(CancelStage { token })
    }

    /// Drops what runs inside after `duration` with [`Error::Timeout`].
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let p = weir_core::Policy::new(rt).timeout(std::time::Duration::from_secs(1));
    /// # drop(p);
    /// # }
    /// ```
    pub fn timeout(self, duration: Duration) -> Policy<R, Chain<L, TimeoutStage>> {
        let obs = TimeoutObs::new(self.obs.name().clone());
        self.stage(TimeoutStage { duration, obs })
    }

    /// Runs what is inside again while `retry` allows; which outcomes it
    /// retries is [the rule above](crate::policy#which-outcomes-a-retry-retries).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let retry = weir_core::Retry::constant(std::time::Duration::from_millis(5)).build().unwrap();
    /// let p = weir_core::Policy::new(rt).retry(retry);
    /// # drop(p);
    /// # }
    /// ```
    #[allow(clippy::type_complexity)] // the type names the stages, by design
    pub fn retry<P, V, H, N>(
        self,
        retry: Retry<P, V, H, N>,
    ) -> Policy<R, Chain<L, RetryStage<P, V, H, N>>> {
        self.stage(RetryStage { retry })
    }

    /// Asks `breaker` before each call reaching it; see [`BreakerStage`].
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::CircuitBreaker::builder().build(rt.clone()).unwrap();
    /// let p = weir_core::Policy::new(rt).breaker(b);
    /// # drop(p);
    /// # }
    /// ```
    pub fn breaker<C>(
        self,
        breaker: CircuitBreaker<R, C>,
    ) -> Policy<R, Chain<L, BreakerStage<R, C>>> {
        self.stage(BreakerStage { breaker })
    }

    /// Waits for `limiter`'s slot before each call reaching it.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::RateLimiter::builder().rate(5, Duration::from_secs(1)).build(rt.clone()).unwrap();
    /// let p = weir_core::Policy::new(rt).rate_limit(l);
    /// # drop(p);
    /// # }
    /// ```
    pub fn rate_limit<C: Clock>(
        self,
        limiter: RateLimiter<R, C>,
    ) -> Policy<R, Chain<L, RateLimitStage<R, C>>> {
        self.stage(RateLimitStage {
            limiter,
            mode: RateMode::Wait,
        })
    }

    /// Fails a call that does not conform now with
    /// [`Error::RateLimited`] instead of waiting.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::RateLimiter::builder().rate(5, Duration::from_secs(1)).build(rt.clone()).unwrap();
    /// let p = weir_core::Policy::new(rt).rate_limit_or_reject(l);
    /// # drop(p);
    /// # }
    /// ```
    pub fn rate_limit_or_reject<C: Clock>(
        self,
        limiter: RateLimiter<R, C>,
    ) -> Policy<R, Chain<L, RateLimitStage<R, C>>> {
        self.stage(RateLimitStage {
            limiter,
            mode: RateMode::Reject,
        })
    }

    /// Holds a `bulkhead` permit while what is inside runs.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::Bulkhead::builder().max_concurrent(2).build(rt.clone()).unwrap();
    /// let p = weir_core::Policy::new(rt).bulkhead(b);
    /// # drop(p);
    /// # }
    /// ```
    pub fn bulkhead(self, bulkhead: Bulkhead<R>) -> Policy<R, Chain<L, BulkheadStage<R>>> {
        self.stage(BulkheadStage { bulkhead })
    }

    /// Starts another run of what is inside when it is slow and keeps the
    /// first success; see [`HedgeStage`].
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let h = weir_core::Hedge::fixed(std::time::Duration::from_millis(30)).build().unwrap();
    /// let p = weir_core::Policy::new(rt).hedge(h);
    /// # drop(p);
    /// # }
    /// ```
    pub fn hedge(self, hedge: Hedge) -> Policy<R, Chain<L, HedgeStage>> {
        self.stage(HedgeStage { hedge })
    }

    /// Replaces a failure by what `f` makes of it; see [`FallbackStage`].
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::{Error, Policy};
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let p = Policy::new(rt).fallback(|_: Error<()>| Ok::<u8, Error<()>>(0));
    /// # drop(p);
    /// # }
    /// ```
    pub fn fallback<F>(self, f: F) -> Policy<R, Chain<L, FallbackStage<F>>> {
        self.stage(FallbackStage { f })
    }

    /// Runs `op` through the pipeline. `op` makes one attempt each time it
    /// is called; a stage that retries calls it again.
    ///
    /// # Errors
    ///
    /// [`Error::Inner`] with the operation's own error, or the weir outcome
    /// that ended the call.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let policy = weir_core::Policy::new(rt.clone());
    /// let out = rt.block_on(policy.call(|| async { Err::<(), _>("no") }));
    /// assert_eq!(out, Err(weir_core::Error::Inner("no")));
    /// # }
    /// ```
    pub fn call<'a, T, E, F, Fut>(
        &'a self,
        op: F,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        L: Stage<R, T, E> + Sync,
        F: Fn() -> Fut + Send + Sync + 'a,
        Fut: Future<Output = Result<T, E>> + Send + 'a,
        T: Send + 'a,
        E: Send + 'a,
    {
        self.obs.call(async move {
            let attempt = || async { op().await.map_err(Error::Inner) };
            self.stages.run(&self.rt, &attempt).await
        })
    }

    /// [`call`](Self::call), ended with [`Error::Cancelled`] the moment
    /// `token` is cancelled: the whole pipeline is dropped then, wherever
    /// it waits (an attempt, a back-off sleep, a rate-limit wait, a bulkhead
    /// queue), and every stage gives back what it held. A token already
    /// cancelled makes no attempt. Cancellation is never retried.
    ///
    /// The rule is the [`CancelStage`]'s, written outermost for this call
    /// only. (Dropping a policy call's future cancels it too, without a
    /// token, but then nobody sees an outcome.)
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call), plus [`Error::Cancelled`].
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_core::CancellationToken;
    /// use weir_core::{Error, Policy};
    /// use weir_core::{Runtime, test_util::VirtualRuntime};
    ///
    /// let rt = VirtualRuntime::new();
    /// let policy = Policy::new(rt.clone()).timeout(Duration::from_secs(30));
    /// let request = CancellationToken::new();
    /// request.cancel_at(&rt, rt.now() + Duration::from_secs(2));
    /// let r2 = rt.clone();
    /// let out = rt.block_on(policy.call_with_cancel(&request, || {
    ///     let r2 = r2.clone();
    ///     async move { r2.sleep(Duration::from_secs(10)).await; Ok::<_, ()>(()) }
    /// }));
    /// assert_eq!(out, Err(Error::Cancelled));
    /// assert_eq!(rt.elapsed(), Duration::from_secs(2));
    /// # }
    /// ```
    pub fn call_with_cancel<'a, T, E, F, Fut>(
        &'a self,
        token: &'a CancellationToken,
        op: F,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        L: Stage<R, T, E> + Sync,
        F: Fn() -> Fut + Send + Sync + 'a,
        Fut: Future<Output = Result<T, E>> + Send + 'a,
        T: Send + 'a,
        E: Send + 'a,
    {
        super::cancel::Cancellable::new(token, move || self.call(op))
    }

    /// The runtime the pipeline sleeps and measures on.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let policy = weir_core::Policy::new(rt);
    /// let _ = policy.runtime();
    /// # }
    /// ```
    pub fn runtime(&self) -> &R {
        &self.rt
    }
}

impl<R: Runtime, L: fmt::Debug> fmt::Debug for Policy<R, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("runtime", &self.rt)
            .field("stages", &self.stages)
            .finish()
    }
}
