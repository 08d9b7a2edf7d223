//! One pipeline for a call: timeout, retry, circuit breaker, rate limit,
//! bulkhead, hedge, fallback and cancellation, composed in the order
//! written.
//!
//! The stage written first is the outermost: in
//! `Policy::new(rt).timeout(t).retry(r).breaker(b)`, the timeout bounds the
//! whole call with its retries, and every attempt asks the breaker. Written
//! `.retry(r).timeout(t)`, the timeout bounds each attempt instead. Each
//! stage is also usable alone, through its own type in `limit` or
//! `resilience`.
//!
//! A call ends with [`Error::Cancelled`] when a [`CancellationToken`]
//! fires: one per call with [`Policy::call_with_cancel`], one per policy
//! with [`Policy::cancel_on`] (see [`CancelStage`]). Dropping a call's
//! future also cancels it, silently.
//!
//! A `Policy` is fully static: its type spells the stages, a call allocates
//! nothing and boxes nothing. Errors come out as one [`Error<E>`] that keeps
//! the caller's `E` intact and names weir's own outcomes.
//!
//! # In which order to stack the stages
//!
//! The order is the behaviour, so it is worth writing on purpose. For a
//! client of a rate-limited, sometimes failing service, outermost first:
//!
//! | stage | why there |
//! |---|---|
//! | 1. [`timeout`](Policy::timeout) (overall) | bounds the whole call: every attempt, every back-off and every wait below. Size it for the longest wait you accept, queueing included. |
//! | 2. [`retry`](Policy::retry) | runs everything below again; each retry is a new attempt through the breaker, the limiter and the bulkhead, so retries are counted against the quota and cannot pile onto a service that is down. |
//! | 3. [`breaker`](Policy::breaker) | fails an attempt fast while the service is down, before it spends a rate-limit slot or a bulkhead permit. |
//! | 4. [`rate_limit`](Policy::rate_limit) | waits for the attempt's slot of the quota (use a [strict](crate::limit::rate::Quota::strict) quota to match a server's window). |
//! | 5. [`bulkhead`](Policy::bulkhead) | holds a concurrency permit only while the request runs, not while it waits for its rate slot. |
//! | 6. [`timeout`](Policy::timeout) (per attempt) | bounds one request, and only the request: a wait above it does not eat into it, and a hung attempt is cut off and retried instead of using up the overall timeout. |
//!
//! Two timeouts, then: the overall one written *before* the retry, the
//! per-attempt one written *after* everything else. A single timeout before
//! the retry (`.timeout(t).retry(r)`) lets one hung attempt use up the
//! whole budget with nothing left to retry; a single timeout after the
//! rate limit but before the bulkhead counts queueing as slowness. A
//! [`hedge`](Policy::hedge) goes where the per-attempt timeout's
//! neighbourhood is (inside the retry, around the request); a
//! [`fallback`](Policy::fallback) goes outermost, to see the final
//! outcome.
//!
//! ```
//! # #[cfg(feature = "test-util")] {
//! use std::time::Duration;
//! use weir_core::{Bulkhead, CircuitBreaker, Policy, Quota, RateLimiter, Retry};
//! use weir_core::test_util::VirtualRuntime;
//!
//! let rt = VirtualRuntime::new();
//! // A server that allows 20 requests in any second, with 2 % headroom.
//! let quota = Quota::new(20, Duration::from_millis(1_020)).strict();
//! let rate = RateLimiter::builder().quota(quota).build(rt.clone()).unwrap();
//! let bulkhead = Bulkhead::builder().max_concurrent(8).build(rt.clone()).unwrap();
//! let breaker = CircuitBreaker::builder().build(rt.clone()).unwrap();
//! let retry = Retry::exponential(Duration::from_millis(100))
//!     .max_attempts(5)
//!     .jitter_full()
//!     .build()
//!     .unwrap();
//!
//! let policy = Policy::new(rt.clone())
//!     .timeout(Duration::from_secs(60)) // the whole call
//!     .retry(retry)
//!     .breaker(breaker)
//!     .rate_limit(rate)
//!     .bulkhead(bulkhead)
//!     .timeout(Duration::from_secs(5)); // each attempt
//! let reply = rt.block_on(policy.call(|| async { Ok::<_, std::io::Error>("pong") }));
//! assert_eq!(reply.unwrap(), "pong");
//! # }
//! ```
//!
//! The retry hook ([`RetryBuilder::on_retry`](crate::resilience::RetryBuilder::on_retry))
//! is told why each attempt is retried ([`RetryCause`](crate::resilience::RetryCause)):
//! the caller's error, or which stage below refused or cut it off.
//!
//! # Which outcomes a retry retries
//!
//! One rule, for the [`RetryStage`] (written with [`Policy::retry`]); the
//! retry's `retry_if` is the one place to change it.
//!
//! | outcome of an attempt | retried by default | waited for before the retry |
//! |---|---|---|
//! | `Ok(v)` | only if `retry_on_value` accepts `v` | the backoff delay |
//! | [`Error::Inner`] (the caller's error) | yes (`AnyError`) | its hint, if the retry has a hint source (`honor_retry_after`, `retry_after_with`), else the backoff delay |
//! | [`Error::Timeout`] (a timeout stage inside the retry) | yes | the backoff delay |
//! | [`Error::RateLimited`] | yes | its `retry_after` |
//! | [`Error::CircuitOpen`] | yes, unless forced open (`remaining == Duration::MAX`) | its `remaining` |
//! | [`Error::Rejected`] (bulkhead) | yes | the backoff delay |
//! | [`Error::Cancelled`], [`Error::Closed`] | never, whatever the filter says | — |
//!
//! The default column is [`Error::retried_by_default`]. A filter written
//! `retry_if(|e: &E| ..)` decides the caller's errors and keeps the default
//! for weir's outcomes; a filter written `retry_if(OnOutcome(|e: &Error<E>| ..))`
//! decides every outcome but the two final ones (see [`OnOutcome`]). Every
//! retry is also bounded by the retry's attempts, deadline and budget.
//!
//! A hint (`retry_after`, `remaining`, the caller's) is waited for plus a
//! random part of up to `retry_after_jitter` of it (default 20 %), so that
//! callers refused together come back apart; a hint longer than
//! `max_retry_after` (default 30 s) is not waited for at all: the attempt's
//! error is returned at once (see
//! [`RetryBuilder::max_retry_after`](crate::resilience::RetryBuilder::max_retry_after)).
//! With every default, a breaker that has just opened (60 s) or whose
//! probes are all out (half-open timeout 60 s) is therefore returned as
//! [`Error::CircuitOpen`] at once, while its last 30 s are waited out.

// Stage impls spell out `impl Future + Send + 'a` so that every stage's
// signature matches the trait's word for word; `async fn` would hide the
// Send promise the trait makes.
#![allow(clippy::manual_async_fn)]

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
    /// let l = weir_core::RateLimiter::builder().quota(weir_core::Quota::new(5, Duration::from_secs(1))).build(rt.clone()).unwrap();
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
    /// let l = weir_core::RateLimiter::builder().quota(weir_core::Quota::new(5, Duration::from_secs(1))).build(rt.clone()).unwrap();
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
